"""Money, dates and times the way a Dutch (or English) reader expects them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from koppel_contracts import round_cents

ZONE = ZoneInfo("Europe/Amsterdam")
SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}
MONTHS = {
    "nl": "jan feb mrt apr mei jun jul aug sep okt nov dec".split(),
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
}
SYSTEMS = {
    "octopus": "Octopus",
    "snelstart": "SnelStart",
    "asperion": "Asperion",
    "ccvshop": "CCV Shop",
    "prestashop": "PrestaShop",
    "bol": "Bol.com",
    "koppel": "Koppel",
}


def money(amount: Decimal | str | int | None, currency: str = "EUR", lang: str = "nl") -> str:
    """`€ 1.234,56` (nl) or `€1,234.56` (en); half-up to cents; '–' for no amount."""
    if amount is None:
        return "–"
    value = round_cents(Decimal(str(amount)))
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    grouped = f"{int(whole):,}"
    symbol = SYMBOLS.get(currency, currency + " ")
    if lang == "nl":
        return f"{symbol} {sign}{grouped.replace(',', '.')},{cents}".replace("  ", " ")
    return f"{sign}{symbol}{grouped}.{cents}"


def day(value: date | str | None, lang: str = "nl") -> str:
    if value is None:
        return "–"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.day} {MONTHS[lang][value.month - 1]} {value.year}"


def moment(value: datetime | None, lang: str = "nl") -> str:
    """Date and time in Amsterdam, to the second (timelines need the order of events)."""
    if value is None:
        return "–"
    local = value.astimezone(ZONE)
    return f"{day(local.date(), lang)} {local:%H:%M:%S}"


def rate(value: str | Decimal) -> str:
    return f"{value}%"


def system_name(code: str | None) -> str:
    return SYSTEMS.get(code or "", code or "")

"""Mail text: Jinja2 templates per language, Dutch-style money and dates.

Templates live in `templates/<language>/` (subject, body, one item). They get
the notifications of one mail plus `money(...)` and `date(...)` helpers bound
to the mail's language, so `€ 1.234,56` / `20 november 2026` in Dutch and
`€1,234.56` / `20 November 2026` in English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from koppel_contracts import Language, round_cents

MONTHS = {
    Language.NL: (
        "januari februari maart april mei juni juli augustus september oktober november december"
    ).split(),
    Language.EN: (
        "January February March April May June July August September October November December"
    ).split(),
}

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£"}

SYSTEM_NAMES = {
    "octopus": "Octopus",
    "snelstart": "SnelStart",
    "asperion": "Asperion",
    "ccvshop": "CCV Shop",
    "prestashop": "PrestaShop",
    "bol": "Bol.com",
    "koppel": "Koppel",
}


def format_money(amount: Decimal | str | int, currency: str = "EUR", language: str = "nl") -> str:
    """`€ 1.234,56` (nl) or `€1,234.56` (en); rounded half-up to cents; minus before the digits."""
    value = round_cents(Decimal(str(amount)))
    sign = "-" if value < 0 else ""
    whole, cents = f"{abs(value):.2f}".split(".")
    grouped = f"{int(whole):,}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    if Language(language) is Language.NL:
        number = f"{sign}{grouped.replace(',', '.')},{cents}"
        return f"{symbol or currency} {number}"
    number = f"{grouped}.{cents}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}"


def format_date(value: date | str, language: str = "nl") -> str:
    """`20 november 2026` (nl) or `20 November 2026` (en)."""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day.day} {MONTHS[Language(language)][day.month - 1]} {day.year}"


def system_name(code: str | None) -> str:
    return SYSTEM_NAMES.get(code or "", code or "")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


def _view(item: dict[str, Any]) -> dict[str, Any]:
    """Fields the templates need that are easier computed than written in Jinja."""
    view = dict(item)
    view.setdefault("order", None)
    view.setdefault("order_ref", None)
    view["system"] = system_name(item.get("source_system"))
    if item["kind"] == "mismatch":
        booked, expected = Decimal(item["booked_total"]), Decimal(item["expected_total"])
        view["difference_abs"] = abs(booked - expected)
        view["booked_higher"] = booked > expected
        view["document"] = item.get("document_number") or item.get("booking_id")
        view["customer_differs"] = bool(
            item.get("expected_customer")
            and item.get("booked_customer")
            and item["expected_customer"] != item["booked_customer"]
        )
    return view


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("koppel_notifier", "templates"),
            undefined=StrictUndefined,
            autoescape=False,  # plain-text mail: nothing is HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(
        self,
        *,
        language: str,
        merchant_name: str,
        connection_id: str,
        items: Sequence[dict[str, Any]],
        digest: bool,
        today: date,
    ) -> RenderedMail:
        lang = Language(language)
        views = [_view(i) for i in items]
        context = {
            "merchant_name": merchant_name,
            "connection_id": connection_id,
            "items": views,
            "count": len(views),
            "digest": digest,
            "today": today,
            "broken": [v for v in views if v["kind"] == "connection_broken"],
            "money": partial(format_money, language=lang),
            "date": partial(format_date, language=lang),
        }
        subject = self.env.get_template(f"{lang}/subject.txt.j2").render(context)
        body = self.env.get_template(f"{lang}/body.txt.j2").render(context)
        # One line, no header injection whatever an order number contains.
        return RenderedMail(subject=" ".join(subject.split()), body=body)

"""Mail text: Jinja2 templates, Dutch-style money and dates.

Every sentence is a macro in `templates/<language>/_texts.j2`; the layouts
`templates/mail.txt.j2` (plain text) and `templates/mail.html.j2` (HTML, autoescaped)
arrange the same sentences, so the two parts of a mail say the same thing and a
wording is changed in one place. The templates get the notifications of one mail
plus `money(...)`, `date(...)` and `percent(...)` helpers bound to the mail's
language, so `€ 1.234,56` / `20 november 2026` / `5,5%` in Dutch and `€1,234.56` /
`20 November 2026` / `5.5%` in English, and links into the merchant dashboard.
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

from .views import CONNECTION_RESTORED, connection_link, item_view

MONTHS = {
    Language.NL: (
        "januari februari maart april mei juni juli augustus september oktober november december"
    ).split(),
    Language.EN: (
        "January February March April May June July August September October November December"
    ).split(),
}

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£"}


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


def format_rate(rate: Decimal | str | int, language: str = "nl") -> str:
    """`21%`, `5,5%` (nl) or `5.5%` (en)."""
    text = format(Decimal(str(rate)).normalize(), "f")
    return f"{text.replace('.', ',') if Language(language) is Language.NL else text}%"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str
    html: str


def _environment(*, html: bool) -> Environment:
    return Environment(
        loader=PackageLoader("koppel_notifier", "templates"),
        undefined=StrictUndefined,
        autoescape=html,  # the HTML part escapes every value; the text part has nothing to escape
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


class Renderer:
    def __init__(self, dashboard_url: str = "http://127.0.0.1:8300") -> None:
        self.dashboard_url = dashboard_url.rstrip("/")
        self.text_env = _environment(html=False)
        self.html_env = _environment(html=True)

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
        views = [
            item_view(i, dashboard_url=self.dashboard_url, connection_id=connection_id)
            for i in items
        ]
        context = {
            "language": str(lang),
            "merchant_name": merchant_name,
            "connection_id": connection_id,
            "connection_link": connection_link(self.dashboard_url, connection_id),
            "items": views,
            "count": len(views),
            "digest": digest,
            "today": today,
            "broken": [v for v in views if v["kind"] == "connection_broken"],
            # A mail that only says "it works again" is the short one, not a list.
            "only_restored": bool(views)
            and not digest
            and all(v["kind"] == CONNECTION_RESTORED for v in views),
            "money": partial(format_money, language=lang),
            "date": partial(format_date, language=lang),
            "percent": partial(format_rate, language=lang),
        }
        # One line, no header injection whatever an order number contains.
        subject = " ".join(self.text_env.get_template("subject.txt.j2").render(context).split())
        body = self.text_env.get_template("mail.txt.j2").render(context)
        html = self.html_env.get_template("mail.html.j2").render(context | {"subject": subject})
        return RenderedMail(subject=subject, body=body, html=html)

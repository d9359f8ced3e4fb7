"""A booking plan as a SnelStart verkoopboeking, and a verkoopboeking read back.

A verkoopboeking (notes §6) has revenue lines **excluding VAT** (`boekingsregels`: ledger
account, amount, VAT kind), the VAT to remit per kind (`btw`: `VerkopenHoog`, …) and the
invoice total (`factuurbedrag`); SnelStart checks that lines + VAT = total exactly
(BOE-0039). Koppel books the plan's lines and, per kind, the VAT the shop charged — so the
booking, the customer's invoice and the VAT return agree; no rounding line is needed.

OSS (notes §6.4): lines on the OSS revenue accounts with kind `Geen`, the foreign VAT as
ordinary lines on the administration's foreign-VAT account, `btw` empty.

A credit note is the same booking negated. `omschrijving` names the order ("Order WEB-1042
(ccvshop)"); reading a booking back, that is how Koppel recognises its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from koppel_contracts import Language
from koppel_ledger import LedgerDoc, Op, ReadBack

from .reference import REMITTED_AS, vat_percentage

_OURS = re.compile(r"^(?:Creditnota order|Credit note order|Order) (.+) \((?:[^()]*)\)$")


@dataclass(frozen=True)
class Accounts:
    """Ledger account ids by number (from the cache), and the foreign-VAT account."""

    ids: dict[str, str]
    foreign_vat: str | None = None


def description(doc: LedgerDoc, shop: str, language: Language) -> str:
    if doc.op == Op.CREDIT:
        what = "Creditnota order" if language == Language.NL else "Credit note order"
    else:
        what = "Order"
    return f"{what} {doc.reference} ({shop})"[:250]


def booking_body(
    doc: LedgerDoc,
    accounts: Accounts,
    *,
    shop: str,
    language: Language,
    term_days: int,
    oss: bool,
) -> dict[str, Any]:
    sign = Decimal(-1) if doc.op == Op.CREDIT else Decimal(1)
    day = date.fromisoformat(doc.placement["day"])
    lines: list[dict[str, Any]] = []
    vat_per_kind: dict[str, Decimal] = {}
    foreign: dict[Decimal, Decimal] = {}
    for line in doc.plan.bookable_lines():
        if line.amount_excl_vat:
            lines.append(
                {
                    "grootboek": {"id": accounts.ids[line.ledger_account]},
                    "bedrag": line.amount_excl_vat * sign,
                    "btwSoort": "Geen" if oss else line.vat_code,
                    "omschrijving": line.description[:250],
                }
            )
        if oss:
            foreign[line.vat_rate] = foreign.get(line.vat_rate, Decimal(0)) + line.vat_amount
        elif line.vat_code in REMITTED_AS:
            kind = REMITTED_AS[line.vat_code]
            vat_per_kind[kind] = vat_per_kind.get(kind, Decimal(0)) + line.vat_amount
    for rate, vat in sorted(foreign.items(), reverse=True):
        if vat:
            assert accounts.foreign_vat is not None
            lines.append(
                {
                    "grootboek": {"id": accounts.foreign_vat},
                    "bedrag": vat * sign,
                    "btwSoort": "Geen",
                    "omschrijving": f"Btw {doc.placement.get('country', '')} {_pct(rate)}%",
                }
            )
    return {
        "factuurnummer": doc.number,
        "klant": {"id": doc.debtor.id},
        "factuurdatum": f"{day.isoformat()}T00:00:00",
        "omschrijving": description(doc, shop, language),
        "factuurbedrag": doc.plan.total_incl_vat * sign,
        "betalingstermijn": term_days,
        "boekingsregels": lines,
        "btw": [
            {"btwSoort": kind, "btwBedrag": vat * sign} for kind, vat in vat_per_kind.items() if vat
        ],
    }


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def order_number_of(omschrijving: str) -> str:
    """The order number in a booking Koppel made ("" for anyone else's)."""
    found = _OURS.match(omschrijving or "")
    return found.group(1) if found else ""


def read_booking(
    data: dict[str, Any], rates: list[dict[str, Any]], foreign_vat_account: str | None = None
) -> ReadBack:
    """A verkoopboeking as the check compares it. VAT per rate from `btw` (each kind's
    percentage on the invoice date); None for OSS bookings, whose foreign VAT is in lines on
    the foreign-VAT account (their rate is not stated anywhere SnelStart keeps)."""
    total = Decimal(str(data.get("factuurbedrag") or 0))
    day = datetime.fromisoformat(str(data.get("factuurdatum"))).date()
    vat_per_rate: dict[Decimal, Decimal] | None = {}
    remitted = {v: k for k, v in REMITTED_AS.items()}
    for entry in data.get("btw") or []:
        kind = remitted.get(str(entry.get("btwSoort")))
        rate = vat_percentage(rates, kind, day) if kind else None
        if rate is None:
            vat_per_rate = None
            break
        amount = Decimal(str(entry.get("btwBedrag") or 0))
        vat_per_rate[rate] = vat_per_rate.get(rate, Decimal(0)) + amount
    lines = data.get("boekingsregels") or []
    on_foreign = any(
        str((r.get("grootboek") or {}).get("id")) == foreign_vat_account for r in lines
    )
    if foreign_vat_account is not None and on_foreign:
        vat_per_rate = None
    elif vat_per_rate is not None and not data.get("btw"):
        # Nothing remitted: a 0 % booking (all lines `Geen`).
        kinds = {str(r.get("btwSoort")) for r in lines}
        vat_per_rate = {Decimal(0): Decimal(0)} if kinds <= {"Geen"} else None
    klant = data.get("klant") or {}
    return ReadBack(
        number=str(data.get("factuurnummer") or ""),
        reference=order_number_of(str(data.get("omschrijving") or "")),
        credit=total < 0,
        total_incl_vat=total,
        vat_per_rate=vat_per_rate,
        debtor_id=str(klant["id"]) if klant.get("id") else None,
        ledger_id=str(data["id"]) if data.get("id") else None,
    )

"""A booking plan (koppel_bookkeeping) as Octopus JSON, and Octopus documents read back.

Two shapes, chosen per connection (`mapping.booking_mode`):

- `invoice` — a **concept sales invoice** in Octopus' invoicing module
  (`POST /invoices`, flat body): one invoice line per plan line, `count` 1 and
  `unitPrice` the line's amount excl. VAT on the mapped revenue account and VAT
  code. Octopus computes the VAT itself (per line, half-up), which is why the
  post-booking check compares what Octopus stored with the order. A credit
  note is the same invoice with `count` -1 (notes §7).
- `financial` — a **financial mutation** (`POST /financialdiversbookings`,
  wrapped) on a financial journal: a customer line (`C`) debiting the debtor
  with the order total, and account lines (`A`) crediting revenue per plan
  line and VAT on the VAT account. Lines balance to zero; debit is positive.
  A credit is the same booking negated.

The order number is the document's `reference`. Amounts stay Decimal all the way
into the JSON text (see `jsonnum`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from koppel_contracts import CanonicalOrder

from .debtors import Debtor
from .jsonnum import as_decimal
from .reference import Placement

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
LEDGER_ZONE = ZoneInfo("Europe/Amsterdam")


class PlanLine(Protocol):
    kind: Any
    description: str
    vat_rate: Decimal
    ledger_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal


class Plan(Protocol):
    lines: Any
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Header:
    """Everything about the document that is not its lines."""

    placement: Placement
    journal: str
    document_nr: int
    debtor: Debtor
    document_date: date
    reference: str
    comment: str
    currency: str = "EUR"


def document_date(order: CanonicalOrder) -> date:
    """The invoice date: the day the order was placed, in the Netherlands."""
    return order.placed_at.astimezone(LEDGER_ZONE).date()


def bookable_lines(plan: Plan) -> list[PlanLine]:
    """Lines worth booking: Octopus (and every accountant) dislikes zero lines."""
    return [ln for ln in plan.lines if ln.amount_excl_vat != 0 or ln.vat_amount != 0]


def account_number(value: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"ledger account {value!r} is not an Octopus account number")
    return int(text)


def _key_fields(header: Header) -> dict[str, Any]:
    return {
        "bookyearKey": {"id": header.placement.bookyear_id},
        "journalKey": header.journal,
        "documentSequenceNr": header.document_nr,
        "bookyearPeriodeNr": header.placement.period,
        "documentDate": header.document_date.isoformat(),
    }


ROUNDING_DESCRIPTION = "Afrondingsverschil"
# A correction this small has no VAT of its own at any rate below 25 %, so it moves
# the invoice total by exactly its own amount.
_MAX_CORRECTION = Decimal("0.02")


def invoice_lines(plan: Plan, percentages: dict[str, Decimal]) -> list[dict[str, Any]]:
    """One invoice line per plan line, plus rounding corrections where needed.

    Octopus computes an invoice's VAT itself, per line (`invoice_line_amounts`). The
    plan's lines already carry VAT amounts that add up to the order total exactly; when
    Octopus' own per-line rounding lands a cent away, a correction line on the same
    account and VAT code makes the invoice total equal the order total to the cent.
    """
    lines: list[dict[str, Any]] = []
    corrections: dict[tuple[str, str], Decimal] = {}
    for line in bookable_lines(plan):
        unit_price = cents(line.amount_excl_vat)
        lines.append(
            {
                "description": line.description[:200],
                "count": 1,
                "unitPrice": unit_price,
                "discountPercentage": Decimal(0),
                "vatCodeKey": line.vat_code,
                "bookingAccountNr": account_number(line.ledger_account),
            }
        )
        pct = percentages.get(line.vat_code)
        if pct is None:
            continue  # an unknown code is refused by Octopus with its own message
        net, vat = invoice_line_amounts(Decimal(1), unit_price, Decimal(0), pct)
        key = (line.vat_code, line.ledger_account)
        corrections[key] = corrections.get(key, Decimal(0)) + line.amount_incl_vat - (net + vat)
    for (vat_code, account), difference in corrections.items():
        for amount in _correction_steps(difference):
            lines.append(
                {
                    "description": ROUNDING_DESCRIPTION,
                    "count": 1,
                    "unitPrice": amount,
                    "discountPercentage": Decimal(0),
                    "vatCodeKey": vat_code,
                    "bookingAccountNr": account_number(account),
                }
            )
    return lines


def _correction_steps(difference: Decimal) -> list[Decimal]:
    steps: list[Decimal] = []
    remaining = cents(difference)
    while remaining != 0:
        step = max(-_MAX_CORRECTION, min(_MAX_CORRECTION, remaining))
        steps.append(step)
        remaining -= step
    return steps


def invoice_body(
    plan: Plan, header: Header, percentages: dict[str, Decimal], *, credit: bool = False
) -> dict[str, Any]:
    """A concept invoice whose Octopus-computed total equals the plan's total; a credit
    note is the same lines with count -1."""
    lines = invoice_lines(plan, percentages)
    if credit:
        lines = [{**line, "count": -1} for line in lines]
    return {
        **_key_fields(header),
        "expiryDate": header.document_date.isoformat(),
        "currencyCode": header.currency,
        "exchangeRate": Decimal("1.0"),
        "relationIdentificationServiceData": header.debtor.key(),
        "comment": header.comment,
        "reference": header.reference,
        "invoiceLines": lines,
    }


def financial_body(
    plan: Plan, header: Header, *, vat_account: int, credit: bool = False
) -> dict[str, Any]:
    sign = Decimal(-1) if credit else Decimal(1)
    customer_line: dict[str, Any] = {
        "type": "C",
        "amount": cents(plan.total_incl_vat) * sign,
        "reference": header.reference,
    }
    if header.debtor.relation_id is not None:
        customer_line["relationId"] = header.debtor.relation_id
    else:
        customer_line["externalRelationId"] = header.debtor.external_id
    lines: list[dict[str, Any]] = [customer_line]
    vat_per_code: dict[str, Decimal] = {}
    for line in bookable_lines(plan):
        lines.append(
            {
                "type": "A",
                "accountKey": account_number(line.ledger_account),
                "amount": -cents(line.amount_excl_vat) * sign,
                "reference": line.description[:100],
            }
        )
        vat_per_code[line.vat_code] = vat_per_code.get(line.vat_code, Decimal(0)) + cents(
            line.vat_amount
        )
    for code, vat in vat_per_code.items():
        if vat:
            lines.append(
                {
                    "type": "A",
                    "accountKey": vat_account,
                    "amount": -vat * sign,
                    "reference": f"btw {code}",
                }
            )
    return {
        "financialDiversBookingServiceData": {
            **_key_fields(header),
            "exchangeRate": Decimal("1.0"),
            "comment": header.comment,
            "bookingLines": lines,
        },
        "attachments": [],
    }


# --- what Octopus will make of it, and what it did --------------------------------------


def invoice_line_amounts(
    count: Decimal, unit_price: Decimal, discount_pct: Decimal, vat_pct: Decimal
) -> tuple[Decimal, Decimal]:
    """Octopus' invoice rule per line: net half-up to cents, VAT on the net half-up."""
    net = cents(count * unit_price * (HUNDRED - discount_pct) / HUNDRED)
    return net, cents(net * vat_pct / HUNDRED)


def vat_percentages(vat_codes: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    return {
        str(v["code"]): as_decimal(v["basePercentage"])
        for v in vat_codes
        if v.get("basePercentage") is not None
    }


@dataclass(frozen=True)
class BookedDocument:
    """An Octopus document as read back, reduced to what the check compares."""

    reference: str
    total_incl_vat: Decimal
    relation_id: int | None
    external_id: int | None
    document_nr: int
    credit: bool


def _ident(data: dict[str, Any]) -> tuple[int | None, int | None]:
    ident = data.get("relationIdentificationServiceData") or {}
    key = ident.get("relationKey") or {}
    rid = key.get("id") if isinstance(key, dict) else None
    ext = ident.get("externalRelationId")
    return (int(rid) if rid else None, int(ext) if ext else None)


def read_invoice(data: dict[str, Any], percentages: dict[str, Decimal]) -> BookedDocument:
    """Total of a concept invoice the way Octopus computes it (it stores lines, not totals)."""
    total = Decimal(0)
    for line in data.get("invoiceLines") or []:
        pct = percentages.get(str(line.get("vatCodeKey")))
        if pct is None:
            raise KeyError(f"VAT code {line.get('vatCodeKey')!r} unknown")
        net, vat = invoice_line_amounts(
            as_decimal(line.get("count", 1)),
            as_decimal(line.get("unitPrice", 0)),
            as_decimal(line.get("discountPercentage") or 0),
            pct,
        )
        total += net + vat
    rid, ext = _ident(data)
    return BookedDocument(
        reference=str(data.get("reference") or ""),
        total_incl_vat=total,
        relation_id=rid,
        external_id=ext,
        document_nr=int(data.get("documentSequenceNr") or 0),
        credit=total < 0,
    )


def read_financial(data: dict[str, Any]) -> BookedDocument:
    """A financial mutation: the customer lines carry the total and the debtor."""
    customer = [ln for ln in data.get("bookingLines") or [] if ln.get("type") == "C"]
    total = sum((as_decimal(ln.get("amount", 0)) for ln in customer), Decimal(0))
    relation = next((ln.get("relationId") for ln in customer if ln.get("relationId")), None)
    reference = next((str(ln.get("reference") or "") for ln in customer), "")
    return BookedDocument(
        reference=reference,
        total_incl_vat=total,
        relation_id=int(relation) if relation else None,
        external_id=None,
        document_nr=int(data.get("documentSequenceNr") or 0),
        credit=total < 0,
    )


# --- what was booked, kept with the order (a later credit note mirrors it) -------------


@dataclass(frozen=True)
class RecordedLine:
    kind: str
    description: str
    vat_rate: Decimal
    ledger_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    amount_incl_vat: Decimal


@dataclass(frozen=True)
class RecordedPlan:
    """The lines and totals of a booked document, as stored in the order's state."""

    lines: list[RecordedLine]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal

    @classmethod
    def of(cls, plan: Plan) -> RecordedPlan:
        return cls(
            lines=[
                RecordedLine(
                    kind=str(getattr(ln.kind, "value", ln.kind)),
                    description=ln.description,
                    vat_rate=ln.vat_rate,
                    ledger_account=ln.ledger_account,
                    vat_code=ln.vat_code,
                    amount_excl_vat=ln.amount_excl_vat,
                    vat_amount=ln.vat_amount,
                    amount_incl_vat=ln.amount_incl_vat,
                )
                for ln in plan.lines
            ],
            total_excl_vat=plan.total_excl_vat,
            total_vat=plan.total_vat,
            total_incl_vat=plan.total_incl_vat,
        )

    def to_json(self) -> str:
        def line(ln: RecordedLine) -> dict[str, str]:
            return {k: str(v) for k, v in vars(ln).items()}

        return json.dumps(
            {
                "lines": [line(ln) for ln in self.lines],
                "total_excl_vat": str(self.total_excl_vat),
                "total_vat": str(self.total_vat),
                "total_incl_vat": str(self.total_incl_vat),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RecordedPlan:
        data = json.loads(text)
        amounts = ("vat_rate", "amount_excl_vat", "vat_amount", "amount_incl_vat")
        return cls(
            lines=[
                RecordedLine(**{k: Decimal(v) if k in amounts else v for k, v in ln.items()})
                for ln in data["lines"]
            ],
            total_excl_vat=Decimal(data["total_excl_vat"]),
            total_vat=Decimal(data["total_vat"]),
            total_incl_vat=Decimal(data["total_incl_vat"]),
        )

    def vat_codes(self) -> dict[str, Decimal]:
        return {ln.vat_code: ln.vat_rate for ln in bookable_lines(self)}

    def accounts(self) -> dict[int, Decimal]:
        return {account_number(ln.ledger_account): ln.vat_rate for ln in bookable_lines(self)}

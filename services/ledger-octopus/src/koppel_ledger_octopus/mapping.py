"""A booking plan as Octopus JSON, and Octopus documents read back.

Two shapes, chosen per connection (`ledger.octopus.booking_mode`):

- `invoice` — a **concept sales invoice** in Octopus' invoicing module (`POST /invoices`,
  flat body): one invoice line per plan line, `count` 1 and `unitPrice` the line's amount
  excl. VAT on the mapped revenue account and VAT code. Octopus computes the VAT itself,
  per line (net half-up to cents, VAT on the net half-up — the sandbox's rule; Octopus
  documents none). So that Octopus' VAT per rate is the VAT the shop charged, each line's
  net is chosen, within the cent range that gives Octopus' rounding the line's own VAT,
  so that the lines of a VAT code still add up to the plan's net (`octopus_nets`). No
  rounding lines: where no such choice exists, the read-back check reports the VAT
  difference. A credit note is the same invoice with `count` -1 (notes §7).
- `sales` — a **sales booking** (`POST /buysellbookings`, wrapped, notes §6): a booked
  sales document with one line per plan line, `baseAmount` excl. VAT and the VAT the shop
  charged as `vatAmount` (Octopus does not derive it), `amount` the total. A credit note has
  a negative `amount` with positive lines (§6.1).
- `financial` — a **financial mutation** (`POST /financialdiversbookings`, wrapped) on a
  financial journal: a customer line (`C`) debiting the debtor with the order total, and
  account lines (`A`) crediting revenue per plan line and VAT on the VAT account. The
  VAT amounts are the plan's (the shop's) exactly. A credit is the same booking negated.

The order number is the document's `reference`. Amounts stay Decimal all the way into
the JSON text (see `jsonnum`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from koppel_chassis.jsonnum import as_decimal
from koppel_ledger import Debtor, ReadBack, RecordedLine, RecordedPlan

from .reference import Placement

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


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


def account_number(value: str) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"ledger account {value!r} is not an Octopus account number")
    return int(text)


def relation_ident(debtor: Debtor) -> dict[str, Any]:
    """`relationIdentificationServiceData` for a booking."""
    if debtor.id is not None:
        return {"relationKey": {"id": int(debtor.id)}}
    return {"externalRelationId": int(debtor.external_id or 0)}


def _key_fields(header: Header) -> dict[str, Any]:
    return {
        "bookyearKey": {"id": header.placement.bookyear_id},
        "journalKey": header.journal,
        "documentSequenceNr": header.document_nr,
        "bookyearPeriodeNr": header.placement.period,
        "documentDate": header.document_date.isoformat(),
    }


# --- Octopus' own VAT rule, and nets that make it give the shop's VAT ---------------------


def invoice_line_amounts(
    count: Decimal, unit_price: Decimal, discount_pct: Decimal, vat_pct: Decimal
) -> tuple[Decimal, Decimal]:
    """Octopus' invoice rule per line: net half-up to cents, VAT on the net half-up."""
    net = cents(count * unit_price * (HUNDRED - discount_pct) / HUNDRED)
    return net, cents(net * vat_pct / HUNDRED)


def _net_range(vat: Decimal, pct: Decimal) -> tuple[int, int] | None:
    """Nets in cents whose VAT at `pct` rounds (half-up) to `vat`: [lo, hi], or None."""
    if pct == 0:
        return None if vat != 0 else (-(10**12), 10**12)
    if vat < 0:  # half-up rounds away from zero for negatives: mirror the positive case
        positive = _net_range(-vat, pct)
        return None if positive is None else (-positive[1], -positive[0])
    low = (vat - Decimal("0.005")) * HUNDRED / pct  # net*pct/100 >= vat - 0.005
    high = (vat + Decimal("0.005")) * HUNDRED / pct  # net*pct/100 <  vat + 0.005
    lo = int((low * HUNDRED).to_integral_value(rounding=ROUND_CEILING))
    hi = int((high * HUNDRED).to_integral_value(rounding=ROUND_CEILING)) - 1
    return (lo, hi) if lo <= hi else None


def octopus_nets(lines: list[RecordedLine], pct: Decimal) -> list[Decimal] | None:
    """Nets for `lines` (all of one VAT code) such that Octopus' per-line VAT is each
    line's own VAT and the nets add up to the lines' total net; None when impossible.

    Each line's net may move within the range its VAT allows; the shift needed to keep
    the total goes to the lines with room, largest first."""
    ranges = [_net_range(ln.vat_amount, pct) for ln in lines]
    if any(r is None for r in ranges):
        return None
    wanted = [int(ln.amount_excl_vat * HUNDRED) for ln in lines]
    chosen = [min(max(w, r[0]), r[1]) for w, r in zip(wanted, ranges, strict=True)]  # type: ignore[index]
    missing = sum(wanted) - sum(chosen)
    order = sorted(range(len(lines)), key=lambda i: -abs(wanted[i]))
    for i in order:
        if missing == 0:
            break
        lo, hi = ranges[i]  # type: ignore[misc]
        step = max(lo - chosen[i], min(hi - chosen[i], missing))
        chosen[i] += step
        missing -= step
    if missing:
        return None
    return [Decimal(c) / HUNDRED for c in chosen]


def invoice_lines(plan: RecordedPlan, percentages: dict[str, Decimal]) -> list[dict[str, Any]]:
    """One invoice line per plan line, nets chosen per VAT code (`octopus_nets`)."""
    lines = plan.bookable_lines()
    nets = {id(ln): cents(ln.amount_excl_vat) for ln in lines}
    by_code: dict[str, list[RecordedLine]] = {}
    for line in lines:
        by_code.setdefault(line.vat_code, []).append(line)
    for code, group in by_code.items():
        pct = percentages.get(code)
        chosen = octopus_nets(group, pct) if pct is not None else None
        if chosen is not None:
            nets.update({id(ln): net for ln, net in zip(group, chosen, strict=True)})
    return [
        {
            "description": line.description[:200],
            "count": 1,
            "unitPrice": nets[id(line)],
            "discountPercentage": Decimal(0),
            "vatCodeKey": line.vat_code,
            "bookingAccountNr": account_number(line.ledger_account),
        }
        for line in lines
    ]


def invoice_body(
    plan: RecordedPlan, header: Header, percentages: dict[str, Decimal], *, credit: bool = False
) -> dict[str, Any]:
    """A concept invoice; a credit note is the same lines with count -1."""
    lines = invoice_lines(plan, percentages)
    if credit:
        lines = [{**line, "count": -1} for line in lines]
    return {
        **_key_fields(header),
        "expiryDate": header.document_date.isoformat(),
        "currencyCode": header.currency,
        "exchangeRate": Decimal("1.0"),
        "relationIdentificationServiceData": relation_ident(header.debtor),
        "comment": header.comment,
        "reference": header.reference,
        "invoiceLines": lines,
    }


def sales_body(plan: RecordedPlan, header: Header, *, credit: bool = False) -> dict[str, Any]:
    total = cents(plan.total_incl_vat)
    return {
        "buySellBookingServiceData": {
            **_key_fields(header),
            "relationIdentificationServiceData": relation_ident(header.debtor),
            "expiryDate": header.document_date.isoformat(),
            "comment": header.comment,
            "reference": header.reference,
            "orderReference": "",
            "amount": -total if credit else total,
            "currencyCode": header.currency,
            "exchangeRate": Decimal("1.0"),
            "paymentMethod": 0,
            "bookingLines": [
                {
                    "accountKey": account_number(line.ledger_account),
                    "baseAmount": cents(line.amount_excl_vat),
                    "vatCodeKey": line.vat_code,
                    "vatAmount": cents(line.vat_amount),
                    "vatRecupPercentage": Decimal("100.0"),
                    "comment": line.description[:200],
                }
                for line in plan.bookable_lines()
            ],
        },
        "attachments": [],
    }


def financial_body(
    plan: RecordedPlan, header: Header, *, vat_account: int, credit: bool = False
) -> dict[str, Any]:
    sign = Decimal(-1) if credit else Decimal(1)
    customer_line: dict[str, Any] = {
        "type": "C",
        "amount": cents(plan.total_incl_vat) * sign,
        "reference": header.reference,
    }
    if header.debtor.id is not None:
        customer_line["relationId"] = int(header.debtor.id)
    else:
        customer_line["externalRelationId"] = int(header.debtor.external_id or 0)
    lines: list[dict[str, Any]] = [customer_line]
    vat_per_code: dict[str, Decimal] = {}
    for line in plan.bookable_lines():
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


# --- what Octopus did -----------------------------------------------------------------------


def vat_percentages(vat_codes: Iterable[dict[str, Any]]) -> dict[str, Decimal]:
    return {
        str(v["code"]): as_decimal(v["basePercentage"])
        for v in vat_codes
        if v.get("basePercentage") is not None
    }


def _ident(data: dict[str, Any]) -> tuple[str | None, str | None]:
    ident = data.get("relationIdentificationServiceData") or {}
    key = ident.get("relationKey") or {}
    rid = key.get("id") if isinstance(key, dict) else None
    ext = ident.get("externalRelationId")
    return (str(int(rid)) if rid else None, str(int(ext)) if ext else None)


def read_invoice(data: dict[str, Any], percentages: dict[str, Decimal]) -> ReadBack:
    """An invoice the way Octopus computes it (it stores lines, not totals); VAT per rate is
    keyed by the VAT code's percentage. KeyError for a VAT code we do not know."""
    total = Decimal(0)
    vat_per_rate: dict[Decimal, Decimal] = {}
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
        vat_per_rate[pct] = vat_per_rate.get(pct, Decimal(0)) + vat
    rid, ext = _ident(data)
    return ReadBack(
        number=str(int(data.get("documentSequenceNr") or 0)),
        reference=str(data.get("reference") or ""),
        credit=total < 0,
        total_incl_vat=total,
        vat_per_rate=vat_per_rate,
        debtor_id=rid,
        debtor_external_id=ext,
    )


def read_sales(data: dict[str, Any], percentages: dict[str, Decimal]) -> ReadBack:
    """A sales booking: `amount` is the total (negative for a credit note, whose lines stay
    positive); VAT per rate from the lines' `vatAmount` by their code's percentage."""
    total = as_decimal(data.get("amount") or 0)
    sign = Decimal(-1) if total < 0 else Decimal(1)
    vat_per_rate: dict[Decimal, Decimal] | None = {}
    for line in data.get("bookingLines") or []:
        pct = percentages.get(str(line.get("vatCodeKey")))
        if pct is None:
            vat_per_rate = None
            break
        vat = as_decimal(line.get("vatAmount") or 0) * sign
        vat_per_rate[pct] = vat_per_rate.get(pct, Decimal(0)) + vat
    rid, ext = _ident(data)
    return ReadBack(
        number=str(int(data.get("documentSequenceNr") or 0)),
        reference=str(data.get("reference") or ""),
        credit=total < 0,
        total_incl_vat=total,
        vat_per_rate=vat_per_rate,
        debtor_id=rid,
        debtor_external_id=ext,
    )


def read_financial(data: dict[str, Any]) -> ReadBack:
    """A financial mutation: the customer lines carry the total and the debtor. Its VAT
    lines do not say their rate, so the check compares the total and the debtor."""
    customer = [ln for ln in data.get("bookingLines") or [] if ln.get("type") == "C"]
    total = sum((as_decimal(ln.get("amount", 0)) for ln in customer), Decimal(0))
    relation = next((ln.get("relationId") for ln in customer if ln.get("relationId")), None)
    external = next(
        (ln.get("externalRelationId") for ln in customer if ln.get("externalRelationId")), None
    )
    reference = next((str(ln.get("reference") or "") for ln in customer), "")
    return ReadBack(
        number=str(int(data.get("documentSequenceNr") or 0)),
        reference=reference,
        credit=total < 0,
        total_incl_vat=total,
        vat_per_rate=None,
        debtor_id=str(int(relation)) if relation else None,
        debtor_external_id=str(int(external)) if external else None,
    )

"""What the templates show about one notification, worked out from its stored item.

A mismatch is explained from the check's numbers and identifiers, not from the ledger's
free-text `details`: the mail writes every sentence itself, in the mail's language, with
amounts formatted for that language. The details stay on the event (the dashboard shows
them); a mail never copies a sentence it did not write, so a Dutch mail has no English
line, whatever language the ledger wrote in.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

MISMATCH = "mismatch"
CONNECTION_BROKEN = "connection_broken"
CONNECTION_RESTORED = "connection_restored"

CONNECTION_KINDS = frozenset({CONNECTION_BROKEN, CONNECTION_RESTORED})
"""Kinds about the connection as a whole: their link goes to the connection."""

SYSTEM_NAMES = {
    "octopus": "Octopus",
    "snelstart": "SnelStart",
    "asperion": "Asperion",
    "ccvshop": "CCV Shop",
    "prestashop": "PrestaShop",
    "bol": "Bol.com",
    "koppel": "Koppel",
}

# How ledgers name a debtor in a check ("relatie 1004", "relation ext. 55", "Anna de Vries
# (relation 1004)"): the last such mention is the identifier, whatever text surrounds it.
_DEBTOR = re.compile(
    r"\b(?:relatie|relation|debiteur|debtor)\s+(ext\.\s*)?([0-9A-Za-z][\w.\-/]*)", re.IGNORECASE
)


def system_name(code: str | None) -> str:
    return SYSTEM_NAMES.get(code or "", code or "")


def connection_link(dashboard_url: str, connection_id: str) -> str:
    return f"{dashboard_url}/connections/{quote(connection_id, safe='')}"


def order_link(dashboard_url: str, connection_id: str, order_ref: str) -> str:
    return f"{connection_link(dashboard_url, connection_id)}/orders/{quote(order_ref, safe='')}"


@dataclass(frozen=True)
class DebtorRef:
    """A debtor as a check names it: its identifier where the text has one, else the text."""

    ident: str | None
    external: bool
    text: str


def parse_debtor(text: str | None) -> DebtorRef | None:
    if not text or not text.strip():
        return None
    found = list(_DEBTOR.finditer(text))
    if not found:
        return DebtorRef(ident=None, external=False, text=" ".join(text.split()))
    last = found[-1]
    return DebtorRef(ident=last.group(2).rstrip(".)"), external=bool(last.group(1)), text=text)


def debtor_difference(
    expected: str | None, booked: str | None
) -> tuple[DebtorRef, DebtorRef] | None:
    """(expected, booked) when they are really different debtors, else None.

    Like is compared with like: identifiers with identifiers, or (where neither side
    names one) the names themselves. When one side has an identifier and the other
    only a name, nothing can be concluded, so nothing is claimed.
    """
    wanted, got = parse_debtor(expected), parse_debtor(booked)
    if wanted is None or got is None:
        return None
    if wanted.ident is not None and got.ident is not None:
        same = (wanted.ident, wanted.external) == (got.ident, got.external)
    elif wanted.ident is None and got.ident is None:
        same = wanted.text.casefold() == got.text.casefold()
    else:
        return None
    return None if same else (wanted, got)


def _rates(rows: list[dict[str, str]] | None) -> dict[Decimal, Decimal] | None:
    if rows is None:
        return None
    totals: dict[Decimal, Decimal] = {}
    for row in rows:
        key = Decimal(row["rate"]).normalize()
        totals[key] = totals.get(key, Decimal(0)) + Decimal(row["amount"])
    return totals


def _looks_missing(item: dict[str, Any], booked: Decimal, expected: Decimal) -> bool:
    """The ledger did not find the document: nothing booked, no VAT, no debtor read back
    (a found document always names its debtor, and has VAT or says it does not split it)."""
    return (
        booked == 0
        and expected != 0
        and not item.get("booked_vat")
        and not item.get("booked_customer")
    )


def mismatch_reasons(item: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """(missing, reasons): each reason a `code` and its values, worded by the templates."""
    booked, expected = Decimal(item["booked_total"]), Decimal(item["expected_total"])
    if _looks_missing(item, booked, expected):
        return True, [{"code": "missing"}]
    reasons: list[dict[str, Any]] = []
    difference = booked - expected
    if difference:
        reasons.append(
            {
                "code": "total",
                "amount": abs(difference),
                "higher": difference > 0,
                "within": abs(difference) <= Decimal(item["tolerance"]),
            }
        )
    booked_vat = _rates(item.get("booked_vat"))
    expected_vat = _rates(item.get("expected_vat")) or {}
    if booked_vat is not None:
        for rate in sorted(set(booked_vat) | set(expected_vat), reverse=True):
            got, wanted = booked_vat.get(rate, Decimal(0)), expected_vat.get(rate, Decimal(0))
            if got != wanted:
                reasons.append({"code": "vat", "rate": rate, "booked": got, "expected": wanted})
    debtors = debtor_difference(item.get("expected_customer"), item.get("booked_customer"))
    if debtors is not None:
        wanted_debtor, got_debtor = debtors
        reasons.append(
            {"code": "debtor", "expected": asdict(wanted_debtor), "booked": asdict(got_debtor)}
        )
    if not reasons:
        # The ledger saw a difference the numbers above do not show (e.g. a document
        # number): say so in the mail's words and point to the dashboard for its text.
        reasons.append({"code": "other"})
    return False, reasons


def item_view(item: dict[str, Any], *, dashboard_url: str, connection_id: str) -> dict[str, Any]:
    """Fields the templates need that are easier computed than written in Jinja."""
    view = dict(item)
    view.setdefault("order", None)
    view.setdefault("order_ref", None)
    view["system"] = system_name(item.get("source_system"))
    if item["kind"] in CONNECTION_KINDS or not item.get("order_ref"):
        view["link_target"] = "connection"
        view["link"] = connection_link(dashboard_url, connection_id)
    else:
        view["link_target"] = "order"
        view["link"] = order_link(dashboard_url, connection_id, item["order_ref"])
    if item["kind"] == MISMATCH:
        view["document"] = item.get("document_number") or item.get("booking_id")
        view["missing"], view["reasons"] = mismatch_reasons(item)
    if item["kind"] == CONNECTION_RESTORED:
        view.setdefault("held_orders_booked", None)
    return view

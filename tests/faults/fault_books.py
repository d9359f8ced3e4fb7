"""The end of the run: the books of every ledger against what was ordered, the alert mails
against the alerts, and the dead-letter topics.

Per order, what must be in its ledger:
- a paid order: exactly one document (not a credit), total and VAT per rate the shop's;
- an order cancelled once booked: that document and exactly one credit for the same total;
- an order the ledger must refuse (a rate without a ledger account): nothing, one `failed`
  event, and its alert in exactly one mail to the merchant.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from fault_observe import Alerts, OrderEvents
from fault_pairs import Books, PairSpec, PlacedOrder
from koppel_chassis.topic_reader import read_to_end
from koppel_contracts.topics import DLQ_HEADER_CONSUMER, DLQ_HEADER_ERROR, DLQ_SUFFIX


@dataclass
class PairBooks:
    pair: str
    orders: int = 0
    booked_once: int = 0
    lost: int = 0  # no document (or a cancelled order not credited)
    twice: int = 0  # more than one document, or more than one credit
    differ: int = 0  # total or VAT per rate not the shop's
    cancellations: int = 0
    credited_once: int = 0
    refused: int = 0
    refused_ok: int = 0  # nothing booked, failed once
    unexpected: int = 0  # documents under a number the run did not order
    examples: dict[str, list[str]] | None = None

    def add_example(self, what: str, text: str) -> None:
        if self.examples is None:
            self.examples = {}
        found = self.examples.setdefault(what, [])
        if len(found) < 5:
            found.append(text)


def check_books(
    pair: PairSpec,
    placed: list[PlacedOrder],
    books: Books,
    events: OrderEvents,
    cancelled: set[str],
    preexisting: set[str],
) -> PairBooks:
    result = PairBooks(pair.name)
    numbers = {order.number for order in placed}
    for number in books:
        if number not in numbers and number not in preexisting:
            result.unexpected += len(books[number])
            result.add_example("unexpected", number)
    for order in placed:
        result.orders += 1
        documents = books.get(order.number, [])
        invoices = [d for d in documents if not d.credit]
        credits = [d for d in documents if d.credit]
        if order.refused:
            result.refused += 1
            failed = events.count("failed", (pair.connection_id, order.number))
            if not documents and failed == 1:
                result.refused_ok += 1
            elif documents:
                result.twice += 1
                result.add_example("refused but booked", order.number)
            else:
                result.add_example(f"refused, {failed} failed events", order.number)
            continue
        if not invoices:
            result.lost += 1
            result.add_example("lost", order.number)
            continue
        if len(invoices) > 1:
            result.twice += 1
            result.add_example("twice", order.number)
            continue
        invoice = invoices[0]
        if invoice.total != order.total or _vat(invoice.vat) != _vat(order.vat):
            result.differ += 1
            result.add_example(
                "differ",
                f"{order.number}: ledger {invoice.total} {_show(invoice.vat)}, "
                f"shop {order.total} {_show(order.vat)}",
            )
            continue
        if order.number in cancelled:
            result.cancellations += 1
            if len(credits) == 1 and credits[0].total == order.total:
                result.credited_once += 1
            elif not credits:
                result.lost += 1
                result.add_example("cancellation not credited", order.number)
                continue
            else:
                result.twice += 1
                result.add_example(f"{len(credits)} credits", order.number)
                continue
        elif credits:
            result.twice += 1
            result.add_example("credited without a cancellation", order.number)
            continue
        result.booked_once += 1
    return result


def _vat(vat: dict[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    return {rate.normalize(): amount for rate, amount in vat.items() if amount}


def _show(vat: dict[Decimal, Decimal]) -> str:
    return "{" + ", ".join(f"{r}%: {a}" for r, a in sorted(_vat(vat).items())) + "}"


# ==== alerts and their mails ======================================================================


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    connection: str | None
    text: str
    delivery: bool  # ledger-asperion's daily ZIP of documents, not a notification

    def names(self, number: str) -> bool:
        """The mail has an item about this order: its line `Bestelling: 22 van …` (English
        `Order: 22 of …`); amounts and other orders' numbers (`122`, `€ 22,10`) do not count."""
        item = rf"^\s*(Bestelling|Order):\s+{re.escape(number)}\s"
        return re.search(item, self.text, re.MULTILINE) is not None


def read_mails(folder: Path) -> list[Mail]:
    mails = []
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain",))
        text = part.get_content() if part is not None else ""
        mails.append(
            Mail(
                tuple(str(a) for a in message.get_all("to", [])),
                str(message["subject"]),
                message.get("X-Koppel-Connection"),
                text,
                message.get("X-Koppel-Delivery") is not None,
            )
        )
    return mails


def check_alert_mails(
    alerts: Alerts, mails: list[Mail], connections: set[str], run_numbers: set[str]
) -> dict[str, Any]:
    """Every order alert of the run's connections in exactly one mail of its connection;
    connection-wide alerts are counted (a mail cannot be told apart per cause)."""
    by_connection: dict[str, list[Mail]] = {}
    for mail in mails:
        if not mail.delivery:
            by_connection.setdefault(str(mail.connection), []).append(mail)
    per_order: Counter[str] = Counter()
    once, never, more, other = 0, [], [], 0
    for (connection, kind, _), number in sorted(alerts.causes.items()):
        if connection not in connections:
            continue
        if number is None:
            other += 1
            continue
        if number not in run_numbers:
            continue  # a pre-existing order of a demo shop
        count = sum(1 for mail in by_connection.get(connection, []) if mail.names(number))
        per_order[kind] += 1
        if count == 1:
            once += 1
        elif count == 0:
            never.append(f"{kind} {number}")
        else:
            more.append(f"{kind} {number} in {count} mails")
    return {
        "order_alerts": sum(per_order.values()),
        "by_kind": dict(per_order),
        "mailed_once": once,
        "not_mailed": len(never),
        "mailed_more_than_once": len(more),
        "connection_alerts": other,
        "mails": len([m for m in mails if m.connection in connections and not m.delivery]),
        "examples": {"not_mailed": never[:5], "more_than_once": more[:5]},
        "ok": not never and not more,
    }


# ==== dead letters ================================================================================


async def check_dead_letters(bootstrap: str, topics: list[str]) -> dict[str, Any]:
    """Every message on a dead-letter topic must say why it is there and who put it there."""
    found: dict[str, Any] = {}
    total = without_reason = 0
    for topic in sorted(t for t in topics if t.endswith(DLQ_SUFFIX)):
        records = await read_to_end(bootstrap, topic)
        if not records:
            continue
        reasons: Counter[str] = Counter()
        for record in records:
            headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
            reason = headers.get(DLQ_HEADER_ERROR, "").strip()
            if not reason or not headers.get(DLQ_HEADER_CONSUMER):
                without_reason += 1
            reasons[f"{headers.get(DLQ_HEADER_CONSUMER)}: {reason[:80]}"] += 1
        total += len(records)
        found[topic] = dict(reasons.most_common(5))
    return {
        "dead_letters": total,
        "without_reason": without_reason,
        "topics": found,
        "ok": without_reason == 0,
    }

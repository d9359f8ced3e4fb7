"""Customers' personal data in a ledger service (`koppel_privacy`).

Orders arrive sealed and stay sealed in this service's records, outbox and the events it
publishes; `protect` reveals them only where the ledger needs the customer — the draft a
session prepares (debtor, buyer; `RevealingSession`) — and only in memory. The service
follows `privacy.keys.v1` into its own key store; an order whose key has not arrived yet
waits (a transient failure, retried), one whose key was erased is booked on the anonymous
debtor (`debtor_choice`), with its own totals and VAT per rate.

What the records keep in clear is the debtor's e-mail (a ledger forgets an index entry by
it): on an erasure `DebtorEmails` blanks it in the records of the erased customer's orders
and hands the customer (`ErasedCustomer`: the connection, those orders, their e-mails) to
the adapter's `forget_customer(settings, customer)`, where it has one (ledger-octopus: its
index of the dossier's relations; ledger-asperion: its stored documents and deliveries).
A customer without an e-mail is found by their orders all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from koppel_chassis import Service
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_contracts import ConnectionSettings, OrderEvent
from koppel_privacy import (
    CustomerKey,
    MongoKeyStore,
    Revealer,
    follow_customer_keys,
    privacy_box,
)

from .adapter import DraftRequest, ErasedCustomer, LedgerSession
from .records import LedgerDoc
from .runtime import LedgerRuntime
from .store import ORDERS

log = logging.getLogger(__name__)

Reveal = Callable[[OrderEvent], Awaitable[OrderEvent]]

DEBTOR_DOCS = ("ledger", "intent", "last_credit")


class DebtorEmails:
    """Blanks the e-mail the order records keep with their debtor, for one erased key, and
    lets the adapter forget what it keeps by those e-mails (`forget_customer`, optional:
    ledger-octopus' relation index)."""

    def __init__(self, db: AsyncDatabase[Document], runtime: LedgerRuntime) -> None:
        self.orders = db[ORDERS]
        self.runtime = runtime

    async def erase(self, connection_id: str, key_id: str, _key: CustomerKey | None) -> None:
        current = await self.runtime.connections.current(connection_id)
        if current is not None and current[0].ledger.system != self.runtime.adapter.system:
            return  # another ledger's connection: this service keeps none of its orders
        marker = f'"key_id":"{key_id}"'
        # By connection, not by `_id`: the key's orders are not known by id. Erasures are
        # rare; the scan is the price of not indexing customers' keys per order.
        projection = {"event": 1, "credits": 1, **{name: 1 for name in DEBTOR_DOCS}}
        emails: set[str] = set()
        erased: list[str] = []
        async for doc in self.orders.find({"connection_id": connection_id}, projection):
            if marker not in str(doc.get("event") or ""):
                continue
            emails |= debtor_emails(doc)
            erased.append(doc["_id"])
        # The adapter first: its work is found by these e-mails, so when it fails the
        # marker's redelivery finds them again (blanked first, they would be gone).
        forget = getattr(self.runtime.adapter, "forget_customer", None)
        if erased and forget is not None and current is not None:
            customer = ErasedCustomer(connection_id, frozenset(erased), frozenset(emails))
            await forget(current[0], customer)
        for order_id in erased:
            # Read again: the adapter may have rewritten these documents.
            doc = await self.orders.find_one({"_id": order_id}, projection)
            update = blank_debtor_emails(doc or {})
            if update:
                await self.orders.update_one({"_id": order_id}, {"$set": update})
        if emails:
            log.info(
                "debtor e-mails of an erased customer blanked",
                extra={"connection_id": connection_id},
            )


def debtor_emails(doc: Document) -> set[str]:
    found = [((doc.get(name) or {}).get("debtor") or {}).get("email") for name in DEBTOR_DOCS]
    found += [((c or {}).get("debtor") or {}).get("email") for c in doc.get("credits") or []]
    return {email for email in found if email}


def blank_debtor_emails(doc: Document) -> dict[str, Any]:
    """The `$set` that removes the debtor e-mails from one order's stored documents."""
    update: dict[str, Any] = {}
    for name in DEBTOR_DOCS:
        debtor = (doc.get(name) or {}).get("debtor") or {}
        if debtor.get("email"):
            update[f"{name}.debtor.email"] = None
    credits = doc.get("credits") or []
    if any(((c or {}).get("debtor") or {}).get("email") for c in credits):
        update["credits"] = [
            {**c, "debtor": {**(c.get("debtor") or {}), "email": None}} for c in credits
        ]
    return update


class RevealingSession:
    """A ledger session that prepares its drafts from the order as the shop gave it: the
    one place a ledger needs the customer (debtor, buyer). Everything else is the session's."""

    def __init__(self, inner: LedgerSession, reveal: Reveal) -> None:
        self._inner = inner
        self._reveal = reveal

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        revealed = replace(request, event=await self._reveal(request.event))
        return await self._inner.prepare(revealed, number=number)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def protect(service: Service, runtime: LedgerRuntime) -> Revealer:
    """Reveal where drafts are prepared, follow the customer keys, act on erasures."""
    box = privacy_box(service.settings)
    keys = MongoKeyStore(service.db)
    revealer = Revealer(keys, box)
    adapter = runtime.adapter
    open_session = adapter.session

    def session(connection_id: str, settings: ConnectionSettings) -> LedgerSession:
        return RevealingSession(open_session(connection_id, settings), revealer.reveal_event)

    # On the adapter itself, so every part of the runtime that opens a session gets it.
    adapter.session = session  # type: ignore[method-assign]
    follow_customer_keys(service, box, keys, on_erased=[DebtorEmails(service.db, runtime).erase])
    return revealer

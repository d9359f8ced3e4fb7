"""Which Octopus relation (debtor) an order is booked on.

`koppel_ledger.choose_debtor` decides which debtor (the rules for every ledger); this module
finds or creates it in Octopus:

- **fixed** (`booking.payment_method_debtors`): the configured relation id, no call.
- **collective** (consumers with `booking.consumers = collective`): one relation per
  connection and destination country, with the collective name, the country, a private
  VAT type and nothing else — no e-mail, address or phone of any consumer. Keyed by an
  external relation id derived from the choice's seed: looked up by that id
  (`GET /relations?extRelationId=`) and created with `PUT /relations` when absent. The PUT
  is an upsert on that id, so replicas creating it at once, or a retry after a lost
  answer, end with one relation. A relation under that id that has an e-mail is someone
  else's: the next candidate id is tried. Kept in memory once found.
- **matched**: the customer's e-mail looked up in this service's own index of the
  dossier's relations (MongoDB `relations`; Octopus cannot search by e-mail). The index is
  filled from `/relations/modified` — in full once, then as deltas — and refreshed at most
  every `relation_refresh` when an e-mail is not in it. Unknown customers are created with
  `PUT /relations` keyed by an external relation id derived from the e-mail: a retry after
  a lost response (or a crash) updates the same relation instead of creating a second one.
- **per order** (matching off): the same, the id derived from the order.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from datetime import UTC, timedelta
from typing import Any

from koppel_chassis import IndexSpec, KeyedLocks
from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from koppel_contracts import BookingOptions, CanonicalOrder, ShopSystem, split_order_key
from koppel_ledger import (
    Clock,
    CollectiveDebtor,
    Debtor,
    FixedDebtor,
    MatchedDebtor,
    NoDebtor,
    OrderDebtor,
    Refusal,
    choose_debtor,
    customer_name,
    utcnow,
)

from .client import OctopusClient

log = logging.getLogger(__name__)

RELATIONS = "relations"
SYNC = "relation_sync"
INDEXES = [
    IndexSpec(RELATIONS, [("dossier", 1), ("email", 1)], unique=True, name="relation_email"),
    IndexSpec(RELATIONS, [("dossier", 1), ("external_id", 1)]),
]

EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
FULL_SYNC_FROM = "2000-01-01 00:00:00.000"
# Octopus stamps modifications with its own clock; re-reading a little overlap is
# harmless (upserts), missing a relation is not.
DELTA_OVERLAP = timedelta(minutes=10)
EXTERNAL_ID_SPACE = 2_000_000_000  # stays a positive 32-bit int


def _debtor(
    relation_id: int | None, external_id: int | None, source: str, email: str | None = None
) -> Debtor:
    """Octopus' ids are numbers; the runtime keeps every ledger's ids as text."""
    return Debtor(
        str(relation_id) if relation_id is not None else None,
        str(external_id) if external_id is not None else None,
        source,
        email,
    )


def external_id_for(seed: str, attempt: int = 0) -> int:
    digest = hashlib.sha256(f"koppel|{seed}|{attempt}".encode()).hexdigest()
    return 100_000_000 + int(digest, 16) % (EXTERNAL_ID_SPACE - 100_000_000)


def _relation_id(relation: dict[str, Any]) -> int | None:
    ident = relation.get("relationIdentificationServiceData") or {}
    key = ident.get("relationKey") or relation.get("relationKey") or {}
    value = key.get("id") if isinstance(key, dict) else key
    return int(value) if value else None


def _external_id(relation: dict[str, Any]) -> int | None:
    ident = relation.get("relationIdentificationServiceData") or {}
    value = ident.get("externalRelationId") or relation.get("externalRelationId")
    return int(value) if value else None


class RelationIndex:
    def __init__(
        self, db: AsyncDatabase[Document], refresh: timedelta, clock: Clock = utcnow
    ) -> None:
        self.relations = db[RELATIONS]
        self.sync_state = db[SYNC]
        self.refresh = refresh
        self.clock = clock
        # (dossier, seed) -> (relation id, external id) of collective relations found
        self._collective_ids: dict[tuple[str, str], tuple[int, int]] = {}
        # The runtime books many orders at once: one sync per dossier, one look-up (and
        # create) per e-mail or collective relation at a time, so that two orders of a
        # new customer in one batch find one relation instead of making two.
        self._busy = KeyedLocks()

    # --- the index -----------------------------------------------------------------

    async def lookup(self, dossier: str, email: str) -> Document | None:
        return await self.relations.find_one({"dossier": dossier, "email": email.lower()})

    async def forget(self, dossier: str, email: str) -> None:
        """The relation is gone from Octopus: the next order looks the e-mail up again."""
        await self.relations.delete_one({"dossier": dossier, "email": email.lower()})

    async def exists(self, client: OctopusClient, debtor: Debtor) -> bool:
        """Is the relation still in Octopus? (Asked when a booking on it was refused.)"""
        if debtor.id is not None:
            found = await client.relations_by_id(int(debtor.id))
        else:
            found = await client.relations_by_external_id(int(debtor.external_id or 0))
        return bool(found)

    async def remember(self, dossier: str, relation: dict[str, Any]) -> None:
        email = str(relation.get("email") or "").strip().lower()
        relation_id = _relation_id(relation)
        if not email or relation_id is None:
            return
        if relation.get("active") is False or relation.get("client") is False:
            return
        existing = await self.lookup(dossier, email)
        # Several relations may share an e-mail: keep the oldest (lowest id) stable.
        if existing and existing["relation_id"] < relation_id:
            return
        # A sync and a booking may store the same e-mail at once: either copy will do.
        with contextlib.suppress(DuplicateKeyError):
            await self.relations.update_one(
                {"dossier": dossier, "email": email},
                {
                    "$set": {
                        "relation_id": relation_id,
                        "external_id": _external_id(relation),
                        "name": relation.get("name"),
                        "updated_at": self.clock(),
                    }
                },
                upsert=True,
            )

    async def sync(self, client: OctopusClient, *, force: bool = False) -> bool:
        """Read the relations changed since the last sync; False when it was fresh enough."""
        dossier = client.account.dossier_key
        async with self._busy.hold(("sync", dossier)):
            return await self._sync(client, dossier, force=force)

    async def _sync(self, client: OctopusClient, dossier: str, *, force: bool) -> bool:
        state = await self.sync_state.find_one({"_id": dossier})
        now = self.clock()
        if state and not force and now - state["synced_at"] < self.refresh:
            return False
        since = FULL_SYNC_FROM
        if state:
            since = (
                (state["synced_at"] - DELTA_OVERLAP)
                .astimezone(UTC)
                .strftime("%Y-%m-%d %H:%M:%S.000")
            )
        relations = await client.relations_modified(since)
        for relation in relations:
            await self.remember(dossier, relation)
        with contextlib.suppress(DuplicateKeyError):  # another replica synced at once
            await self.sync_state.update_one(
                {"_id": dossier}, {"$set": {"synced_at": now, "count": len(relations)}}, upsert=True
            )
        log.info(
            "relation index refreshed",
            extra={"relations": len(relations), "full": state is None},
        )
        return True

    async def _free_external_id(self, dossier: str, seed: str, email: str | None) -> int:
        for attempt in range(20):
            candidate = external_id_for(seed, attempt)
            taken = await self.relations.find_one({"dossier": dossier, "external_id": candidate})
            if taken is None or (email and taken["email"] == email):
                return candidate
        raise RuntimeError("no free external relation id")  # pragma: no cover

    # --- choosing the debtor ------------------------------------------------------------

    async def debtor_for(
        self,
        client: OctopusClient,
        order: CanonicalOrder,
        mapping: BookingOptions,
        *,
        order_key: str,
        connection_id: str | None = None,
        shop: ShopSystem | None = None,
    ) -> Debtor:
        choice = choose_debtor(
            order,
            mapping,
            connection_id=connection_id or split_order_key(order_key)[0],
            order_key=order_key,
            shop=shop,
        )
        match choice:
            case FixedDebtor(value=value):
                return _fixed(value)
            case CollectiveDebtor():
                return await self._collective(client, choice, order.currency)
            case MatchedDebtor(email=email):
                return await self._matched(client, order, email)
            case OrderDebtor(seed=seed):
                external_id = external_id_for(seed)
                relation_id = await self._create(client, relation_body(order, external_id))
                return _debtor(relation_id, external_id, "per_order", order.customer.email)
            case NoDebtor():
                raise choice.refusal()

    async def _matched(self, client: OctopusClient, order: CanonicalOrder, email: str) -> Debtor:
        async with self._busy.hold((client.account.dossier_key, email.lower())):
            return await self._match(client, order, email)

    async def _match(self, client: OctopusClient, order: CanonicalOrder, email: str) -> Debtor:
        dossier = client.account.dossier_key
        hit = await self.lookup(dossier, email)
        if hit is None and await self.sync(client):
            hit = await self.lookup(dossier, email)
        if hit is not None:
            return _debtor(hit["relation_id"], hit.get("external_id"), "index", email)
        external_id = await self._free_external_id(dossier, email, email)
        relation_id = await self._create(client, relation_body(order, external_id))
        with contextlib.suppress(DuplicateKeyError):  # a sync stored it meanwhile
            await self.relations.update_one(
                {"dossier": dossier, "email": email},
                {
                    "$set": {
                        "relation_id": relation_id,
                        "external_id": external_id,
                        "name": customer_name(order),
                        "updated_at": self.clock(),
                    }
                },
                upsert=True,
            )
        return _debtor(relation_id, external_id, "created", email)

    async def _collective(
        self, client: OctopusClient, choice: CollectiveDebtor, currency: str
    ) -> Debtor:
        dossier = client.account.dossier_key
        known = self._collective_ids.get((dossier, choice.seed))
        if known is not None:
            return _debtor(known[0], known[1], "collective")
        async with self._busy.hold(("collective", dossier, choice.seed)):
            return await self._find_collective(client, choice, currency, dossier)

    async def _find_collective(
        self, client: OctopusClient, choice: CollectiveDebtor, currency: str, dossier: str
    ) -> Debtor:
        known = self._collective_ids.get((dossier, choice.seed))
        if known is not None:  # found by the order that held the lock before us
            return _debtor(known[0], known[1], "collective")
        for attempt in range(20):
            external_id = external_id_for(choice.seed, attempt)
            found = [
                r
                for r in await client.relations_by_external_id(external_id)
                if _external_id(r) == external_id and _relation_id(r) is not None
            ]
            if found and found[0].get("email"):
                continue  # a customer's relation holds this id: not ours, try the next one
            if found:
                relation_id = int(_relation_id(found[0]))  # type: ignore[arg-type]
            else:
                body = collective_body(choice, external_id, currency)
                relation_id = await self._create(client, body)
                log.info(
                    "collective relation created",
                    extra={"relation": relation_id, "country": choice.country_code},
                )
            self._collective_ids[(dossier, choice.seed)] = (relation_id, external_id)
            return _debtor(relation_id, external_id, "collective")
        raise RuntimeError("no free external relation id")  # pragma: no cover

    def forget_debtor(self, dossier: str, debtor: Debtor) -> None:
        """A collective relation Octopus no longer has: find or create it anew next time."""
        self._collective_ids = {
            key: ids
            for key, ids in self._collective_ids.items()
            if not (key[0] == dossier and str(ids[0]) == debtor.id)
        }

    async def _create(self, client: OctopusClient, body: dict[str, Any]) -> int:
        external_id = body["relationIdentificationServiceData"]["externalRelationId"]
        answer = await client.put_relation(body)
        if isinstance(answer, dict):
            found = _relation_id(answer)
            if found is not None:
                return found
        for relation in await client.relations_by_external_id(external_id):
            if _external_id(relation) == external_id and _relation_id(relation) is not None:
                return int(_relation_id(relation))  # type: ignore[arg-type]
        raise Refusal("octopus_refused", message="relation not found after creating it")


def _fixed(value: str) -> Debtor:
    if not value.strip().isdigit():
        raise Refusal("bad_fixed_debtor", debtor=value)
    return _debtor(int(value), None, "fixed")


def fixed_debtor(order: CanonicalOrder, mapping: BookingOptions) -> Debtor | None:
    """The fixed debtor of the order's payment method, or None."""
    debtors = mapping.payment_method_debtors
    value = debtors.get(order.payment_method or "") or debtors.get("*")
    return None if value is None else _fixed(value)


def _vat_type(country: str, vat_number: str | None) -> int:
    # Octopus' enum (Belgian point of view): 1 BE VAT-registered, 4 intra-EU
    # VAT-registered, 6 VAT-registered outside the EU, 7/8/9 private BE/EU/non-EU.
    if vat_number:
        return 1 if country == "BE" else 4 if country in EU else 6
    return 7 if country == "BE" else 8 if country in EU else 9


def relation_body(order: CanonicalOrder, external_id: int) -> dict[str, Any]:
    """A new customer relation. Empty optional fields are left out (Octopus refuses "")."""
    customer, address = order.customer, order.billing_address
    street = (
        " ".join(
            p for p in (address.street, address.house_number, address.house_number_suffix) if p
        )
        or address.address_line
    )
    company = customer.company_name or address.company_name
    body: dict[str, Any] = {
        "relationIdentificationServiceData": {"externalRelationId": external_id},
        "name": company or customer.last_name or address.full_name or customer_name(order),
        "firstName": None if company else customer.first_name,
        "client": True,
        "supplier": False,
        "active": True,
        "streetAndNr": street,
        "postalCode": address.postal_code,
        "city": address.city,
        "country": address.country_code,
        "email": customer.email,
        "telephone": customer.phone,
        "vatNr": customer.vat_number,
        "vatType": _vat_type(address.country_code, customer.vat_number),
        "currencyCode": order.currency,
    }
    return {k: v for k, v in body.items() if v not in (None, "")}


def collective_body(choice: CollectiveDebtor, external_id: int, currency: str) -> dict[str, Any]:
    """The collective relation: its name and country, a private VAT type, nothing of any
    consumer (no e-mail, so the relation index never takes it for a customer)."""
    return {
        "relationIdentificationServiceData": {"externalRelationId": external_id},
        "name": choice.label(),
        "client": True,
        "supplier": False,
        "active": True,
        "country": choice.country_code,
        "vatType": _vat_type(choice.country_code, None),
        "currencyCode": currency,
    }

"""Which SnelStart relatie (klant) an order is booked on.

`koppel_ledger.choose_debtor` decides which debtor (the rules for every ledger); this module
finds or creates it in SnelStart:

- **fixed** (`booking.payment_method_debtors`): its relatiecode (or relatie id) is looked up
  once.
- **collective** (consumers with `booking.consumers = collective`): one relatie per
  connection and destination country, with the collective name and nothing of any
  consumer (no e-mail, phone or person). It has the **relatiecode derived from the
  choice's seed**: looked up by that code, created when absent. The shop's own country
  (NL) gets no address (SnelStart takes Nederland then); another country's collective
  relatie needs that country — SnelStart books foreign VAT (OSS) only on a klant in another
  EU country (notes §6.4) — and an address goes whole or not at all (REL-0060), so its
  street, postcode and city are "-" (UNCONFIRMED that SnelStart itself accepts "-"; the
  sandbox does).
- **matched** (`booking.debtor_matching`): the customer's e-mail is looked up with
  `GET /relaties?$filter=Email eq '…'` (SnelStart can search; the answer is kept in
  memory).
- Unknown customers are created with a **relatiecode derived from the e-mail** (or from
  the order, with matching off — one relatie per order, for merchants whose customers share
  an address). `POST /relaties` is not idempotent, but a relatiecode is unique: a create
  repeated after a lost answer (or by another replica) meets REL-0008 ("Relatiecode reeds
  in gebruik"), and the relatie under that code is adopted when it is ours (same e-mail /
  name; for the collective one: no e-mail), so a retry never makes a second relatie.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from koppel_chassis import PermanentError
from koppel_contracts import BookingOptions, CanonicalOrder, ShopSystem, split_order_key
from koppel_ledger import (
    CollectiveDebtor,
    Debtor,
    FixedDebtor,
    MatchedDebtor,
    NoDebtor,
    OrderDebtor,
    Refusal,
    choose_debtor,
    customer_name,
)

from .client import SnelStartClient, error_codes, odata_text
from .reference import AdministrationCache

CODE_BASE = 100_000_000
CODE_SPACE = 800_000_000
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NAME_LENGTH = 50
UNKNOWN = "-"  # an address part the collective relatie has none of (REL-0060: all or none)

BodyFor = Callable[[int, dict[str, str]], dict[str, Any]]  # (relatiecode, country ids) -> body
IsOurs = Callable[[dict[str, Any], dict[str, Any]], bool]  # (found, body) -> ours?


def relation_code(seed: str, attempt: int = 0) -> int:
    digest = hashlib.sha256(f"koppel|{seed}|{attempt}".encode()).hexdigest()
    return CODE_BASE + int(digest, 16) % CODE_SPACE


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def relation_body(order: CanonicalOrder, code: int, country_ids: dict[str, str]) -> dict[str, Any]:
    """A new klant (notes §5.2). The address goes whole or not at all (REL-0060); the VAT
    number only where its country prefix is the address' country (REL-0087)."""
    customer, address = order.customer, order.billing_address
    body: dict[str, Any] = {
        "relatiesoort": ["Klant"],
        "relatiecode": code,
        "naam": customer_name(order)[:NAME_LENGTH],
        "email": customer.email,
        "telefoon": _cut(customer.phone, 25),
    }
    street = (
        " ".join(
            p for p in (address.street, address.house_number, address.house_number_suffix) if p
        )
        or address.address_line
    )
    land = country_ids.get(address.country_code)
    if street and address.postal_code and address.city and land:
        body["vestigingsAdres"] = {
            "contactpersoon": _cut(address.full_name, 50),
            "straat": street[:50],
            "postcode": address.postal_code[:25],
            "plaats": address.city[:50],
            "land": {"id": land},
        }
    vat = customer.vat_number
    prefix = {"GR": "EL"}.get(address.country_code, address.country_code)
    if vat and vat.upper().startswith(prefix):
        body["btwNummer"] = vat
    return {k: v for k, v in body.items() if v not in (None, "")}


def collective_body(
    choice: CollectiveDebtor, code: int, country_ids: dict[str, str]
) -> dict[str, Any]:
    """The collective klant: its name and, abroad, its country; nothing of any consumer."""
    body: dict[str, Any] = {
        "relatiesoort": ["Klant"],
        "relatiecode": code,
        "naam": choice.label(NAME_LENGTH),
    }
    land = country_ids.get(choice.country_code)
    if not choice.home and land:
        body["vestigingsAdres"] = {
            "straat": UNKNOWN,
            "postcode": UNKNOWN,
            "plaats": UNKNOWN,
            "land": {"id": land},
        }
    return body


class Debtors:
    def __init__(self, reference: AdministrationCache) -> None:
        self.reference = reference
        # (administration, e-mail or collective seed) -> relatie id
        self._known: dict[tuple[str, str], str] = {}

    async def debtor_for(
        self,
        client: SnelStartClient,
        order: CanonicalOrder,
        booking: BookingOptions,
        *,
        order_key: str,
        connection_id: str | None = None,
        shop: ShopSystem | None = None,
    ) -> Debtor:
        choice = choose_debtor(
            order,
            booking,
            connection_id=connection_id or split_order_key(order_key)[0],
            order_key=order_key,
            shop=shop,
        )
        match choice:
            case FixedDebtor(value=value):
                return await self._fixed(client, value)
            case CollectiveDebtor():
                return await self._collective(client, choice)
            case MatchedDebtor(email=email):
                return await self._matched(client, order, email)
            case OrderDebtor(seed=seed):
                relation = await self._create(client, seed, _customer(order), _same_relation)
                email = order.customer.email
                return Debtor(
                    str(relation["id"]), str(relation.get("relatiecode")), "per_order", email
                )
            case NoDebtor():
                raise choice.refusal()

    async def _matched(self, client: SnelStartClient, order: CanonicalOrder, email: str) -> Debtor:
        key = (client.account.administration_key, email)
        known = self._known.get(key)
        if known is None:
            found = await client.relations(f"Email eq {odata_text(email)}")
            known = str(found[0]["id"]) if found else None
        if known is None:
            relation = await self._create(
                client, f"email|{email}", _customer(order), _same_relation
            )
            known = str(relation["id"])
        self._known[key] = known
        return Debtor(known, None, "matched", email)

    async def _collective(self, client: SnelStartClient, choice: CollectiveDebtor) -> Debtor:
        key = (client.account.administration_key, choice.seed)
        known = self._known.get(key)
        if known is None:
            # Looked up first: the relatie exists from the first consumer order on, and a
            # lookup costs one call where a refused create would cost two.
            first = relation_code(choice.seed)
            found = await client.relations(f"Relatiecode eq {first}")
            if found and _no_email(found[0], {}):
                relation = found[0]
            else:
                relation = await self._create(
                    client,
                    choice.seed,
                    lambda code, countries: collective_body(choice, code, countries),
                    _no_email,
                )
            known = str(relation["id"])
            self._known[key] = known
        return Debtor(known, None, "collective")

    async def _fixed(self, client: SnelStartClient, value: str) -> Debtor:
        text = value.strip()
        if GUID.match(text):
            return Debtor(text.lower(), None, "fixed")
        if not text.isdigit():
            raise Refusal("bad_fixed_debtor", debtor=value)
        found = await client.relations(f"Relatiecode eq {int(text)}")
        if not found:
            raise Refusal("bad_fixed_debtor", debtor=value)
        return Debtor(str(found[0]["id"]), text, "fixed")

    async def _create(
        self, client: SnelStartClient, seed: str, body_for: BodyFor, ours: IsOurs
    ) -> dict[str, Any]:
        countries = await self.reference.country_ids(client)
        for attempt in range(5):
            code = relation_code(seed, attempt)
            body = body_for(code, countries)
            try:
                return await client.create_relation(body)
            except PermanentError as error:
                if "REL-0008" not in error_codes(error):
                    raise
            # The code is taken: ours (a create whose answer was lost) or a stranger's.
            found = await client.relations(f"Relatiecode eq {code}")
            if found and ours(found[0], body):
                return found[0]
        raise Refusal("no_free_relation_code")


def _customer(order: CanonicalOrder) -> BodyFor:
    return lambda code, countries: relation_body(order, code, countries)


def _no_email(found: dict[str, Any], body: dict[str, Any]) -> bool:
    """A collective relatie has no e-mail; a customer's under the same code would have one."""
    return not found.get("email")


def _same_relation(found: dict[str, Any], body: dict[str, Any]) -> bool:
    if body.get("email"):
        return str(found.get("email") or "").lower() == str(body["email"]).lower()
    return str(found.get("naam") or "") == str(body.get("naam") or "")

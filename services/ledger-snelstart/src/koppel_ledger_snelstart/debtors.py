"""Which SnelStart relatie (klant) an order is booked on.

1. A fixed debtor per payment method (`booking.payment_method_debtors`, `*` for every
   other method) wins: its relatiecode (or relatie id) is looked up once.
2. With matching on (`booking.debtor_matching`), the customer's e-mail is looked up with
   `GET /relaties?$filter=Email eq '…'` (SnelStart can search; the answer is kept in memory).
3. Unknown customers are created with a **relatiecode derived from the e-mail** (or from
   the order, with matching off — one relatie per order, for merchants whose customers share
   an address). `POST /relaties` is not idempotent, but a relatiecode is unique: a create
   repeated after a lost answer meets REL-0008 ("Relatiecode reeds in gebruik"), and the
   relatie under that code is adopted when it is ours (same e-mail / name), so a retry never
   makes a second relatie.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from koppel_chassis import PermanentError
from koppel_contracts import BookingOptions, CanonicalOrder
from koppel_ledger import Debtor, Refusal, customer_name

from .client import SnelStartClient, error_codes, odata_text
from .reference import AdministrationCache

CODE_BASE = 100_000_000
CODE_SPACE = 800_000_000
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


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
        "naam": customer_name(order)[:50],
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


class Debtors:
    def __init__(self, reference: AdministrationCache) -> None:
        self.reference = reference
        self._known: dict[tuple[str, str], str] = {}  # (administration, e-mail) -> relatie id

    async def debtor_for(
        self,
        client: SnelStartClient,
        order: CanonicalOrder,
        booking: BookingOptions,
        *,
        order_key: str,
    ) -> Debtor:
        fixed = booking.payment_method_debtors.get(order.payment_method or "")
        fixed = fixed or booking.payment_method_debtors.get("*")
        if fixed is not None:
            return await self._fixed(client, fixed)
        email = order.customer.email
        if booking.debtor_matching:
            if not email:
                raise Refusal("no_debtor", payment_method=order.payment_method or "-")
            key = (client.account.administration_key, email)
            known = self._known.get(key)
            if known is None:
                found = await client.relations(f"Email eq {odata_text(email)}")
                known = str(found[0]["id"]) if found else None
            if known is None:
                relation = await self._create(client, order, seed=f"email|{email}")
                known = str(relation["id"])
            self._known[key] = known
            return Debtor(known, None, "matched", email)
        relation = await self._create(client, order, seed=f"order|{order_key}")
        return Debtor(str(relation["id"]), str(relation.get("relatiecode")), "per_order", email)

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
        self, client: SnelStartClient, order: CanonicalOrder, *, seed: str
    ) -> dict[str, Any]:
        countries = await self.reference.country_ids(client)
        for attempt in range(5):
            code = relation_code(seed, attempt)
            body = relation_body(order, code, countries)
            try:
                return await client.create_relation(body)
            except PermanentError as error:
                if "REL-0008" not in error_codes(error):
                    raise
            # The code is taken: ours (a create whose answer was lost) or a stranger's.
            found = await client.relations(f"Relatiecode eq {code}")
            if found and _same_relation(found[0], body):
                return found[0]
        raise Refusal("no_free_relation_code")


def _same_relation(found: dict[str, Any], body: dict[str, Any]) -> bool:
    if body.get("email"):
        return str(found.get("email") or "").lower() == str(body["email"]).lower()
    return str(found.get("naam") or "") == str(body.get("naam") or "")

"""Sealing and revealing an order's personal data. Pure: given the key, no I/O.

Sealed, an order keeps in clear what booking it needs — lines, amounts, VAT rates, the
destination and billing countries and the customer's VAT number (VAT treatment: domestic,
OSS, ICP or export depends on nothing else; the VAT number is also required on an ICP
invoice, art. 35a Wet OB) — and carries the rest, the customer and both addresses as the
shop gave them, as one Fernet token under the customer's key (`personal_data`).

Revealed with the key, it is the order as the shop gave it. Revealed after the key was
erased, it is an anonymous order: the customer named `ERASED_NAME`, the addresses only
their countries, `personal_data` still set (so `order.sealed` stays true and a ledger books
it on the anonymous debtor). Its totals and VAT per rate are those of the original.
"""

from __future__ import annotations

from cryptography.fernet import InvalidToken
from koppel_contracts import (
    Address,
    CanonicalOrder,
    ContractModel,
    Customer,
    OrderEvent,
    SealedPersonalData,
    order_content_hash,
    order_event_id,
)

from .keys import CustomerKey

ERASED_NAME = "Verwijderde klant"
SEALED_SCHEMA_VERSION = 2


class PersonalData(ContractModel):
    """What the token holds."""

    customer: Customer
    billing_address: Address
    shipping_address: Address | None = None


class SealBroken(ValueError):
    """The token does not open with the key it names: altered, or a key mix-up."""


def _country_only(address: Address | None, name: str | None = None) -> Address | None:
    if address is None:
        return None
    return Address(full_name=name, country_code=address.country_code)


def seal_order(order: CanonicalOrder, key: CustomerKey) -> CanonicalOrder:
    """The order with its personal data sealed under `key` (already sealed: unchanged)."""
    if order.sealed:
        return order
    data = PersonalData(
        customer=order.customer,
        billing_address=order.billing_address,
        shipping_address=order.shipping_address,
    )
    token = key.fernet().encrypt(data.model_dump_json().encode()).decode()
    return order.model_copy(
        update={
            "customer": Customer(vat_number=order.customer.vat_number),
            "billing_address": _country_only(order.billing_address),
            "shipping_address": _country_only(order.shipping_address),
            "personal_data": SealedPersonalData(key_id=key.key_id, ciphertext=token),
        }
    )


def reveal_order(order: CanonicalOrder, key: CustomerKey | None) -> CanonicalOrder:
    """The order with its personal data; `key` None: the key was erased (anonymous order)."""
    sealed = order.personal_data
    if sealed is None:
        return order
    if key is None:
        return anonymous(order)
    if key.key_id != sealed.key_id:
        raise SealBroken(f"order sealed with key {sealed.key_id}, not {key.key_id}")
    try:
        plain = key.fernet().decrypt(sealed.ciphertext.encode())
    except InvalidToken:
        raise SealBroken(f"the personal data does not open with key {key.key_id}") from None
    data = PersonalData.model_validate_json(plain)
    return order.model_copy(
        update={
            "customer": data.customer,
            "billing_address": data.billing_address,
            "shipping_address": data.shipping_address,
            "personal_data": None,
        }
    )


def anonymous(order: CanonicalOrder) -> CanonicalOrder:
    """The sealed order of an erased customer, as consumers see it."""
    return order.model_copy(
        update={
            "customer": Customer(last_name=ERASED_NAME, vat_number=order.customer.vat_number),
            "billing_address": _country_only(order.billing_address, ERASED_NAME),
            "shipping_address": _country_only(order.shipping_address, ERASED_NAME),
        }
    )


def is_erased(order: CanonicalOrder) -> bool:
    """After revealing: the customer's key was erased (an anonymous order)."""
    return order.sealed


def seal_event(event: OrderEvent, key: CustomerKey) -> OrderEvent:
    """The event with its order sealed, its content hash (and so its id) that of the order as
    published: a hash of the order in clear would stay on the topic after the erasure, and
    let anyone who guesses all of a person's details confirm they bought it. Sealing is
    random, so a change is sealed once — when its revision is claimed — and a re-publish
    sends the stored event. The ingest's amendment detection does not read this hash: it
    compares its own fingerprint of the shop's order."""
    order = seal_order(event.order, key)
    digest = order_content_hash(order)
    return event.model_copy(
        update={
            "order": order,
            "schema_version": SEALED_SCHEMA_VERSION,
            "content_hash": digest,
            "event_id": order_event_id(
                event.connection_id, event.order_ref, event.kind, digest, event.revision
            ),
        }
    )


def reveal_event(event: OrderEvent, key: CustomerKey | None) -> OrderEvent:
    return event.model_copy(update={"order": reveal_order(event.order, key)})

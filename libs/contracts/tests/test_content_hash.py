"""Content hashes stay the same when the order contract grows.

The ingest republishes an order whose hash changed as an amendment. A field added to the
canonical order must therefore not change the hash of an order that does not use it, or
every known order would be "amended" by the upgrade that added the field.
"""

from __future__ import annotations

from typing import Any

from koppel_contracts import CanonicalOrder, OrderLine, VatRateSource, order_content_hash

# An order as published by the first release; its hash, as that release computed it.
FIRST_RELEASE_ORDER: dict[str, Any] = {
    "source_order_id": "1001",
    "order_number": "WEB-1001",
    "status": "processing",
    "source_status": "2",
    "paid": True,
    "paid_at": "2026-11-20T10:30:00Z",
    "placed_at": "2026-11-20T10:30:00Z",
    "currency": "EUR",
    "prices_include_vat": True,
    "customer": {"email": "jan@example.nl", "first_name": "Jan", "last_name": "Jansen"},
    "billing_address": {
        "street": "Dorpsstraat",
        "house_number": "1",
        "postal_code": "1234 AB",
        "city": "Utrecht",
        "country_code": "NL",
    },
    "lines": [
        {
            "sku": "KB1",
            "description": "Koffiebonen 1kg",
            "quantity": "2",
            "unit_price_excl_vat": "22.89",
            "unit_price_incl_vat": "24.95",
            "vat_rate": "9",
            "total_excl_vat": "45.78",
            "total_incl_vat": "49.90",
        },
    ],
    "totals": {"total_excl_vat": "45.78", "total_vat": "4.12", "total_incl_vat": "49.90"},
}
FIRST_RELEASE_HASH = "77895abd6af71603a9ea779b23f9c5c6f5d93ac47e92cb5d9f3e6fb58f24219f"


def test_an_order_hashes_as_the_first_release_did() -> None:
    order = CanonicalOrder.model_validate(FIRST_RELEASE_ORDER)
    assert order_content_hash(order) == FIRST_RELEASE_HASH


def test_a_later_field_at_its_default_is_left_out_and_set_it_counts() -> None:
    order = CanonicalOrder.model_validate(FIRST_RELEASE_ORDER)
    assert OrderLine.added_fields >= {"vat_rate_source", "offer_reference"}
    defaulted = order.model_copy(
        update={
            "lines": [order.lines[0].model_copy(update={"vat_rate_source": VatRateSource.SHOP})]
        }
    )
    assert order_content_hash(defaulted) == FIRST_RELEASE_HASH
    guessed = order.model_copy(
        update={
            "lines": [order.lines[0].model_copy(update={"vat_rate_source": VatRateSource.DEFAULT})]
        }
    )
    assert order_content_hash(guessed) != FIRST_RELEASE_HASH

"""The mapping's branches for variants, options and VAT-free shipping, on orders the
sandbox renders the way CCV does (seeded, fetched through the client, mapped)."""

from __future__ import annotations

from decimal import Decimal

from koppel_contracts import CanonicalOrder
from koppel_ingest_ccv.client import CcvClient
from koppel_ingest_ccv.mapping import map_order
from pydantic import SecretStr

from .conftest import Shop

D = Decimal


async def _fetched(shop: Shop, **spec: object) -> CanonicalOrder:
    seeded = await shop.control.seed_order(**spec)
    client = CcvClient(shop.url, shop.key.public, SecretStr(shop.key.secret))
    try:
        order = await client.order(seeded["id"])
        rows = await client.order_rows(seeded["id"])
    finally:
        await client.aclose()
    assert order is not None
    return map_order(order, rows)


async def test_a_variant_with_priced_options_is_one_line_at_its_invoiced_total(shop: Shop) -> None:
    mapped = await _fetched(
        shop,
        rows=[
            {
                "attributes": [
                    {"option_name": "Maat", "value_name": "42"},
                    {"option_name": "Zool", "value_name": "Vibram", "price": "15.00"},
                ],
                "tax": 21,
                "discount": "5.00",
                "price": "120.00",
                "count": 2,
                "sub_ean_number": "8712345000042",
                "sub_product_number": "LOOP-42",
                "product_number": "LOOP",
                "product_name": "Hardloopschoen",
            }
        ],
    )
    [shoe] = mapped.lines
    assert (shoe.sku, shoe.ean) == ("LOOP-42", "8712345000042"), "the variant's own"
    assert shoe.description == "Hardloopschoen (Maat: 42, Zool: Vibram)"
    # 2 x (120 - 5 + 15) = 260 invoiced; more than 2 x 120, so 260 is also the gross.
    assert (shoe.total_incl_vat, shoe.unit_price_incl_vat) == (D("260.00"), D("130.00"))
    assert shoe.discount_incl_vat == 0
    assert mapped.totals.total_incl_vat == D("264.95")  # + shipping 4.95


async def test_a_variant_without_its_own_number_keeps_the_products(shop: Shop) -> None:
    mapped = await _fetched(
        shop, rows=[{"product_name": "Mok", "product_number": "MOK", "price": "12.10"}]
    )
    assert mapped.lines[0].sku == "MOK" and mapped.lines[0].description == "Mok"


async def test_shipping_without_vat_when_the_shop_says_its_taxes_are_not_included(
    shop: Shop,
) -> None:
    mapped = await _fetched(
        shop,
        rows=[{"product_name": "Thee", "count": 2, "price": "4.95", "tax": 9}],
        shipping="6.95",
        shipping_taxes_included=False,
    )
    assert mapped.shipping is not None
    assert (mapped.shipping.vat_rate, mapped.shipping.amount_excl_vat) == (D(0), D("6.95"))
    assert mapped.shipping.amount_incl_vat == D("6.95")
    assert mapped.totals.total_vat == D("0.82")  # only the tea's 9 %: 9.90 x 9 / 109

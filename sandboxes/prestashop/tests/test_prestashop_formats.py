"""XML and JSON as PrestaShop's output classes write them (prestashop.md §4)."""

from __future__ import annotations

import json

import pytest

from .conftest import XLINK, Shop, decoded


async def test_an_order_in_xml_has_cdata_xlinks_and_associations(shop: Shop) -> None:
    response = await shop.get("/api/orders/2")
    assert response.headers["Content-Type"].startswith("text/xml")
    text = response.text
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink=')
    assert "<id><![CDATA[2]]></id>" in text
    assert '<shipping_number notFilterable="true"></shipping_number>' in text
    assert "<gift_message></gift_message>" in text, "an empty value is an empty element"
    assert '<order_rows nodeType="order_row" virtualEntity="true">' in text
    root = await shop.xml("/api/orders/2")
    order = root.find("order")
    assert order is not None
    customer = order.find("id_customer")
    assert customer is not None and customer.get(XLINK) == f"{shop.url}/api/customers/2"
    state = order.find("current_state")
    assert state is not None and state.get(XLINK) == f"{shop.url}/api/order_states/2"
    rows = order.findall("associations/order_rows/order_row")
    assert len(rows) == 3
    product = rows[0].find("product_id")
    assert product is not None and product.get(XLINK, "").startswith(f"{shop.url}/api/products/")


async def test_an_empty_foreign_key_loses_its_xlink(shop: Shop) -> None:
    detail = (await shop.xml("/api/order_details/1")).find("order_detail")
    assert detail is not None
    warehouse = detail.find("id_warehouse")
    assert warehouse is not None and warehouse.text == "0" and warehouse.get(XLINK) is None
    taxes = detail.find("associations/taxes")
    assert taxes is not None and (taxes.get("nodeType"), taxes.get("api")) == ("tax", "taxes")
    tax = taxes.find("tax")
    assert tax is not None and tax.get(XLINK) == f"{shop.url}/api/taxes/2"


async def test_amounts_carry_the_scale_of_their_columns(shop: Shop) -> None:
    order = (await shop.json("/api/orders/1"))["order"]
    assert order["total_paid_tax_incl"] == "68.950000"
    assert order["carrier_tax_rate"] == "21.000"
    assert order["conversion_rate"] == "1.000000"
    detail = (await shop.json("/api/order_details/1"))["order_detail"]
    assert detail["unit_price_tax_excl"] == "22.889908", (
        "24.95 incl. 9 % stored excl. with 6 decimals"
    )
    assert detail["reduction_percent"] == "0.00"
    assert (await shop.json("/api/taxes/1"))["tax"]["rate"] == "21.000"


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({"output_format": "JSON"}, {}),
        ({"io_format": "JSON"}, {}),
        ({}, {"Output-Format": "JSON"}),
        ({}, {"Io-Format": "JSON"}),
    ],
    ids=["output_format", "io_format", "Output-Format", "Io-Format"],
)
async def test_json_is_chosen_by_any_of_the_four_switches(
    shop: Shop, params: dict[str, str], headers: dict[str, str]
) -> None:
    response = await shop.http.get(
        "/api/orders", params=params, headers=headers, auth=(shop.key, "")
    )
    assert response.headers["Content-Type"] == "application/json"
    assert decoded(response) == {"orders": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]}


async def test_the_io_format_header_wins_over_the_query_parameter(shop: Shop) -> None:
    response = await shop.http.get(
        "/api/orders",
        params={"output_format": "JSON"},
        headers={"Io-Format": "XML"},
        auth=(shop.key, ""),
    )
    assert response.headers["Content-Type"].startswith("text/xml")


async def test_json_single_object_moves_into_the_plural_list_when_display_is_given(
    shop: Shop,
) -> None:
    single = await shop.json("/api/orders/1")
    assert list(single) == ["order"] and single["order"]["id"] == 1
    with_display = await shop.json("/api/orders/1", display="full")
    assert list(with_display) == ["orders"] and with_display["orders"][0]["id"] == 1
    fields = await shop.json("/api/orders/1", display="[id,reference]")
    assert fields == {"orders": [{"id": 1, "reference": single["order"]["reference"]}]}


@pytest.mark.parametrize("display", [None, "full", "[id,reference]"])
async def test_an_empty_json_list_is_a_bare_array(shop: Shop, display: str | None) -> None:
    params = {"filter[id]": "[999]"} | ({"display": display} if display else {})
    assert await shop.json("/api/orders", **params) == []
    assert await shop.json("/api/orders", limit="100,5") == []


async def test_an_empty_xml_list_keeps_its_list_node(shop: Shop) -> None:
    root = await shop.xml("/api/orders", **{"filter[id]": "[999]"})
    orders = root.find("orders")
    assert orders is not None and len(orders) == 0


async def test_an_unknown_id_is_404_with_an_empty_body_in_both_formats(shop: Shop) -> None:
    for fmt in ("XML", "JSON"):
        response = await shop.get("/api/orders/999", output_format=fmt)
        assert response.status_code == 404
        assert response.content == b""
        assert "Content-Type" not in response.headers


async def test_json_types_follow_the_8x_sample_and_1_7_sends_strings(shop: Shop) -> None:
    order = (await shop.json("/api/orders/1"))["order"]
    assert (order["id_customer"], order["current_state"], order["round_mode"]) == (1, 2, 2)
    assert order["valid"] == "1" and order["gift"] == "0", "booleans stay strings in 8.x"
    row = order["associations"]["order_rows"][0]
    assert row["product_quantity"] == 2 and row["product_price"] == "22.889908"
    await shop.control.configure(api_style="1.7", ps_version="1.7.8.11")
    legacy = await shop.get("/api/orders/1", output_format="JSON")
    assert legacy.headers["PSWS-Version"] == "1.7.8.11"
    old = decoded(legacy)["order"]
    assert old["id"] == 1 and old["id_customer"] == "1" and old["current_state"] == "2"
    assert "note" not in old, "orders.note came with 8.x"
    detail = (await shop.json("/api/order_details/1"))["order_detail"]
    assert "product_mpn" not in detail and "total_refunded_tax_incl" not in detail


async def test_multilang_fields_are_a_list_or_a_string_for_one_language(shop: Shop) -> None:
    state = (await shop.json("/api/order_states/2"))["order_state"]
    assert state["name"] == [
        {"id": "1", "value": "Betaling aanvaard"},
        {"id": "2", "value": "Payment accepted"},
    ]
    english = (await shop.json("/api/order_states/2", language="2"))["order_state"]
    assert english["name"] == "Payment accepted"
    root = await shop.xml("/api/order_states/2")
    languages = root.findall("order_state/name/language")
    assert [(lang.get("id"), lang.text) for lang in languages] == [
        ("1", "Betaling aanvaard"),
        ("2", "Payment accepted"),
    ]
    assert languages[0].get(XLINK) == f"{shop.url}/api/languages/1"
    bad = await shop.get("/api/order_states/2", language="nl")
    assert bad.status_code == 400 and "<![CDATA[79]]>" in bad.text


async def test_json_escapes_slashes_like_php(shop: Shop) -> None:
    response = await shop.get("/api/carriers/2", output_format="JSON")
    assert "https:\\/\\/jouw.postnl.nl" in response.text
    assert json.loads(response.text)["carrier"]["url"].startswith("https://jouw.postnl.nl/")


async def test_hidden_order_detail_fields_are_neither_shown_nor_filterable(shop: Shop) -> None:
    detail = (await shop.json("/api/order_details/1"))["order_detail"]
    assert "tax_rate" not in detail and "tax_name" not in detail
    assert detail["associations"]["taxes"] == [{"id": 2}]
    refused = await shop.get("/api/order_details", **{"filter[tax_rate]": "[9]"})
    assert refused.status_code == 400 and "<![CDATA[32]]>" in refused.text


async def test_order_slip_lists_under_order_slips(shop: Shop) -> None:
    listing = await shop.json("/api/order_slip")
    assert listing == {"order_slips": [{"id": 1}]}
    root = await shop.xml("/api/order_slip")
    item = root.find("order_slips/order_slip")
    assert item is not None and item.get(XLINK) == f"{shop.url}/api/order_slips/1"


async def test_head_answers_the_headers_without_a_body(shop: Shop) -> None:
    response = await shop.http.head("/api/orders/1", auth=(shop.key, ""))
    assert response.status_code == 200 and response.content == b""
    assert response.headers["PSWS-Version"] == "8.1.7"


async def test_a_resource_the_sandbox_does_not_model_is_empty(shop: Shop) -> None:
    key = await shop.control.create_key({"products": ["GET"]})
    response = await shop.get("/api/products", key=key, output_format="JSON")
    assert response.status_code == 200 and decoded(response) == []


async def test_the_dispatcher_url_without_rewriting_answers_the_same(shop: Shop) -> None:
    rewritten = await shop.get("/api/orders/1")
    direct = await shop.get("/webservice/dispatcher.php", url="orders/1")
    assert direct.status_code == 200 and direct.content == rewritten.content

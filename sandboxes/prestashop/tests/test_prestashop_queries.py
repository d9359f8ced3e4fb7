"""display, filter, date=1, sort and limit as manageFilters and SQLUtils apply
them, with PrestaShop's 400 codes (prestashop.md §3)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Shop, decoded, error_codes


async def ids(shop: Shop, resource: str = "orders", **params: Any) -> list[int]:
    data = await shop.json(f"/api/{resource}", **params)
    return [] if data == [] else [item["id"] for item in next(iter(data.values()))]


async def _order(shop: Shop, **spec: Any) -> int:
    return int((await shop.control.create_order(**spec))["order"]["id"])


async def test_exact_or_and_not_filters(shop: Shop) -> None:
    assert await ids(shop, **{"filter[current_state]": "[2]"}) == [1, 2]
    assert await ids(shop, **{"filter[current_state]": "[4|6]"}) == [3, 4]
    assert await ids(shop, **{"filter[current_state]": "![2|4]"}) == [4]
    assert await ids(shop, **{"filter[id]": "3"}) == [3], "a bare value is an exact match"


async def test_between_is_inclusive_sorted_and_numeric_on_number_fields(shop: Shop) -> None:
    assert await ids(shop, **{"filter[id]": "[2,3]"}) == [2, 3]
    assert await ids(shop, **{"filter[id]": "[3,2]"}) == [2, 3], "the ends are sorted first"
    assert await ids(shop, **{"filter[total_paid_tax_incl]": "[60,70]"}) == [1]


async def test_greater_and_lower_than_are_strict(shop: Shop) -> None:
    assert await ids(shop, **{"filter[id]": ">[2]"}) == [3, 4]
    assert await ids(shop, **{"filter[id]": "<[2]"}) == [1]


async def test_an_operator_prestashop_does_not_know_adds_no_condition(shop: Shop) -> None:
    assert await ids(shop, **{"filter[id]": ">=[3]"}) == [1, 2, 3, 4]


async def test_like_filters_are_case_insensitive(shop: Shop) -> None:
    assert await ids(shop, "customers", **{"filter[email]": "%[KOFFIEHOEK]%"}) == [2]
    assert await ids(shop, "customers", **{"filter[email]": "[anna]%"}) == [1]
    assert await ids(shop, "customers", **{"filter[email]": "%[example.nl]"}) == [1, 3, 4]
    assert await ids(shop, "customers", **{"filter[email]": "[ANNA.DEVRIES@EXAMPLE.NL]"}) == [1]


async def test_a_comma_pair_of_words_is_an_exact_match_not_a_range(shop: Shop) -> None:
    await shop.control.create_order(customer={"lastname": "Jansen,Pieter"})
    assert await ids(shop, "customers", **{"filter[lastname]": "[Jansen,Pieter]"}) == [5]


async def test_multilang_fields_filter_in_every_language(shop: Shop) -> None:
    assert await ids(shop, "order_states", **{"filter[name]": "[Shipped]"}) == [4]
    assert await ids(shop, "order_states", **{"filter[name]": "[Verzonden]"}) == [4]


async def test_date_filters_need_date_1(shop: Shop) -> None:
    window = "[2000-01-01 00:00:00,2100-01-01 00:00:00]"
    refused = await shop.get("/api/orders", **{"filter[date_upd]": window})
    assert refused.status_code == 400 and error_codes(refused) == [32]
    assert "date_upd" not in refused.text.split("The full list is:")[1]
    unsorted = await shop.get("/api/orders", sort="[date_upd_ASC]")
    assert unsorted.status_code == 400 and error_codes(unsorted) == [38]
    assert await ids(shop, date="1", **{"filter[date_upd]": window}) == [1, 2, 3, 4]


async def test_a_bare_date_as_interval_end_means_midnight(shop: Shop) -> None:
    await shop.control.set_clock("2030-03-14 15:30:00")
    late = await _order(shop)
    await shop.control.set_clock("2030-03-15 00:00:00")
    midnight = await _order(shop)
    day = await ids(shop, date="1", **{"filter[date_add]": "[2030-03-14,2030-03-15]"})
    assert day == [late, midnight]
    same_day = await ids(shop, date="1", **{"filter[date_add]": "[2030-03-14,2030-03-14]"})
    assert same_day == [], "the end 2030-03-14 is 00:00:00, before the 15:30 order"
    full = "[2030-03-14 00:00:00,2030-03-14 23:59:59]"
    assert await ids(shop, date="1", **{"filter[date_add]": full}) == [late]
    after = await ids(shop, date="1", **{"filter[date_upd]": ">[2030-03-14 15:30:00]"})
    assert after == [midnight]


async def test_the_polling_recipe_pages_changed_orders_in_a_stable_order(shop: Shop) -> None:
    await shop.control.set_clock("2030-01-01 10:00:00")
    first = await _order(shop)
    second = await _order(shop)
    await shop.control.advance_clock(60)
    await shop.control.set_state(first, 4)
    params = {
        "display": "full",
        "date": "1",
        "filter[date_upd]": "[2030-01-01 00:00:00,2030-01-01 23:59:59]",
        "sort": "[date_upd_ASC,id_ASC]",
    }
    page_one = await ids(shop, limit="0,1", **params)
    page_two = await ids(shop, limit="1,1", **params)
    page_three = await ids(shop, limit="2,1", **params)
    assert page_one + page_two == [second, first]
    assert page_three == []


async def test_sort_descending_and_on_several_fields(shop: Shop) -> None:
    assert await ids(shop, sort="id_DESC") == [4, 3, 2, 1]
    assert await ids(shop, sort="[current_state_DESC,id_ASC]") == [4, 3, 1, 2]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [("2", [1, 2]), ("1,2", [2, 3]), ("3,10", [4]), ("abc", [])],
)
async def test_limit_takes_a_count_or_an_offset_and_count(
    shop: Shop, limit: str, expected: list[int]
) -> None:
    assert await ids(shop, limit=limit) == expected


async def test_display_chooses_fields_and_association_fields(shop: Shop) -> None:
    data = await shop.json(
        "/api/orders", display="[id,total_paid,order_rows[id,product_quantity]]", limit="1"
    )
    order = data["orders"][0]
    assert list(order) == ["id", "total_paid", "associations"]
    assert order["associations"]["order_rows"] == [
        {"id": 1, "product_quantity": 2},
        {"id": 2, "product_quantity": 1},
    ]


@pytest.mark.parametrize("fmt", ["XML", "JSON"])
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"filter[nope]": "[1]"}, 32),
        ({"filter[id]": ""}, 33),
        ({"filter[shipping_number]": "[1]"}, 34),
        ({"filter[date_upd][>=]": "2024-01-01"}, 31),
        ({"display": "[id,nope]"}, 35),
        ({"display": "[id,order_rows[nope]]"}, 35),
        ({"display": "id,reference"}, 36),
        ({"sort": "id"}, 37),
        ({"sort": "id_UP"}, 37),
        ({"sort": "nope_ASC"}, 38),
        ({"limit": "1,2,3"}, 39),
        ({"schema": "full"}, 28),
    ],
)
async def test_bad_list_parameters_get_400_with_prestashops_code(
    shop: Shop, params: dict[str, str], code: int, fmt: str
) -> None:
    response = await shop.get("/api/orders", output_format=fmt, **params)
    assert response.status_code == 400
    assert error_codes(response) == [code]


async def test_an_unknown_resource_gets_400_code_27_with_a_suggestion(shop: Shop) -> None:
    response = await shop.get("/api/order", output_format="JSON")
    assert response.status_code == 400
    message = decoded(response)["errors"][0]["message"]
    assert message.startswith('Resource of type "order" does not exists. Did you mean: "orders"?')


async def test_filter_error_suggests_the_closest_field(shop: Shop) -> None:
    response = await shop.get("/api/orders", output_format="JSON", **{"filter[refrence]": "[X]"})
    message = decoded(response)["errors"][0]["message"]
    assert message.startswith('This filter does not exist. Did you mean: "reference"?')


async def test_a_display_error_names_every_field_including_hidden_ones(shop: Shop) -> None:
    response = await shop.get("/api/order_details/1", display="[nope]", output_format="JSON")
    assert response.status_code == 400
    message = decoded(response)["errors"][0]["message"]
    assert 'Unable to display this field "nope"' in message and "tax_rate" in message


async def test_single_objects_ignore_filters_but_check_display(shop: Shop) -> None:
    assert (await shop.get("/api/orders/1", **{"filter[id]": "[2]"})).status_code == 200
    assert error_codes(await shop.get("/api/orders/1", display="oops")) == [36]


async def test_schema_blank_is_an_empty_object_to_fill(shop: Shop) -> None:
    root = await shop.xml("/api/orders", schema="blank")
    order = root.find("order")
    assert order is not None
    assert order.find("reference") is not None and order.findtext("reference") == ""
    # As the 8.x docs show it: association fields are all there, read-only or not.
    assert order.find("associations/order_rows/order_row/product_name") is not None
    customer = (await shop.xml("/api/customers", schema="blank")).find("customer")
    assert customer is not None and customer.find("email") is not None
    assert customer.find("secure_key") is None, "a field without setter is left out"
    synopsis = await shop.xml("/api/orders", schema="synopsis")
    module = synopsis.find("order/module")
    assert module is not None and module.get("required") == "true"

"""Keys, permissions and the webservice switch behave as PrestaShop's dispatcher
and WebserviceRequest::authenticate answer them (prestashop.md §2, §5)."""

from __future__ import annotations

import pytest

from .conftest import Shop, decoded, error_codes

REALM = (
    'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the '
    'login. No password required."'
)


async def test_no_key_at_all_gets_a_plain_text_401_before_anything_else(shop: Shop) -> None:
    await shop.control.disable_webservice()  # the dispatcher refuses before this is checked
    response = await shop.http.get("/api/orders", params={"output_format": "JSON"})
    assert response.status_code == 401
    assert response.text == "401 Unauthorized"
    assert response.headers["WWW-Authenticate"] == REALM
    assert "PSWS-Version" not in response.headers


async def test_the_key_works_as_basic_user_and_as_ws_key_parameter(shop: Shop) -> None:
    basic = await shop.get("/api/orders")
    query = await shop.http.get("/api/orders", params={"ws_key": shop.key})
    assert basic.status_code == query.status_code == 200
    assert basic.content == query.content
    assert basic.headers["PSWS-Version"] == "8.1.7"
    assert basic.headers["X-Powered-By"] == "PrestaShop Webservice"
    assert all(name in basic.headers for name in ("Access-Time", "Execution-Time", "Content-Sha1"))


@pytest.mark.parametrize("fmt", ["XML", "JSON"])
@pytest.mark.parametrize(
    ("key", "codes"),
    [
        ("", [17]),
        ("TOO-SHORT", [18]),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", [20, 21]),
    ],
    ids=["empty", "wrong-length", "unknown"],
)
async def test_a_bad_key_gets_401_with_prestashops_error_codes(
    shop: Shop, key: str, codes: list[int], fmt: str
) -> None:
    response = await shop.http.get("/api/orders", params={"ws_key": key, "output_format": fmt})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == REALM
    assert error_codes(response) == codes
    assert "PSWS-Version" not in response.headers, "only sent after authentication"
    assert (await shop.control.counters())["auth_refused"] == 1


async def test_an_inactive_key_is_not_active_and_has_no_permission(shop: Shop) -> None:
    await shop.control.change_key(shop.key, active=False)
    response = await shop.get("/api/orders", output_format="JSON")
    assert response.status_code == 401
    assert decoded(response) == {
        "errors": [
            {"code": 20, "message": "Authentification key is not active"},
            {"code": 21, "message": "No permission for this authentication key"},
        ]
    }


async def test_a_key_without_any_permission_gets_code_21(shop: Shop) -> None:
    key = await shop.control.create_key({})
    response = await shop.get("/api/orders", key=key)
    assert response.status_code == 401
    assert error_codes(response) == [21]


async def test_a_resource_not_granted_to_the_key_gets_401_code_26(shop: Shop) -> None:
    key = await shop.control.create_key({"orders": ["GET", "HEAD"]})
    assert (await shop.get("/api/orders", key=key)).status_code == 200
    refused = await shop.get("/api/customers/1", key=key, output_format="JSON")
    assert refused.status_code == 401
    assert decoded(refused)["errors"] == [
        {
            "code": 26,
            "message": 'Resource of type "customers" is not allowed with this authentication key',
        }
    ]
    assert "WWW-Authenticate" not in refused.headers
    assert refused.headers["PSWS-Version"], "the key itself was accepted"


async def test_a_key_without_the_view_right_on_one_resource_gets_405_code_25(shop: Shop) -> None:
    key = await shop.control.create_key({"orders": ["HEAD"], "customers": ["GET"]})
    refused = await shop.get("/api/orders", key=key)
    assert refused.status_code == 405
    assert error_codes(refused) == [25]
    assert "Method GET is not allowed for the resource orders with this authentication key" in (
        refused.text
    )
    head = await shop.http.head("/api/orders", auth=(key, ""))
    assert head.status_code == 200 and head.content == b""
    assert (await shop.get("/api/customers", key=key)).status_code == 200


async def test_an_unknown_method_gets_405_code_23(shop: Shop) -> None:
    response = await shop.http.request("PURGE", "/api/orders", auth=(shop.key, ""))
    assert response.status_code == 405
    assert error_codes(response) == [23]


async def test_ps_method_overrides_the_http_method(shop: Shop) -> None:
    response = await shop.get("/api/orders", ps_method="DELETE")
    assert response.status_code == 405
    assert error_codes(response) == [25], "the read-only demo key may not DELETE"


@pytest.mark.parametrize("fmt", ["XML", "JSON"])
async def test_a_disabled_webservice_answers_503_code_22(shop: Shop, fmt: str) -> None:
    await shop.control.disable_webservice()
    response = await shop.get("/api/orders", output_format=fmt)
    assert response.status_code == 503
    assert error_codes(response) == [22]
    assert "The PrestaShop webservice is disabled" in response.text
    await shop.control.set_webservice(True)
    assert (await shop.get("/api/orders")).status_code == 200


async def test_the_root_lists_only_the_resources_of_the_key_with_their_methods(shop: Shop) -> None:
    key = await shop.control.create_key({"orders": ["GET"], "order_histories": ["GET", "POST"]})
    root = await shop.xml("/api/", key=key)
    api = root.find("api")
    assert api is not None and api.get("shop_name") == "Koppel Demowinkel"
    assert [child.tag for child in api] == ["order_histories", "orders"]
    histories = api.find("order_histories")
    assert histories is not None
    assert (histories.get("get"), histories.get("post"), histories.get("delete")) == (
        "true",
        "true",
        "false",
    )
    assert await shop.json("/api/", key=key) == ["order_histories", "orders"]


async def test_multishop_parameters_are_checked_against_the_key(shop: Shop) -> None:
    assert (await shop.get("/api/orders", id_shop="1")).status_code == 200
    assert (await shop.get("/api/orders", id_shop="all")).status_code == 200
    other = await shop.get("/api/orders", id_shop="2")
    assert other.status_code == 403 and error_codes(other) == [132]
    bogus = await shop.get("/api/orders", id_shop="x")
    assert bogus.status_code == 404 and error_codes(bogus) == [999]

"""OAuth2 client credentials on the login host and the bearer token on the API (bol.md §2)."""

from __future__ import annotations

from koppel_sandbox_bol import VENDOR_TYPE


async def test_token_from_form_body_has_bols_shape_and_lifetime(bol) -> None:
    response = await bol.api.login()
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 299, "RETAILER")
    assert len(body["access_token"]) > 40


async def test_token_accepts_grant_type_in_the_query_string(bol) -> None:
    response = await bol.http.post(
        "/token?grant_type=client_credentials", headers={"Authorization": bol.api.basic()}
    )
    assert response.status_code == 200
    assert response.json()["expires_in"] == 299


async def test_wrong_secret_is_invalid_client_401(bol) -> None:
    response = await bol.http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": bol.api.basic(secret="wrong")},
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_client",
        "error_description": "Bad client credentials",
    }


async def test_credentials_only_in_the_form_body_are_refused(bol) -> None:
    creds = bol.api.credentials
    response = await bol.http.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


async def test_secret_in_the_url_is_refused(bol) -> None:
    creds = bol.api.credentials
    response = await bol.http.post(
        "/token",
        params={"grant_type": "client_credentials", "client_secret": creds.client_secret},
        headers={"Authorization": bol.api.basic()},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_missing_or_other_grant_type_is_400(bol) -> None:
    headers = {"Authorization": bol.api.basic()}
    missing = await bol.http.post("/token", headers=headers)
    other = await bol.http.post("/token", data={"grant_type": "password"}, headers=headers)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert (other.status_code, other.json()["error"]) == (400, "unsupported_grant_type")


async def test_token_works_for_its_lifetime_then_expires_with_jwt_expired(bol) -> None:
    bol.api.auto_refresh = False
    await bol.api.login()
    bol.clock.advance(seconds=299)
    assert (await bol.api.get("/retailer/orders")).status_code == 200
    bol.clock.advance(seconds=3)  # exp = iat + 300, plus one second of allowed skew
    expired = await bol.api.get("/retailer/orders")
    assert expired.status_code == 401
    assert expired.headers["content-type"] == f"{VENDOR_TYPE};charset=UTF-8"
    body = expired.json()
    assert body["title"] == "Expired JWT"
    assert body["detail"].startswith(
        "JWT expired at 2026-03-16T09:05:00Z. Current time: 2026-03-16T09:05:02Z, "
        "a difference of 2000 milliseconds."
    )
    await bol.api.login()  # what a client does on "JWT expired": fetch a new token, retry
    assert (await bol.api.get("/retailer/orders")).status_code == 200


async def test_expiry_follows_the_control_clock_too(bol) -> None:
    bol.api.auto_refresh = False
    await bol.api.login()
    await bol.control.advance_clock(600)
    assert (await bol.api.get("/retailer/orders")).status_code == 401


async def test_missing_or_unknown_bearer_token_is_a_401_problem(bol) -> None:
    missing = await bol.http.get("/retailer/orders", headers={"Accept": VENDOR_TYPE})
    bol.api.token = "not-a-token"
    unknown = await bol.api.get("/retailer/orders")
    for response in (missing, unknown):
        assert response.status_code == 401
        assert response.json()["type"] == "https://api.bol.com/problems"


async def test_inactive_account_gets_403_with_bols_text(bol) -> None:
    await bol.control.set_account_active(False)
    response = await bol.api.get("/retailer/orders")
    assert response.status_code == 403
    body = response.json()
    assert set(body) == {"title", "status", "detail", "host"}
    assert body["detail"].startswith("Account is not active, access denied.")


async def test_tokens_are_per_account(bol) -> None:
    other = await bol.control.create_account(name="Andere winkel")
    order = await bol.control.for_account(other.retailer_id).place_order()
    await bol.api.login()
    response = await bol.api.get(f"/retailer/orders/{order['orderId']}")
    assert response.status_code == 404

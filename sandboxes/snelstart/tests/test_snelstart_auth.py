"""Token server and gateway: koppelsleutel → bearer token, subscription key, scopes, expiry."""

from __future__ import annotations

import base64
import json

from koppel_sandbox_snelstart import DEMO, TOKEN_LIFETIME

SUB = {"Ocp-Apim-Subscription-Key": DEMO.subscription_key}


def claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


async def test_clientkey_grant_answers_a_jwt_with_scopes(sandbox) -> None:
    response = await sandbox.http.post(
        "/b2b/token", data={"grant_type": "clientkey", "clientkey": DEMO.koppelsleutel}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599
    payload = claims(body["access_token"])
    assert set(payload["scopes"].split()) == set(DEMO.scopes)
    assert payload["exp"] - payload["iat"] == 3599
    assert payload["administratie"] == DEMO.main.administratie_id


async def test_legacy_password_grant_splits_the_base64_koppelsleutel(sandbox) -> None:
    user, _, password = base64.b64decode(DEMO.oss.koppelsleutel).decode().partition(":")
    response = await sandbox.http.post(
        "/b2b/token", data={"grant_type": "password", "username": user, "password": password}
    )
    assert response.status_code == 200
    assert claims(response.json()["access_token"])["administratie"] == DEMO.oss.administratie_id
    wrong = await sandbox.http.post(
        "/b2b/token", data={"grant_type": "password", "username": user, "password": "nope"}
    )
    assert wrong.status_code == 400 and "error" in wrong.json()


async def test_bad_koppelsleutel_and_misplaced_credentials_are_400(sandbox) -> None:
    http = sandbox.http
    bad = await http.post("/b2b/token", data={"grant_type": "clientkey", "clientkey": "nope"})
    assert bad.status_code == 400
    assert "clientkey" in bad.json()["error"]
    in_url = await http.post(
        "/b2b/token", params={"grant_type": "clientkey", "clientkey": DEMO.koppelsleutel}
    )
    assert in_url.status_code == 400  # credentials belong in the form body
    as_json = await http.post(
        "/b2b/token", json={"grant_type": "clientkey", "clientkey": DEMO.koppelsleutel}
    )
    assert as_json.status_code == 400
    assert as_json.json() == {"error": "unsupported_grant_type"}


async def test_both_headers_are_required_on_every_api_call(sandbox) -> None:
    api, http = sandbox.api, sandbox.http
    await api.fetch_token()
    bearer = {"Authorization": f"Bearer {api.token}"}
    missing_key = await http.get("/v2/companyInfo", headers=bearer)
    assert missing_key.status_code == 401
    assert missing_key.json()["statusCode"] == 401
    assert "missing subscription key" in missing_key.json()["message"]
    wrong_key = await http.get(
        "/v2/companyInfo", headers={**bearer, "Ocp-Apim-Subscription-Key": "x"}
    )
    assert wrong_key.status_code == 401
    assert "invalid subscription key" in wrong_key.json()["message"]
    no_token = await http.get("/v2/companyInfo", headers=SUB)
    assert no_token.status_code == 401 and set(no_token.json()) == {"statusCode", "message"}
    forged = await http.get("/v2/companyInfo", headers={**SUB, "Authorization": "Bearer a.b.c"})
    assert forged.status_code == 401
    # the key may also come as ?subscription-key=, and the secondary key works too
    by_query = await http.get(
        "/v2/companyInfo", headers=bearer, params={"subscription-key": DEMO.subscription_key}
    )
    assert by_query.status_code == 200
    api.subscription_key = DEMO.secondary_subscription_key
    assert (await api.get("/companyInfo"))["administratieNaam"] == DEMO.main.naam


async def test_each_koppelsleutel_opens_exactly_its_administration(sandbox) -> None:
    api = sandbox.api
    assert (await api.get("/companyInfo"))["administratieIdentifier"] == DEMO.main.administratie_id
    await api.fetch_token(DEMO.oss.koppelsleutel)
    info = await api.get("/companyInfo")
    assert info["administratieIdentifier"] == DEMO.oss.administratie_id
    assert info["factureerBuitenlandsBtw"] is True
    # ids of one administration do not exist in the other
    response = await api.call("GET", f"/relaties/{DEMO.main.relaties['hoekje']}")
    assert response.status_code == 404


async def test_tokens_expire_after_3599_seconds_on_the_sandbox_clock(sandbox) -> None:
    api, clock = sandbox.api, sandbox.clock
    await api.fetch_token()
    clock.advance(seconds=TOKEN_LIFETIME.total_seconds() - 1)
    assert (await api.call("GET", "/btwtarieven")).status_code == 200
    clock.advance(seconds=1)
    expired = await api.call("GET", "/btwtarieven")
    assert expired.status_code == 401
    await api.fetch_token()
    assert (await api.call("GET", "/btwtarieven")).status_code == 200


async def test_missing_scope_is_403(sandbox) -> None:
    api, control = sandbox.api, sandbox.control
    await control.set_scopes(DEMO.koppelsleutel, ["relaties:read", "boekhouden:read"])
    await api.fetch_token()
    assert (await api.call("GET", "/relaties")).status_code == 200
    forbidden = await api.call("GET", "/companyInfo")
    assert forbidden.status_code == 403
    assert "settings:read" in forbidden.json()["Message"]
    needs_two = await api.call("GET", f"/relaties/{DEMO.main.relaties['hoekje']}/verkoopboekingen")
    assert needs_two.status_code == 200
    await control.set_scopes(DEMO.koppelsleutel, ["relaties:read"])
    await api.fetch_token()
    path = f"/relaties/{DEMO.main.relaties['hoekje']}/verkoopboekingen"
    assert (await api.call("GET", path)).status_code == 403


async def test_revoked_and_regenerated_koppelsleutels(sandbox) -> None:
    api, control, http = sandbox.api, sandbox.control, sandbox.http
    await api.fetch_token()
    new_key = await control.regenerate_koppelsleutel(DEMO.koppelsleutel)
    assert new_key != DEMO.koppelsleutel
    assert (await api.call("GET", "/companyInfo")).status_code == 401  # old token
    assert (await api.fetch_token(DEMO.koppelsleutel)).status_code == 400  # old key
    assert (await api.fetch_token(new_key)).status_code == 200
    assert (await api.call("GET", "/companyInfo")).status_code == 200
    await control.revoke_koppelsleutel(new_key)
    assert (await api.call("GET", "/companyInfo")).status_code == 401
    again = await http.post("/b2b/token", data={"grant_type": "clientkey", "clientkey": new_key})
    assert again.status_code == 400
    # the other administration is untouched
    assert (await api.fetch_token(DEMO.oss.koppelsleutel)).status_code == 200


async def test_expire_all_tokens_via_control(sandbox) -> None:
    api = sandbox.api
    await api.fetch_token()
    await sandbox.control.expire_tokens()
    assert (await api.call("GET", "/companyInfo")).status_code == 401
    await sandbox.control.advance_clock(1)
    await api.fetch_token()
    assert (await api.call("GET", "/companyInfo")).status_code == 200


async def test_operations_snelstart_lacks_are_apim_404s(sandbox) -> None:
    api, http = sandbox.api, sandbox.http
    no_list = await api.call("GET", "/verkoopboekingen")  # there is no list operation (§4)
    assert no_list.status_code == 404
    assert no_list.json() == {"statusCode": 404, "message": "Resource not found"}
    assert (await api.call("PATCH", f"/relaties/{DEMO.main.relaties['hoekje']}")).status_code == 404
    unknown = await http.get("/v3/relaties")
    assert unknown.status_code == 404 and unknown.json()["statusCode"] == 404


async def test_unknown_ids_are_404_and_ids_that_are_no_guid_too(sandbox) -> None:
    api = sandbox.api
    for path in (
        "/relaties/00000000-0000-0000-0000-000000000001",
        "/verkoopboekingen/00000000-0000-0000-0000-000000000001",
        "/verkoopfacturen/00000000-0000-0000-0000-000000000001",
        "/grootboeken/00000000-0000-0000-0000-000000000001",
        "/relaties/not-a-guid",
    ):
        response = await api.call("GET", path)
        assert response.status_code == 404 and "Message" in response.json(), path


async def test_subscription_key_in_the_query_never_reaches_the_logged_request_line() -> None:
    from koppel_sandbox_snelstart.app import HideSubscriptionKey

    seen: dict = {}

    async def app(scope, receive, send) -> None:
        seen.update(scope)

    scope = {
        "type": "http",
        "query_string": b"%24top=1&subscription-key=SECRET&%24filter=Naam+eq+%27x%27",
        "headers": [(b"authorization", b"Bearer t")],
    }
    await HideSubscriptionKey(app)(scope, None, None)
    assert b"SECRET" not in scope["query_string"]  # the very dict uvicorn logs from
    assert (b"ocp-apim-subscription-key", b"SECRET") in scope["headers"]
    assert b"%24filter=Naam+eq+%27x%27" in seen["query_string"]

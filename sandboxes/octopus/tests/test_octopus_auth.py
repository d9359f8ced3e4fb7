"""Two-token login: softwareHouseUuid + credentials -> Token -> Dossiertoken."""

from __future__ import annotations

from koppel_sandbox_octopus import API_BASE, DEMO

SH = {"softwareHouseUuid": DEMO.software_house_uuid}
CREDS = {"user": DEMO.user, "password": DEMO.password}


async def test_login_lists_dossiers_and_connects(sandbox) -> None:
    http, api = sandbox.http, sandbox.api
    auth = await http.post("/authentication", headers=SH, json=CREDS)
    assert auth.status_code == 200
    token = auth.json()["token"]

    dossiers = await http.get("/dossiers", headers={"Token": token})
    assert dossiers.status_code == 200
    listed = {d["dossierKey"]["id"]: d for d in dossiers.json()}
    assert set(listed) == {DEMO.dossier_id, DEMO.second_dossier_id}
    assert listed[DEMO.dossier_id]["country"] == "NL"

    connect = await http.post(
        "/dossiers", params={"dossierId": DEMO.dossier_id, "localeId": 1}, headers={"Token": token}
    )
    assert connect.status_code == 200
    assert list(connect.json()) == ["Dossiertoken"]  # capital D, lower-case t

    me = await http.get("/authentication", headers={"Token": token})
    assert me.json()["user"] == DEMO.user

    api.dossier_token = connect.json()["Dossiertoken"]
    years = await api.get("/bookyears")
    assert [y["bookyearDescription"] for y in years] == ["2024", "2025", "2026", "2027"]

    # the real base path works too, and `username` is accepted as an alias of `user`
    again = await http.post(
        f"{API_BASE}/authentication",
        headers={"softwareheaderuuid": "x", "SOFTWAREHOUSEUUID": DEMO.software_house_uuid},
        json={"username": DEMO.user, "password": DEMO.password},
    )
    assert again.status_code == 200 and again.json()["token"] != token


async def test_wrong_credentials_and_software_house(sandbox) -> None:
    http, error = sandbox.http, sandbox.api.error
    wrong = await http.post("/authentication", headers=SH, json={**CREDS, "password": "nope"})
    error(wrong, 401)
    unknown_user = await http.post("/authentication", headers=SH, json={**CREDS, "user": "nobody"})
    error(unknown_user, 401)
    missing_header = await http.post("/authentication", json=CREDS)
    assert "softwareHouseUuid" in error(missing_header, 401)["technicalInfo"]
    unknown_house = await http.post(
        "/authentication", headers={"softwareHouseUuid": "00000000-0000"}, json=CREDS
    )
    error(unknown_house, 403)
    no_body = await http.post("/authentication", headers=SH)
    error(no_body, 400)


async def test_tokens_expire_after_ten_minutes_on_the_injected_clock(sandbox) -> None:
    api, clock, error = sandbox.api, sandbox.clock, sandbox.api.error
    await api.login()
    clock.advance(minutes=9, seconds=59)
    assert (await api.call("GET", "/vatcodes")).status_code == 200
    assert (await sandbox.http.get("/dossiers", headers={"Token": api.token})).status_code == 200
    clock.advance(seconds=1)
    error(await api.call("GET", "/vatcodes"), 401)
    error(await sandbox.http.get("/dossiers", headers={"Token": api.token}), 401)
    await api.login()  # a new login works
    assert (await api.call("GET", "/vatcodes")).status_code == 200


async def test_expire_tokens_and_clock_via_control(sandbox) -> None:
    api, control = sandbox.api, sandbox.control
    await api.login()
    await control.expire_tokens()
    sandbox.api.error(await api.call("GET", "/vatcodes"), 401)
    await api.login()
    await control.advance_clock(601)
    sandbox.api.error(await api.call("GET", "/vatcodes"), 401)


async def test_changed_password_invalidates_tokens(sandbox) -> None:
    api, control, http = sandbox.api, sandbox.control, sandbox.http
    await api.login()
    await control.set_password(DEMO.user, "new-secret")
    sandbox.api.error(await api.call("GET", "/vatcodes"), 401)
    sandbox.api.error(await http.post("/authentication", headers=SH, json=CREDS), 401)
    await api.login(password="new-secret")
    assert (await api.call("GET", "/vatcodes")).status_code == 200


async def test_dossier_token_is_required_and_bound_to_its_dossier(sandbox) -> None:
    api, http, error = sandbox.api, sandbox.http, sandbox.api.error
    await api.login()
    error(await http.get(f"/dossiers/{DEMO.dossier_id}/vatcodes"), 401)
    # the auth token is not a dossier token
    error(
        await http.get(f"/dossiers/{DEMO.dossier_id}/vatcodes", headers={"Token": api.token}), 401
    )
    error(
        await http.get(f"/dossiers/{DEMO.dossier_id}/vatcodes", headers={"dossierToken": "forged"}),
        401,
    )
    # a token for dossier A does not open dossier B
    other = await http.get(
        f"/dossiers/{DEMO.second_dossier_id}/vatcodes", headers={"dossierToken": api.dossier_token}
    )
    error(other, 403)
    # header names are case-insensitive (one client sends DossierToken)
    ok = await http.get(
        f"/dossiers/{DEMO.dossier_id}/vatcodes", headers={"DossierToken": api.dossier_token}
    )
    assert ok.status_code == 200
    # dossiers the user may not open, or that do not exist
    token = {"Token": api.token}
    error(
        await http.post("/dossiers", params={"dossierId": DEMO.foreign_dossier_id}, headers=token),
        403,
    )
    error(await http.post("/dossiers", params={"dossierId": 99}, headers=token), 404)
    error(await http.post("/dossiers", headers=token), 400)
    # the dossier token does not replace the auth token on /dossiers
    error(await http.get("/dossiers", headers={"Token": api.dossier_token}), 401)


async def test_unknown_route_has_an_error_body(sandbox) -> None:
    await sandbox.api.login()
    sandbox.api.error(await sandbox.http.get("/nothing-here"), 404)
    sandbox.api.error(await sandbox.api.call("DELETE", "/relations"), 405)

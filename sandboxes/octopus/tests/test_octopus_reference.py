"""Book years, journals, VAT codes, accounts and relations."""

from __future__ import annotations

from decimal import Decimal

from koppel_sandbox_octopus import DEMO

BOOKYEAR_2026 = 3


async def test_bookyears_have_monthly_yyyypp_periods(api) -> None:
    years = {y["bookyearKey"]["id"]: y for y in await api.get("/bookyears")}
    y2026 = years[BOOKYEAR_2026]
    assert (y2026["startDate"], y2026["endDate"], y2026["closed"]) == (
        "2026-01-01",
        "2026-12-31",
        False,
    )
    assert [p["bookyearPeriod"] for p in y2026["periods"]] == [202600 + m for m in range(1, 13)]
    assert y2026["periods"][1] == {
        "bookyearPeriod": 202602,
        "startDate": "2026-02-01",
        "endDate": "2026-02-28",
    }
    assert years[1]["closed"] is True  # 2024


async def test_journals_and_last_booked_number_advances(api, sale, clock) -> None:
    clock.advance(minutes=1)
    journals = await api.get(f"/bookyears/{BOOKYEAR_2026}/journals")
    assert {j["journalKey"] for j in journals} == {"V1", "A1", "F1", "D1"}
    assert all(j["lastBookedDocumentNr"] == 0 for j in journals)
    body = {"buySellBookingServiceData": sale(1), "attachments": []}
    assert (await api.call("POST", "/buysellbookings", body)).status_code == 201
    body = {"buySellBookingServiceData": sale(2), "attachments": []}
    assert (await api.call("POST", "/buysellbookings", body)).status_code == 201
    journals = {j["journalKey"]: j for j in await api.get(f"/bookyears/{BOOKYEAR_2026}/journals")}
    assert journals["V1"]["lastBookedDocumentNr"] == 2
    assert journals["A1"]["lastBookedDocumentNr"] == 0
    changed = await api.get("/journals/modified", modifiedTimeStamp="2026-03-15 10:00:30.000")
    assert [(j["bookyearKey"]["id"], j["journalKey"]) for j in changed] == [(BOOKYEAR_2026, "V1")]
    api.error(await api.call("GET", "/bookyears/77/journals"), 400)


async def test_vat_codes_cover_a_dutch_webshop(api) -> None:
    codes = {c["code"]: c for c in await api.get("/vatcodes")}
    for name in ("21", "9", "0", "icp", "export", "oss_de_19", "purchase_21"):
        assert DEMO.vat_codes[name] in codes
    assert codes[DEMO.vat_codes["9"]]["basePercentage"] == Decimal("9.0")
    assert codes[DEMO.vat_codes["21"]]["type"] == 2
    assert codes[DEMO.vat_codes["purchase_21"]]["type"] == 1
    assert (
        codes[DEMO.vat_codes["icp"]]["defaultSellBookingAccountNr"] == DEMO.accounts["revenue_icp"]
    )
    assert codes[DEMO.vat_codes["oss_fr_5_5"]]["basePercentage"] == Decimal("5.5")


async def test_accounts_are_keyed_by_number(api) -> None:
    accounts = await api.get("/accounts", bookyearId=BOOKYEAR_2026)
    by_number = {a["accountKey"]["id"]: a for a in accounts}
    for name in ("revenue_21", "revenue_9", "revenue_0", "debtors", "bank"):
        assert DEMO.accounts[name] in by_number
    debtors = by_number[DEMO.accounts["debtors"]]
    assert debtors["accountKey"]["bookyearKey"] == {"id": BOOKYEAR_2026}
    assert debtors["description"]["description_NL"] == "Handelsdebiteuren"
    api.error(await api.call("GET", "/accounts"), 400)


async def test_relations_upsert_filters_and_no_email_search(api, clock) -> None:
    clock.advance(minutes=1)
    customer = {
        "relationIdentificationServiceData": {"externalRelationId": 5001},
        "name": "Jansen",
        "firstName": "Piet",
        "client": True,
        "email": "piet@example.nl",
        "country": "NL",
        "postalCode": "1234 AB",
        "vatType": 8,
    }
    created = await api.call("PUT", "/relations", customer)
    assert created.status_code == 200
    rid = created.json()["relationIdentificationServiceData"]["relationKey"]["id"]
    assert rid not in DEMO.relations.values()

    # same externalRelationId -> update, not a second relation
    update = {**customer, "city": "Utrecht"}
    again = await api.call("PUT", "/relations", update)
    assert again.json()["relationIdentificationServiceData"]["relationKey"]["id"] == rid
    # by relationKey.id
    by_id = {"relationIdentificationServiceData": {"relationKey": {"id": rid}}, "mobile": "06-1"}
    assert (await api.call("PUT", "/relations", by_id)).status_code == 200

    found = await api.get("/relations", extRelationId=5001)
    assert len(found) == 1
    assert found[0]["city"] == "Utrecht" and found[0]["mobile"] == "06-1"
    assert found[0]["name"] == "Jansen" and found[0]["email"] == "piet@example.nl"
    assert found[0]["relationIdentificationServiceData"] == {
        "relationKey": {"id": rid},
        "externalRelationId": 5001,
    }
    assert await api.get("/relations", relationId=rid) == found
    assert await api.get("/relations", name="jansen") == found
    assert await api.get("/relations", relationId=999999) == []
    vat = await api.get("/relations", vatNr="nl 1234.567.89 b01")
    assert [r["name"] for r in vat] == ["bol.com B.V."]
    # there is no e-mail search: the parameter is ignored and every relation comes back
    everyone = await api.get("/relations", email="piet@example.nl")
    assert len(everyone) == len(DEMO.relations) + 1

    # externalRelationId 0 and no relationKey forces a new relation
    twin = {**customer, "relationIdentificationServiceData": {"externalRelationId": 0}}
    assert (await api.call("PUT", "/relations", twin)).status_code == 200
    assert len(await api.get("/relations", name="Jansen")) == 2

    changed = await api.get("/relations/modified", modifiedTimeStamp="2026-03-15 10:00:30.000")
    assert {r["name"] for r in changed} == {"Jansen"}
    old = await api.get("/relations/modified", modifiedTimeStamp="2000-01-01 00:00:00.000")
    assert len(old) == len(DEMO.relations) + 2


async def test_relations_reject_empty_strings_and_bad_input(api) -> None:
    base = {"name": "Leeg", "relationIdentificationServiceData": {"externalRelationId": 7}}
    for field in ("country", "postalCode"):
        error = api.error(await api.call("PUT", "/relations", {**base, field: ""}), 400)
        assert field in error["errorMessage"]
    api.error(await api.call("PUT", "/relations", {**base, "country": "Nederland"}), 400)
    api.error(await api.call("PUT", "/relations", {**base, "name": ""}), 400)
    unknown = {"relationIdentificationServiceData": {"relationKey": {"id": 4242}}, "name": "X"}
    api.error(await api.call("PUT", "/relations", unknown), 400)
    assert await api.get("/relations", extRelationId=7) == []
    api.error(await api.call("GET", "/relations/modified"), 400)

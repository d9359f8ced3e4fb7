"""Foreign VAT (OSS, notes §6.4), ICP (BOE-0080) and the foreign rates behind them."""

from __future__ import annotations

from decimal import Decimal

from koppel_sandbox_snelstart import DEMO

OSS = DEMO.oss
SCHMIDT = OSS.relaties["schmidt"]  # private customer in Germany


def german_order(number: str = "OSS-1", **overrides) -> dict:
    """The portal's own example (/oss-btw): DEU 7 % on 67.90 and 19 % on 7.40, the foreign
    VAT (4.75 + 1.41) as ordinary lines on the buitenlandseBtwGrootboek, no `btw` array."""
    g = OSS.grootboek
    body = {
        "factuurnummer": number,
        "klant": {"id": SCHMIDT},
        "factuurdatum": "2026-03-14T00:00:00",
        "factuurbedrag": Decimal("81.46"),
        "boekingsregels": [
            {"grootboek": g("oss_rrl"), "bedrag": Decimal("67.90"), "btwSoort": "Geen"},
            {"grootboek": g("oss_sr"), "bedrag": Decimal("7.40"), "btwSoort": "Geen"},
            {"grootboek": g("foreign_vat"), "bedrag": Decimal("4.75"), "btwSoort": "Geen"},
            {"grootboek": g("foreign_vat"), "bedrag": Decimal("1.41"), "btwSoort": "Geen"},
        ],
        "btw": [],
    }
    body.update(overrides)
    return body


async def oss_api(sandbox):
    await sandbox.api.fetch_token(OSS.koppelsleutel)
    return sandbox.api


async def test_company_info_names_the_foreign_vat_ledger(sandbox) -> None:
    api = await oss_api(sandbox)
    info = await api.get("/companyInfo")
    assert info["factureerBuitenlandsBtw"] is True
    assert info["buitenlandseBtwGrootboek"]["id"] == OSS.grootboeken["foreign_vat"]
    ledger = await api.get(f"/grootboeken/{OSS.grootboeken['foreign_vat']}")
    assert ledger["nummer"] == DEMO.accounts["foreign_vat"].nummer


async def test_oss_booking_for_an_eu_private_customer_is_accepted(sandbox) -> None:
    api = await oss_api(sandbox)
    created = await api.post("/verkoopboekingen", german_order())
    assert created["btw"] == [] and created["factuurbedrag"] == Decimal("81.46")


async def test_oss_refuses_dutch_vat_and_non_oss_accounts(sandbox, codes) -> None:
    api = await oss_api(sandbox)
    g = OSS.grootboek
    dutch = german_order(
        factuurbedrag=Decimal("12.10"),
        boekingsregels=[{"grootboek": g("revenue_hoog"), "bedrag": 10, "btwSoort": "Hoog"}],
        btw=[{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("2.10")}],
    )
    assert sorted(codes(await api.call("POST", "/verkoopboekingen", dutch))) == [
        "BOE-0061",
        "BOE-0069",
    ]
    zero_rated = german_order(
        factuurbedrag=Decimal("10"),
        boekingsregels=[{"grootboek": g("revenue_geen"), "bedrag": 10, "btwSoort": "Geen"}],
    )
    assert codes(await api.call("POST", "/verkoopboekingen", zero_rated)) == ["BOE-0061"]


async def test_foreign_vat_must_match_within_a_cent_per_line(sandbox, codes) -> None:
    api = await oss_api(sandbox)
    body = german_order()
    body["boekingsregels"][2]["bedrag"] = Decimal("4.77")  # 6.18 vs 6.159: 0.021 > 2 × 0.01
    body["factuurbedrag"] = Decimal("81.48")
    assert codes(await api.call("POST", "/verkoopboekingen", body)) == ["BOE-0069"]
    body = german_order()
    body["boekingsregels"][2]["bedrag"] = Decimal("4.76")  # 6.17 vs 6.159: within 0.02
    body["factuurbedrag"] = Decimal("81.47")
    assert (await api.call("POST", "/verkoopboekingen", body)).status_code == 201


async def test_flag_off_books_the_eu_consumer_domestically_until_toggled(sandbox, codes) -> None:
    api = sandbox.api  # main administration: factureerBuitenlandsBtw off
    g = DEMO.main.grootboek
    domestic = {
        "factuurnummer": "DE-NL-1",
        "klant": {"id": DEMO.main.relaties["schmidt"]},
        "factuurdatum": "2026-03-14T00:00:00",
        "factuurbedrag": Decimal("12.10"),
        "boekingsregels": [{"grootboek": g("revenue_hoog"), "bedrag": 10, "btwSoort": "Hoog"}],
        "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("2.10")}],
    }
    assert (await api.call("POST", "/verkoopboekingen", domestic)).status_code == 201
    await sandbox.control.set_foreign_vat(DEMO.main.administratie_id, True)
    assert (await api.get("/companyInfo"))["factureerBuitenlandsBtw"] is True
    domestic["factuurnummer"] = "DE-NL-2"
    assert "BOE-0069" in codes(await api.call("POST", "/verkoopboekingen", domestic))


async def test_oss_rules_start_on_2021_07_01(sandbox) -> None:
    sandbox.clock.now = sandbox.clock.now.replace(year=2024)
    api = await oss_api(sandbox)
    g = OSS.grootboek
    before = {
        "factuurnummer": "PRE-OSS",
        "klant": {"id": SCHMIDT},
        "factuurdatum": "2021-06-30T00:00:00",
        "factuurbedrag": Decimal("12.10"),
        "boekingsregels": [{"grootboek": g("revenue_hoog"), "bedrag": 10, "btwSoort": "Hoog"}],
        "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("2.10")}],
    }
    assert (await api.call("POST", "/verkoopboekingen", before)).status_code == 201


async def test_icp_account_needs_an_eu_customer_with_a_vat_number(sandbox, codes) -> None:
    api = sandbox.api
    g = DEMO.main.grootboek

    def icp(number: str, relatie: str) -> dict:
        return {
            "factuurnummer": number,
            "klant": {"id": DEMO.main.relaties[relatie]},
            "factuurdatum": "2026-03-14T00:00:00",
            "factuurbedrag": Decimal("250.00"),
            "boekingsregels": [{"grootboek": g("revenue_icp"), "bedrag": 250, "btwSoort": "Geen"}],
            "btw": [],
        }

    assert (await api.call("POST", "/verkoopboekingen", icp("ICP-1", "mueller"))).status_code == 201
    assert codes(await api.call("POST", "/verkoopboekingen", icp("ICP-2", "schmidt"))) == [
        "BOE-0080"
    ]
    assert codes(await api.call("POST", "/verkoopboekingen", icp("ICP-3", "hoekje"))) == [
        "BOE-0080"
    ]
    export = icp("EXP-1", "hoekje")
    export["boekingsregels"][0]["grootboek"] = g("revenue_export")
    assert (await api.call("POST", "/verkoopboekingen", export)).status_code == 201


async def test_vatrates_are_dated_per_country(sandbox) -> None:
    api = sandbox.api
    [germany] = await api.get("/vatrates", **{"$filter": "CountryCode eq 'DEU'"})
    rows = {(r["rateCode"], r["validFrom"]): r["rate"] for r in germany["vatRates"]}
    assert rows[("SR", "2021-01-01T00:00:00")] == Decimal("19")
    assert rows[("SR", "2020-07-01T00:00:00")] == Decimal("16")
    definitions = await api.get("/vatratedefinitions")
    assert {d["rateCode"] for d in definitions} == {"SR", "RRH", "RRL", "PR", "SRR"}

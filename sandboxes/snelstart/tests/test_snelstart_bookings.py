"""Verkoopboekingen: the stored model, every BOE rule, and the derived verkoopfactuur."""

from __future__ import annotations

from decimal import Decimal

from koppel_sandbox_snelstart import DEMO
from koppel_sandbox_snelstart.jsonio import loads

G = DEMO.main.grootboek
WEBSHOP = DEMO.main.relaties["webshop_klanten"]
ADMIN = DEMO.main.administratie_id


async def test_post_answers_201_with_the_stored_model(api, booking) -> None:
    created = await api.post("/verkoopboekingen", booking())
    assert created["uri"] == f"/verkoopboekingen/{created['id']}"
    assert created["klant"] == {"id": WEBSHOP, "uri": f"/relaties/{WEBSHOP}"}
    assert created["factuurbedrag"] == Decimal("80.96")
    assert [line["bedrag"] for line in created["boekingsregels"]] == [
        Decimal("49.90"),
        Decimal("13.50"),
        Decimal("3.90"),
        Decimal("1.05"),
    ]
    first = created["boekingsregels"][0]
    assert first["grootboek"]["uri"] == f"/grootboeken/{DEMO.main.grootboeken['revenue_hoog']}"
    assert first["kostenplaats"] is None
    assert created["eenmaligeIncassoMachtiging"] is None and created["documents"] == []
    assert created["modifiedOn"] == "2026-03-14T10:30:00.000"  # naive Dutch local time
    assert await api.get(f"/verkoopboekingen/{created['id']}") == created


async def test_money_as_strings_and_any_casing_reads_back_as_exact_numbers(api, booking) -> None:
    body = {
        "FactuurNummer": "WS-2001",
        "KLANT": {"Id": WEBSHOP},
        "factuurDatum": "2026-03-14",
        "factuurbedrag": "0.30",
        "Boekingsregels": [
            {"Grootboek": G("revenue_geen"), "Bedrag": "0.10", "BtwSoort": "geen"},
            {"grootboek": G("revenue_geen"), "bedrag": "0.20", "btwsoort": "Geen"},
        ],
        "Btw": [],
    }
    response = await api.call("POST", "/verkoopboekingen", body)
    assert response.status_code == 201, response.text
    assert b'"factuurbedrag":0.30' in response.content  # a JSON number, scale kept, no 0.30000004
    stored = loads(response.content)
    assert stored["factuurnummer"] == "WS-2001" and stored["factuurdatum"] == "2026-03-14T00:00:00"
    assert [line["btwSoort"] for line in stored["boekingsregels"]] == ["Geen", "Geen"]
    assert isinstance(response.json()["boekingsregels"][0]["bedrag"], float)


async def test_duplicate_factuurnummer_is_boe_0021(api, booking, codes) -> None:
    await api.post("/verkoopboekingen", booking())
    assert codes(await api.call("POST", "/verkoopboekingen", booking())) == ["BOE-0021"]
    assert (await api.call("POST", "/verkoopboekingen", booking("WS-1043"))).status_code == 201


async def test_balance_is_exact_to_the_cent(api, booking, codes) -> None:
    off_by_a_cent = booking(factuurbedrag=Decimal("80.95"))
    assert codes(await api.call("POST", "/verkoopboekingen", off_by_a_cent)) == ["BOE-0039"]
    sub_cent = booking(factuurbedrag=Decimal("80.9601"))
    assert codes(await api.call("POST", "/verkoopboekingen", sub_cent)) == ["BOE-0039"]


async def test_vat_per_kind_within_a_cent_per_line(api, booking, codes) -> None:
    # Hoog: 53.80 × 21 % = 11.298 over two lines → 11.28 .. 11.318 are accepted
    lenient = booking(
        factuurbedrag=Decimal("80.97"),
        btw=[
            {"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("11.31")},
            {"btwSoort": "VerkopenLaag", "btwBedrag": Decimal("1.31")},
        ],
    )
    assert (await api.call("POST", "/verkoopboekingen", lenient)).status_code == 201
    too_far = booking(
        "WS-1043",
        factuurbedrag=Decimal("80.99"),
        btw=[
            {"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("11.33")},
            {"btwSoort": "VerkopenLaag", "btwBedrag": Decimal("1.31")},
        ],
    )
    assert codes(await api.call("POST", "/verkoopboekingen", too_far)) == ["BOE-0069"]
    missing_low = booking(
        "WS-1044",
        factuurbedrag=Decimal("79.65"),
        btw=[{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("11.30")}],
    )
    assert codes(await api.call("POST", "/verkoopboekingen", missing_low)) == ["BOE-0069"]


async def test_low_rate_follows_btwtarieven_history(api, codes) -> None:
    tarieven = await api.get("/btwtarieven")
    laag = sorted(
        (t["datumVanaf"], t["btwPercentage"]) for t in tarieven if t["btwSoort"] == "Laag"
    )
    assert laag == [
        ("1986-10-01T00:00:00", Decimal("6.0")),
        ("2019-01-01T00:00:00", Decimal("9.0")),
    ]

    def book(number: str, day: str, vat: str) -> dict:
        return {
            "factuurnummer": number,
            "klant": {"id": WEBSHOP},
            "factuurdatum": day,
            "factuurbedrag": Decimal("100") + Decimal(vat),
            "boekingsregels": [{"grootboek": G("revenue_laag"), "bedrag": 100, "btwSoort": "Laag"}],
            "btw": [{"btwSoort": "VerkopenLaag", "btwBedrag": Decimal(vat)}],
        }

    too_old = await api.call("POST", "/verkoopboekingen", book("OLD-1", "2018-12-31", "6.00"))
    assert codes(too_old) == ["BOE-0033"]  # more than 5 years before 2026
    assert (
        await api.call("POST", "/verkoopboekingen", book("NEW-1", "2026-01-02", "9.00"))
    ).status_code == 201
    wrong = await api.call("POST", "/verkoopboekingen", book("NEW-2", "2026-01-02", "6.00"))
    assert codes(wrong) == ["BOE-0069"]


async def test_old_low_rate_six_percent_in_2018(sandbox, codes) -> None:
    sandbox.clock.now = sandbox.clock.now.replace(year=2022)
    api = sandbox.api
    body = {
        "factuurnummer": "OLD-2018",
        "klant": {"id": WEBSHOP},
        "factuurdatum": "2018-12-31T00:00:00",
        "factuurbedrag": Decimal("106.00"),
        "boekingsregels": [{"grootboek": G("revenue_laag"), "bedrag": 100, "btwSoort": "Laag"}],
        "btw": [{"btwSoort": "VerkopenLaag", "btwBedrag": Decimal("6.00")}],
    }
    assert (await api.call("POST", "/verkoopboekingen", body)).status_code == 201
    body.update(factuurnummer="NEW-2019", factuurdatum="2019-01-01T00:00:00")
    assert codes(await api.call("POST", "/verkoopboekingen", body)) == ["BOE-0069"]


async def test_several_errors_come_back_in_one_array(api, booking, codes) -> None:
    body = booking(
        factuurnummer="X" * 26,
        omschrijving="o" * 251,
        boekstuk="b" * 26,
        klant={"id": DEMO.main.relaties["jansen"]},  # a supplier
        factuurbedrag=Decimal("1"),
    )
    body["boekingsregels"][0]["bedrag"] = 0
    found = codes(await api.call("POST", "/verkoopboekingen", body))
    assert set(found) >= {"BOE-0058", "BOE-0071", "BOE-0068", "BOE-0060", "BOE-0028", "BOE-0039"}


async def test_header_rules(api, booking, codes) -> None:
    async def refused(**overrides) -> list[str]:
        return codes(await api.call("POST", "/verkoopboekingen", booking(**overrides)))

    assert await refused(factuurnummer="") == ["BOE-0058"]
    assert await refused(boekingsregels=[], btw=[], factuurbedrag=0) == ["BOE-0023"]
    assert await refused(klant={"id": DEMO.main.relaties["oud"]}) == ["BOE-0054"]
    assert await refused(klant={"id": "00000000-0000-0000-0000-0000000000cc"}) == ["BOE-0060"]
    assert await refused(id="5830cec3-8929-4703-80b4-bd695402a7b0") == ["ALG-0100"]
    assert await refused(factuurdatum=None) == ["BOE-0070"]
    assert await refused(factuurdatum="2019-12-31T00:00:00") == ["BOE-0033"]


async def test_line_account_rules(api, booking, codes) -> None:
    def one_line(grootboek: dict, btw_soort: str | None = "Geen") -> dict:
        line = {"grootboek": grootboek, "bedrag": Decimal("10.00")}
        if btw_soort is not None:
            line["btwSoort"] = btw_soort
        return booking(factuurbedrag=Decimal("10.00"), boekingsregels=[line], btw=[])

    async def refused(body: dict) -> list[str]:
        return codes(await api.call("POST", "/verkoopboekingen", body))

    assert await refused(one_line({"id": "00000000-0000-0000-0000-0000000000dd"})) == ["BOE-0037"]
    assert await refused(one_line({"id": "00000000-0000-0000-0000-000000000000"})) == ["BOE-0089"]
    inactive = one_line(G("revenue_old"), "Hoog")
    inactive["factuurbedrag"] = Decimal("12.10")
    inactive["btw"] = [{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("2.10")}]
    assert await refused(inactive) == ["BOE-0008"]
    assert await refused(one_line(G("memoriaal"))) == ["BOE-0075"]
    assert await refused(one_line(G("vat_payable_hoog"))) == ["BOE-0061"]
    assert await refused(one_line(G("revenue_hoog"), "Laag")) == ["BOE-0082", "BOE-0069"]


async def test_missing_line_btwsoort_is_boe_0082_per_notes_although_spec_allows_empty(
    api, booking, codes
) -> None:
    body = booking()
    del body["boekingsregels"][1]["btwSoort"]
    assert "BOE-0082" in codes(await api.call("POST", "/verkoopboekingen", body))


async def test_reverse_charge_and_purchase_vat_kinds(api, booking, codes) -> None:
    mixed = booking()
    mixed["btw"].append({"btwSoort": "VerkopenVerlegd", "btwBedrag": 0})
    assert codes(await api.call("POST", "/verkoopboekingen", mixed)) == ["BOE-0062"]
    purchase = booking()
    purchase["btw"].append({"btwSoort": "InkopenHoog", "btwBedrag": 0})
    assert codes(await api.call("POST", "/verkoopboekingen", purchase)) == ["BOE-0053"]


async def test_model_binding_errors_have_model_state(api, booking) -> None:
    body = booking(factuurbedrag="tachtig", betalingstermijn=1000)
    response = await api.call("POST", "/verkoopboekingen", body)
    assert response.status_code == 400
    assert response.json()["message"] == "The request is invalid."
    assert "model.factuurbedrag" in response.json()["modelState"]
    wrong_enum = booking()
    wrong_enum["btw"][0]["btwSoort"] = "Hoog"  # a line kind in the VAT array
    state = (await api.call("POST", "/verkoopboekingen", wrong_enum)).json()["modelState"]
    assert list(state) == ["model.btw[0].btwSoort"]
    no_klant = booking()
    del no_klant["klant"]
    required = (await api.call("POST", "/verkoopboekingen", no_klant)).json()
    assert required["modelState"] == {"model.klant": ["The Klant field is required."]}
    no_account = booking()
    del no_account["boekingsregels"][0]["grootboek"]
    state = (await api.call("POST", "/verkoopboekingen", no_account)).json()["modelState"]
    assert list(state) == ["model.boekingsregels[0].grootboek"]
    broken = await api.http.post(
        "/v2/verkoopboekingen",
        content=b"{not json",
        headers={
            "Authorization": f"Bearer {api.token}",
            "Ocp-Apim-Subscription-Key": DEMO.subscription_key,
            "Content-Type": "application/json",
        },
    )
    assert broken.status_code == 400 and "modelState" in broken.json()
    empty = await api.call(
        "POST", "/verkoopboekingen", headers={"Content-Type": "application/json"}
    )
    assert empty.json()[0]["errorCode"] == "ALG-0106"


async def test_verkoopfactuur_is_derived_and_follows_put_and_delete(api, booking, codes) -> None:
    created = await api.post("/verkoopboekingen", booking())
    [factuur] = await api.get("/verkoopfacturen", **{"$filter": "Factuurnummer eq 'WS-1042'"})
    assert factuur["verkoopBoeking"]["id"] == created["id"]
    assert factuur["factuurBedrag"] == Decimal("80.96") == factuur["openstaandSaldo"]
    assert factuur["factuurDatum"] == "2026-03-14T00:00:00"
    assert factuur["vervalDatum"] == "2026-03-28T00:00:00"
    assert factuur["relatie"]["id"] == WEBSHOP
    assert await api.get(f"/verkoopfacturen/{factuur['id']}") == factuur

    changed = booking(
        "WS-1042-A",
        id=created["id"],
        betalingstermijn=30,
        factuurbedrag=Decimal("60.50"),
        boekingsregels=[{"grootboek": G("revenue_hoog"), "bedrag": 50, "btwSoort": "Hoog"}],
        btw=[{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("10.50")}],
    )
    response = await api.call("PUT", f"/verkoopboekingen/{created['id']}", changed, conform=True)
    assert response.status_code == 200
    again = await api.get(f"/verkoopfacturen/{factuur['id']}")
    assert again["factuurnummer"] == "WS-1042-A" and again["factuurBedrag"] == Decimal("60.50")
    assert again["vervalDatum"] == "2026-04-13T00:00:00"
    assert await api.get("/verkoopfacturen", **{"$filter": "Factuurnummer eq 'WS-1042'"}) == []
    mismatch = booking(id="5830cec3-8929-4703-80b4-bd695402a7b0")
    assert codes(await api.call("PUT", f"/verkoopboekingen/{created['id']}", mismatch)) == [
        "ALG-0101"
    ]

    deleted = await api.call("DELETE", f"/verkoopboekingen/{created['id']}")
    assert deleted.status_code == 200 and deleted.json() == {}
    assert (await api.call("GET", f"/verkoopboekingen/{created['id']}")).status_code == 404
    assert (await api.call("GET", f"/verkoopfacturen/{factuur['id']}")).status_code == 404
    assert await api.get("/verkoopfacturen") == []
    # the number is free again
    assert (await api.call("POST", "/verkoopboekingen", booking())).status_code == 201


async def test_put_to_a_duplicate_number_is_refused(api, booking, codes) -> None:
    first = await api.post("/verkoopboekingen", booking())
    await api.post("/verkoopboekingen", booking("WS-1043"))
    clash = booking("WS-1043", id=first["id"])
    assert codes(await api.call("PUT", f"/verkoopboekingen/{first['id']}", clash)) == ["BOE-0021"]
    same = booking("WS-1042", id=first["id"])  # its own number is no duplicate
    assert (await api.call("PUT", f"/verkoopboekingen/{first['id']}", same)).status_code == 200


async def test_payments_lower_the_open_balance_and_block_delete(sandbox, booking, codes) -> None:
    api, control = sandbox.api, sandbox.control
    created = await api.post("/verkoopboekingen", booking())
    paid = await control.register_payment(ADMIN, "WS-1042", "30.00")
    assert paid["openstaandSaldo"] == Decimal("50.96")
    [factuur] = await api.get("/verkoopfacturen", **{"$filter": "OpenstaandSaldo gt 0"})
    assert factuur["openstaandSaldo"] == Decimal("50.96")
    await control.register_payment(ADMIN, "WS-1042")
    assert await api.get("/verkoopfacturen", **{"$filter": "OpenstaandSaldo gt 0"}) == []
    refused = await api.call("DELETE", f"/verkoopboekingen/{created['id']}")
    assert codes(refused) == ["BOE-0083"]


async def test_filed_vat_return_blocks_put_and_delete(sandbox, booking, codes) -> None:
    api, control = sandbox.api, sandbox.control
    created = await api.post("/verkoopboekingen", booking())
    await control.mark_vat_return_filed(ADMIN, created["id"])
    put = await api.call("PUT", f"/verkoopboekingen/{created['id']}", booking())
    assert codes(put) == ["BOE-0046"]
    assert codes(await api.call("DELETE", f"/verkoopboekingen/{created['id']}")) == ["BOE-0046"]
    [listed] = await control.bookings(ADMIN)
    assert listed["_sandbox"]["btwAangifte"] is True


async def test_blocked_periods(sandbox, booking, codes) -> None:
    from datetime import date

    api, control = sandbox.api, sandbox.control
    await control.block_period(ADMIN, date(2026, 3, 31))
    assert codes(await api.call("POST", "/verkoopboekingen", booking())) == ["BOE-0042"]
    await control.block_period(ADMIN, date(2026, 3, 31), door_accountant=True)
    assert codes(await api.call("POST", "/verkoopboekingen", booking())) == ["BOE-0051"]
    await control.block_period(ADMIN, None)
    assert (await api.call("POST", "/verkoopboekingen", booking())).status_code == 201


async def test_bookings_of_one_relatie_and_the_control_listing(sandbox, booking) -> None:
    api, control = sandbox.api, sandbox.control
    hoekje = DEMO.main.relaties["hoekje"]
    await api.post("/verkoopboekingen", booking())
    b2b = booking("WS-B2B-1", klant={"id": hoekje})
    del b2b["betalingstermijn"]
    mine = await api.post("/verkoopboekingen", b2b)
    listed = await api.get(f"/relaties/{hoekje}/verkoopboekingen")
    assert [b["id"] for b in listed] == [mine["id"]]
    assert mine["betalingstermijn"] == 30  # the relatie's krediettermijn when none is sent
    everything = await control.bookings(ADMIN)
    assert [b["factuurnummer"] for b in everything] == ["WS-1042", "WS-B2B-1"]
    assert everything[0]["btw"] == [
        {"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("11.30")},
        {"btwSoort": "VerkopenLaag", "btwBedrag": Decimal("1.31")},
    ]
    assert everything[1]["_sandbox"]["verkoopfactuur"]["vervalDatum"] == "2026-04-13T00:00:00"
    assert await control.bookings(DEMO.oss.administratie_id) == []


async def test_a_tampered_booking_is_stored_off_by_the_delta_once(sandbox, booking) -> None:
    api, control = sandbox.api, sandbox.control
    await control.tamper_next_booking(ADMIN, "1.00")
    tampered = await api.post("/verkoopboekingen", booking())
    plain = await api.post("/verkoopboekingen", booking("WS-1043"))
    assert tampered["factuurbedrag"] == plain["factuurbedrag"] + 1
    first_lines = tampered["boekingsregels"][0]["bedrag"] - plain["boekingsregels"][0]["bedrag"]
    assert first_lines == 1

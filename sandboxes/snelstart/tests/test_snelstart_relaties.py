"""Relaties: create/read/update, the REL rules, and OData lookups over HTTP."""

from __future__ import annotations

from koppel_sandbox_snelstart import DEMO

HOEKJE = DEMO.main.relaties["hoekje"]


def customer(**overrides):
    body = {
        "relatiesoort": ["Klant"],
        "naam": "Bakkerij De Korenschoof",
        "vestigingsAdres": {
            "straat": "Molenweg 3",
            "postcode": "3512 AB",
            "plaats": "Utrecht",
            "land": {"id": DEMO.landen["NL"]},
        },
        "email": "bestel@korenschoof.nl",
        "btwNummer": "NL987654321B01",
    }
    body.update(overrides)
    return body


async def test_create_answers_201_with_id_uri_and_next_free_relatiecode(api) -> None:
    created = await api.post("/relaties", customer())
    assert created["relatiecode"] == len(DEMO.main.relatiecodes) + 1
    assert created["uri"] == f"/relaties/{created['id']}"
    assert created["verkoopBoekingenUri"] == f"/relaties/{created['id']}/verkoopboekingen"
    assert created["vestigingsAdres"]["land"] == {
        "id": DEMO.landen["NL"],
        "uri": f"/landen/{DEMO.landen['NL']}",
    }
    assert created["nonactief"] is False and created["relatiesoort"] == ["Klant"]
    assert await api.get(f"/relaties/{created['id']}") == created
    # the next one gets the next number; an explicit free number is kept
    second = await api.post("/relaties", customer(naam="Tweede", btwNummer=None))
    assert second["relatiecode"] == created["relatiecode"] + 1
    chosen = await api.post("/relaties", customer(naam="Derde", btwNummer=None, relatiecode=500))
    assert chosen["relatiecode"] == 500


async def test_property_names_bind_in_any_casing(api) -> None:
    body = {"RelatieSoort": ["klant"], "NAAM": "Hoofdletters B.V.", "Email": "a@b.nl"}
    response = await api.call("POST", "/relaties", body)
    assert response.status_code == 201
    assert response.json()["relatiesoort"] == ["Klant"] and response.json()["email"] == "a@b.nl"


async def test_land_defaults_to_nederland_and_address_is_all_or_nothing(api, codes) -> None:
    created = await api.post(
        "/relaties",
        customer(vestigingsAdres={"straat": "Dam 1", "postcode": "1012 JS", "plaats": "Amsterdam"}),
    )
    assert created["vestigingsAdres"]["land"]["id"] == DEMO.landen["NL"]
    partial = customer(vestigingsAdres={"straat": "Dam 1"}, naam="Half")
    assert codes(await api.call("POST", "/relaties", partial)) == ["REL-0060"]


async def test_rel_codes_come_back_together(api, codes) -> None:
    body = customer(
        relatiesoort=["Klant", "Leverancier"],
        naam=" ",
        email="geen-adres",
        telefoon="0" * 26,
        krediettermijn=2000,
        relatiecode=DEMO.main.relatiecodes["hoekje"],
        kvkNummer="12AB",
    )
    found = codes(await api.call("POST", "/relaties", body))
    assert sorted(found) == [
        "REL-0003",
        "REL-0006",
        "REL-0007",
        "REL-0008",
        "REL-0013",
        "REL-0061",
        "REL-0065",
    ]


async def test_relatiesoort_geen_and_eigen_are_refused_with_their_codes(api, codes) -> None:
    assert codes(await api.call("POST", "/relaties", customer(relatiesoort=[]))) == ["REL-0001"]
    assert "REL-0001" in codes(await api.call("POST", "/relaties", customer(relatiesoort=["Geen"])))
    assert codes(await api.call("POST", "/relaties", customer(relatiesoort=["Eigen"]))) == [
        "REL-0048"
    ]
    other = await api.call("POST", "/relaties", customer(relatiesoort=["Prospect"]))
    assert other.status_code == 400 and "modelState" in other.json()


async def test_btw_nummer_rules(api, codes) -> None:
    async def refused(number: str, **extra) -> list[str]:
        return codes(await api.call("POST", "/relaties", customer(btwNummer=number, **extra)))

    assert await refused("N") == ["REL-0058"]
    assert await refused("NL" + "1" * 49) == ["REL-0057"]
    assert await refused("NL 123.456.789.B01") == ["REL-0059"]
    assert await refused("DE123456789") == ["REL-0087"]  # address is in NL
    assert await refused("NL12345B01") == ["REL-0088"]
    german = {"straat": "Allee 1", "postcode": "10115", "plaats": "Berlin"}
    ok = await api.post(
        "/relaties",
        customer(
            btwNummer="DE811907980", vestigingsAdres={**german, "land": {"id": DEMO.landen["DE"]}}
        ),
    )
    assert ok["btwNummer"] == "DE811907980"


async def test_address_limits_unknown_land_and_email_lists(api, codes) -> None:
    long_street = customer(
        vestigingsAdres={"straat": "x" * 51, "postcode": "1", "plaats": "p"},
        correspondentieAdres={
            "plaats": "y" * 51,
            "land": {"id": "00000000-0000-0000-0000-00000000000a"},
        },
    )
    assert sorted(codes(await api.call("POST", "/relaties", long_street))) == [
        "REL-0020",
        "REL-0027",
        "REL-0055",
    ]
    unknown_land = customer(
        vestigingsAdres={
            "straat": "s",
            "postcode": "p",
            "plaats": "p",
            "land": {"id": "00000000-0000-0000-0000-00000000000b"},
        },
        btwNummer=None,
    )
    assert codes(await api.call("POST", "/relaties", unknown_land)) == ["REL-0056"]
    assert codes(await api.call("POST", "/relaties", customer(email="a@b.nl;kapot"))) == [
        "REL-0084"
    ]
    assert codes(await api.call("POST", "/relaties", customer(email="a@b.nl" * 50))) == ["REL-0085"]
    several = await api.post("/relaties", customer(email="a@b.nl; c@d.nl", naam="Twee mail"))
    assert several["email"] == "a@b.nl; c@d.nl"
    mail_settings = customer(factuurEmailVersturen={"shouldSend": True}, naam="Factuurmail")
    assert codes(await api.call("POST", "/relaties", mail_settings)) == ["REL-0032"]


async def test_posting_an_id_or_a_too_long_name(api, codes) -> None:
    with_id = customer(id="5830cec3-8929-4703-80b4-bd695402a7b0")
    assert codes(await api.call("POST", "/relaties", with_id)) == ["REL-0063"]
    long_name = await api.call("POST", "/relaties", customer(naam="n" * 51))
    assert long_name.status_code == 400
    assert list(long_name.json()["modelState"]) == ["model.naam"]


async def test_put_replaces_the_model_and_guards_id_and_relatiesoort(api, codes) -> None:
    created = await api.post("/relaties", customer())
    rid = created["id"]
    changed = customer(naam="Bakkerij Korenschoof B.V.", email=None, id=rid)
    response = await api.call("PUT", f"/relaties/{rid}", changed, conform=True)
    assert response.status_code == 200
    updated = response.json()
    assert updated["naam"] == "Bakkerij Korenschoof B.V." and updated["email"] is None
    assert updated["relatiecode"] == created["relatiecode"]
    mismatch = customer(id=HOEKJE)
    assert codes(await api.call("PUT", f"/relaties/{rid}", mismatch)) == ["REL-0047"]
    to_supplier = customer(relatiesoort=["Leverancier"])
    assert codes(await api.call("PUT", f"/relaties/{rid}", to_supplier)) == ["REL-0064"]
    missing = await api.call("PUT", "/relaties/00000000-0000-0000-0000-000000000009", customer())
    assert missing.status_code == 404


async def test_odata_lookups_the_ledger_service_uses(api) -> None:
    by_mail = await api.get("/relaties", **{"$filter": "Email eq 'inkoop@hethoekje.nl'", "$top": 1})
    assert [r["id"] for r in by_mail] == [HOEKJE]
    quoted = await api.get("/relaties", **{"$filter": "Naam eq 'Café Het Hoekje V.O.F.'"})
    assert [r["id"] for r in quoted] == [HOEKJE]
    by_code = await api.get(
        "/relaties", **{"$filter": f"Relatiecode eq {DEMO.main.relatiecodes['hoekje']}"}
    )
    assert [r["id"] for r in by_code] == [HOEKJE]
    klanten = await api.get("/relaties", **{"$filter": "Relatiesoort/any(r:r eq 'Klant')"})
    assert DEMO.main.relaties["jansen"] not in {r["id"] for r in klanten}
    assert len(klanten) == len(DEMO.main.relaties) - 1
    by_id = await api.get("/relaties", **{"$filter": f"Id eq guid'{HOEKJE.upper()}'"})
    assert [r["id"] for r in by_id] == [HOEKJE]
    starts = await api.get("/relaties", **{"$filter": "startswith(Naam,'Café') eq true"})
    assert [r["id"] for r in starts] == [HOEKJE]
    later = await api.get("/relaties", **{"$filter": "ModifiedOn gt datetime'2026-03-14T10:30:00'"})
    assert later == []
    created = await api.post("/relaties", customer(naam="Nieuw O''Brien", btwNummer=None))
    later = await api.get("/relaties", **{"$filter": "ModifiedOn ge datetime'2026-03-14T10:30:00'"})
    assert created["id"] in {r["id"] for r in later}
    apostrophe = await api.get("/relaties", **{"$filter": "Naam eq 'Nieuw O''''Brien'"})
    assert [r["id"] for r in apostrophe] == [created["id"]]


async def test_paging_bad_filters_and_select_over_http(api, codes) -> None:
    first = await api.get("/relaties", **{"$top": 2})
    rest = await api.get("/relaties", **{"$skip": 2, "$top": 500})
    everything = await api.get("/relaties")
    assert isinstance(everything, list) and [r["id"] for r in first + rest] == [
        r["id"] for r in everything
    ]
    unknown = await api.call("GET", "/relaties", params={"$filter": "Nonsense eq 'x'"})
    assert unknown.status_code == 400
    assert "Could not find a property named 'Nonsense'" in unknown.json()["Message"]
    assert codes(await api.call("GET", "/relaties", params={"$filter": "Naam eq"})) == ["ALG-0104"]
    too_many = await api.call("GET", "/relaties", params={"$top": 501})
    assert too_many.status_code == 400
    selected = await api.get("/relaties", **{"$select": "Id,Naam", "$top": 1})
    assert list(selected[0]) == ["id", "naam"]


async def test_landen_ignore_filter_and_grootboeken_apply_it(api) -> None:
    everything = await api.get("/landen")
    ignored = await api.get("/landen", **{"$filter": "Nonsense eq 'x'", "$top": 1})
    assert ignored == everything
    codes_ = {land["landcode"]: land for land in everything}
    assert {"NL", "BE", "DE", "FR", "US", "GB"} <= set(codes_)
    assert codes_["DE"]["landcodeISO"] == "DEU" and codes_["DE"]["id"] == DEMO.landen["DE"]
    assert await api.get(f"/landen/{DEMO.landen['BE']}") == codes_["BE"]
    no_rate = "Grootboekfunctie eq 'InstallatieTeleverkoopBinnenEUgeen' and VatRateCode eq null"
    oss = await api.get("/grootboeken", **{"$filter": no_rate})
    assert oss == []  # every OSS account carries a vatRateCode (portal /oss-btw step 1)
    revenue = await api.get("/grootboeken", **{"$filter": "btwSoort/any(s:s eq 'Hoog')"})
    assert {g["nummer"] for g in revenue} == {8000, 8050, 8090}


ADDRESS_LIMITS = [
    ("vestigingsAdres", "straat", 50, "REL-0020"),
    ("vestigingsAdres", "postcode", 25, "REL-0021"),
    ("vestigingsAdres", "plaats", 50, "REL-0022"),
    ("vestigingsAdres", "contactpersoon", 50, "REL-0023"),
    ("correspondentieAdres", "straat", 50, "REL-0025"),
    ("correspondentieAdres", "postcode", 25, "REL-0026"),
    ("correspondentieAdres", "plaats", 50, "REL-0027"),
    ("correspondentieAdres", "contactpersoon", 50, "REL-0028"),
]


async def test_address_field_lengths(api, codes) -> None:
    full = {"straat": "Dam 1", "postcode": "1012 JS", "plaats": "Amsterdam"}
    for address, part, limit, code in ADDRESS_LIMITS:
        at_limit = customer(**{address: {**full, part: "x" * limit}})
        assert (await api.call("POST", "/relaties", at_limit)).status_code == 201, code
        over = customer(naam="Te lang", **{address: {**full, part: "x" * (limit + 1)}})
        assert codes(await api.call("POST", "/relaties", over)) == [code]


async def test_phone_and_invoice_mail_rules(api, codes) -> None:
    mobile = customer(mobieleTelefoon="06" * 13)
    assert codes(await api.call("POST", "/relaties", mobile)) == ["REL-0012"]
    bad_mail = customer(factuurEmailVersturen={"shouldSend": True, "email": "geen mail"})
    assert codes(await api.call("POST", "/relaties", bad_mail)) == ["REL-0033"]
    good = customer(factuurEmailVersturen={"shouldSend": True, "email": "factuur@korenschoof.nl"})
    created = await api.post("/relaties", good)
    assert created["factuurEmailVersturen"]["shouldSend"] is True

"""Concept sales orders (`/verkooporders`, notes §7) and the articles they need."""

from __future__ import annotations

from decimal import Decimal

from koppel_sandbox_snelstart import DEMO

M = DEMO.main
HOEKJE = M.relaties["hoekje"]


def order(**overrides) -> dict:
    body = {
        "relatie": {"id": HOEKJE},
        "datum": "2026-03-14T00:00:00",
        "omschrijving": "Order 2001 (CCV Shop)",
        "orderreferentie": "CCV-2001",
        "regels": [
            {"artikel": {"id": M.artikelen["opzetborstel"]}, "aantal": 3},
            {"artikel": {"id": M.artikelen["kookboek"]}, "aantal": 1},
        ],
    }
    body.update(overrides)
    return body


async def test_order_is_created_with_snelstart_computed_vat(api) -> None:
    created = await api.post("/verkooporders", order())
    assert created["nummer"] == 1 and created["procesStatus"] == "Order"
    assert created["verkoopOrderStatus"] == "InBehandeling"
    assert created["verkooporderBtwIngaveModel"] == "Exclusief"
    # 3 × 12.39 = 37.17 @21 % (7.81) + 18.31 @9 % (1.65)
    assert created["totaalExclusiefBtw"] == Decimal("55.48")
    assert created["totaalInclusiefBtw"] == Decimal("64.94")
    first = created["regels"][0]
    assert first["omschrijving"] == "Opzetborstels (2 st.)" and first["totaal"] == Decimal("37.17")
    assert created["afleveradres"]["plaats"] == "Alkmaar"  # from the relatie
    assert await api.get(f"/verkooporders/{created['id']}") == created
    assert (await api.get("/companyInfo"))["volgendVerkoopordernummer"] == 2


async def test_inclusive_prices_split_vat_out_per_kind(api) -> None:
    created = await api.post("/verkooporders", order(verkooporderBtwIngaveModel="Inclusief"))
    assert created["totaalInclusiefBtw"] == Decimal("55.48")
    assert created["totaalExclusiefBtw"] == Decimal("47.52")  # 30.72 + 16.80


async def test_order_rules(api, codes) -> None:
    async def refused(body: dict) -> list[str]:
        return codes(await api.call("POST", "/verkooporders", body))

    assert await refused(order(nummer=7)) == ["VOR-0005"]
    assert await refused(order(orderreferentie="r" * 51)) == ["VOR-0011"]
    assert await refused(order(relatie={"id": M.relaties["jansen"]})) == ["VOR-0002"]
    unknown = order(regels=[{"artikel": {"id": "00000000-0000-0000-0000-0000000000ee"}}])
    assert await refused(unknown) == ["ART-0001"]
    address = {"straat": "s" * 51, "land": {"id": "00000000-0000-0000-0000-0000000000ef"}}
    assert sorted(await refused(order(afleveradres=address))) == ["VOR-0006", "VOR-0010"]
    invoice = await api.call("POST", "/verkooporders", order(procesStatus="Factuur"))
    assert invoice.status_code == 400 and "model.procesStatus" in invoice.json()["modelState"]
    no_date = order()
    del no_date["datum"]
    missing = (await api.call("POST", "/verkooporders", no_date)).json()
    assert missing["modelState"] == {"model.datum": ["The Datum field is required."]}


async def test_orders_list_filter_and_delete(api) -> None:
    first = await api.post("/verkooporders", order())
    second = await api.post("/verkooporders", order(procesStatus="Offerte"))
    offertes = await api.get("/verkooporders", **{"$filter": "ProcesStatus eq 'Offerte'"})
    assert [o["id"] for o in offertes] == [second["id"]]
    by_ref = await api.get("/verkooporders", **{"$filter": "Orderreferentie eq 'CCV-2001'"})
    assert len(by_ref) == 2
    deleted = await api.call("DELETE", f"/verkooporders/{first['id']}")
    assert deleted.status_code == 201 and deleted.json() == {}  # 201, as the spec says
    assert (await api.call("GET", f"/verkooporders/{first['id']}")).status_code == 404


async def test_articles_and_their_revenue_groups(api) -> None:
    artikelen = await api.get("/artikelen", **{"$filter": "Artikelcode eq '1002'"})
    [kookboek] = artikelen
    assert kookboek["id"] == M.artikelen["kookboek"]
    group = await api.get(f"/artikelomzetgroepen/{kookboek['artikelOmzetgroep']['id']}")
    assert group["verkoopNederlandBtwSoort"] == "Laag"
    assert group["verkoopGrootboekNederlandIdentifier"]["id"] == M.grootboeken["revenue_laag"]
    assert len(await api.get("/artikelomzetgroepen")) == 4
    assert (await api.get(f"/artikelen/{M.artikelen['cadeaubon']}"))["verkoopprijs"] == Decimal(
        "25.00"
    )


async def test_order_address_lengths(api, codes) -> None:
    for part, limit, code in (
        ("straat", 50, "VOR-0006"),
        ("postcode", 25, "VOR-0007"),
        ("plaats", 50, "VOR-0008"),
        ("contactpersoon", 50, "VOR-0009"),
    ):
        ok = await api.call("POST", "/verkooporders", order(factuuradres={part: "x" * limit}))
        assert ok.status_code == 201, code
        over = order(factuuradres={part: "x" * (limit + 1)})
        assert codes(await api.call("POST", "/verkooporders", over)) == [code]

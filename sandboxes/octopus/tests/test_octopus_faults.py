"""Quota, injected faults, tampering, call counts, reset."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest
from koppel_sandbox_octopus import DEMO

BOOKYEAR_2026 = 3


def wrap(data: dict) -> dict:
    return {"buySellBookingServiceData": data, "attachments": []}


async def test_daily_quota_per_endpoint_per_dossier(sandbox, clock) -> None:
    api, control = sandbox.api, sandbox.control
    await control.set_quota(3)
    await api.login()
    for _ in range(3):
        assert (await api.call("GET", "/vatcodes")).status_code == 200
    over = await api.call("GET", "/vatcodes")
    body = api.error(over, 429)
    assert "vatcodes" in body["technicalInfo"]
    assert int(over.headers["Retry-After"]) == 86_400
    # other endpoints and other dossiers have their own counters
    assert (await api.call("GET", "/bookyears")).status_code == 200
    await api.login(DEMO.second_dossier_id)
    assert (await api.call("GET", "/vatcodes")).status_code == 200
    # the next day the quota is back
    await api.login()
    clock.advance(days=1)
    await api.login()
    assert (await api.call("GET", "/vatcodes")).status_code == 200
    await control.set_quota(None)
    for _ in range(5):
        assert (await api.call("GET", "/bookyears")).status_code == 200


async def test_demo_quota_defaults_to_400(sandbox) -> None:
    assert sandbox.state.quota == 400


async def test_injected_5xx_and_429_have_octopus_bodies(api, sandbox, sale) -> None:
    control = sandbox.control
    await control.add_fault(status=503, path="buysellbookings|invoices", times=2)
    await control.add_fault(status=429, path="relations")
    first = await api.call("POST", "/buysellbookings", wrap(sale(1)))
    api.error(first, 503)
    api.error(await api.call("GET", "/buysellbookings"), 503)
    throttled = await api.call("GET", "/relations")
    api.error(throttled, 429)
    assert throttled.headers["Retry-After"] == "1"
    assert (await api.call("POST", "/buysellbookings", wrap(sale(1)))).status_code == 201
    assert (await api.call("GET", "/relations")).status_code == 200
    # the list-GET 400 quirk, on plain GETs only
    await control.add_fault(status=400, path=r"/relations$", method="GET")
    api.error(await api.call("GET", "/relations"), 400)
    assert (await api.call("GET", "/relations")).status_code == 200
    await control.add_fault(status=500, path="vatcodes", times=5)
    await control.clear_faults()
    assert (await api.call("GET", "/vatcodes")).status_code == 200
    # faults never touch the control API
    await control.add_fault(status=500, path=".*")
    assert await control.buysell_bookings(DEMO.dossier_id) != []
    await control.clear_faults()


async def test_timeout_fault_hangs_until_the_client_gives_up(api, sandbox, sale) -> None:
    await sandbox.control.add_fault(timeout=True, path="buysellbookings", method="POST")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await api.http.post(
            f"/dossiers/{DEMO.dossier_id}/buysellbookings",
            content=b"{}",
            headers={"dossierToken": api.dossier_token},
            timeout=0.3,
        )
    assert time.monotonic() - started < 2
    assert await sandbox.control.buysell_bookings(DEMO.dossier_id) == []
    assert (await api.call("POST", "/buysellbookings", wrap(sale(1)))).status_code == 201
    # (the fixture's server shutdown must not wait for the abandoned request)


async def test_tamper_next_buysell_booking(api, sandbox, sale) -> None:
    await sandbox.control.tamper_next_document("1.00", relation_id=DEMO.relations["bol_customers"])
    assert (await api.call("POST", "/buysellbookings", wrap(sale(1)))).status_code == 201
    [tampered] = await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=1)
    assert tampered["amount"] == Decimal("65.93")
    assert sum(ln["baseAmount"] + ln["vatAmount"] for ln in tampered["bookingLines"]) == Decimal(
        "65.93"
    )
    assert (
        tampered["relationIdentificationServiceData"]["relationKey"]["id"]
        == DEMO.relations["bol_customers"]
    )
    # only the next document
    assert (await api.call("POST", "/buysellbookings", wrap(sale(2)))).status_code == 201
    [clean] = await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=2)
    assert clean["amount"] == Decimal("64.93")


async def test_tamper_next_invoice_and_financial_booking(api, sandbox, invoice) -> None:
    control = sandbox.control
    await control.tamper_next_document("0.05")
    assert (await api.call("POST", "/invoices", invoice(1))).status_code == 201
    [view] = await control.invoices(DEMO.dossier_id)
    assert view["_sandbox"]["totalInclVat"] == Decimal("64.94") + Decimal("0.05")
    [stored] = await api.get("/invoices", bookyearId=BOOKYEAR_2026, documentSeqNr=1)
    assert len(stored["invoiceLines"]) == 3

    await control.tamper_next_document("0", relation_id=DEMO.relations["webshop_customers"])
    body = {
        "financialDiversBookingServiceData": {
            "bookyearKey": {"id": BOOKYEAR_2026},
            "journalKey": "D1",
            "documentSequenceNr": 1,
            "bookyearPeriodeNr": 202603,
            "documentDate": "2026-03-31",
            "exchangeRate": 1,
            "bookingLines": [
                {"type": "C", "relationId": DEMO.relations["bol_customers"], "amount": -10},
                {"type": "A", "accountKey": DEMO.accounts["transit"], "amount": 10},
            ],
        }
    }
    assert (await api.call("POST", "/financialdiversbookings", body)).status_code == 201
    [booking] = await control.financial_bookings(DEMO.dossier_id)
    assert booking["bookingLines"][0]["relationId"] == DEMO.relations["webshop_customers"]
    assert booking["bookingLines"][1]["amount"] == 10


async def test_call_counts_and_reset(api, sandbox, sale) -> None:
    control = sandbox.control
    assert (await api.call("POST", "/buysellbookings", wrap(sale(1)))).status_code == 201
    await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=1)
    counts = await control.calls(DEMO.dossier_id)
    assert counts == {
        "GET /dossiers/{d}/buysellbookings": 1,
        "POST /dossiers/{d}/buysellbookings": 1,
    }
    everything = await control.calls()
    assert everything["POST /authentication"] == 1
    assert everything["POST /dossiers"] == 1

    await control.add_fault(status=500, path="vatcodes")
    await control.reset()
    assert await control.buysell_bookings(DEMO.dossier_id) == []
    assert await control.calls() == {}
    assert (await control.faults())["pending"] == []
    api.error(await api.call("GET", "/vatcodes"), 401)  # tokens are gone too
    await api.login()
    assert (await api.call("GET", "/vatcodes")).status_code == 200
    assert (await control.identity())["dossier_id"] == DEMO.dossier_id

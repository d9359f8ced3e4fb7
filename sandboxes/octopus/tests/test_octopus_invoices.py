"""Invoicing module: concept invoices, the VAT rule, booking, credit notes."""

from __future__ import annotations

from decimal import Decimal

from koppel_sandbox_octopus import DEMO, invoice_line_amounts

BOOKYEAR_2026 = 3
D = Decimal


def test_vat_rule_is_half_up_per_line() -> None:
    assert invoice_line_amounts(D(3), D("12.39"), D(0), D(21)) == (D("37.17"), D("7.81"))
    assert invoice_line_amounts(D(1), D("0.50"), D(0), D(21)) == (D("0.50"), D("0.11"))  # 0.105
    assert invoice_line_amounts(D(3), D("0.335"), D(0), D(9)) == (D("1.01"), D("0.09"))  # 1.005
    assert invoice_line_amounts(D(1), D("10.00"), D(15), D(21)) == (D("8.50"), D("1.79"))  # 1.785
    assert invoice_line_amounts(D(-1), D("0.50"), D(0), D(21)) == (D("-0.50"), D("-0.11"))


async def test_concept_invoice_create_read_update_and_book(api, invoice, sandbox) -> None:
    posted = invoice(1)
    created = await api.call("POST", "/invoices", posted)
    assert created.status_code == 201
    [stored] = await api.get(
        "/invoices", bookyearId=BOOKYEAR_2026, journalKey="V1", documentSeqNr=1
    )
    assert stored["reference"] == "ORD-2001"
    assert stored["invoiceLines"][0]["unitPrice"] == D("12.39")
    assert stored["invoiceLines"][0]["count"] == 3
    assert (
        stored["relationIdentificationServiceData"]["relationKey"]["id"]
        == DEMO.relations["webshop_customers"]
    )
    assert await api.get("/invoices", bookyearKeyId=BOOKYEAR_2026, documentSequenceNr=1) == [stored]

    [control_view] = await sandbox.control.invoices(DEMO.dossier_id)
    assert control_view["_sandbox"] == {
        "booked": False,
        "totalExclVat": D("55.48"),
        "totalVat": D("9.46"),
        "totalInclVat": D("64.94"),
    }
    # a concept holds its number; a concept is not a booking
    journals = {j["journalKey"]: j for j in await api.get(f"/bookyears/{BOOKYEAR_2026}/journals")}
    assert journals["V1"]["lastBookedDocumentNr"] == 1
    assert await api.get("/buysellbookings") == []
    api.error(await api.call("POST", "/invoices", invoice(1)), 400)  # duplicate number

    # update the concept: one line per rate with count 1 and unitPrice = base
    exact = [
        {"description": "21%", "count": 1, "unitPrice": D("37.17"), "vatCodeKey": "21"},
        {"description": "9%", "count": 1, "unitPrice": D("18.30"), "vatCodeKey": "9"},
    ]
    assert (await api.call("PUT", "/invoices", invoice(1, exact))).status_code == 200
    [updated] = await api.get("/invoices", bookyearId=BOOKYEAR_2026, documentSeqNr=1)
    assert updated["invoiceLines"][0]["bookingAccountNr"] == DEMO.accounts["revenue_21"]  # default
    changed = await api.get(
        "/invoices/modified", bookyearId=-1, modifiedTimeStamp="2026-03-15 09:00:00.000"
    )
    assert changed == [updated]

    booked = await api.call(
        "POST",
        "/invoices/book",
        bookyearId=BOOKYEAR_2026,
        journalKey="V1",
        toDocumentSequenceNr=1,
        attachUbl="false",
    )
    assert booked.status_code == 200
    assert booked.json() == {
        "success": True,
        "bookingStatusList": [
            {
                "documentKey": {
                    "bookyearKey": {"id": BOOKYEAR_2026},
                    "journal": "V1",
                    "documentSequenceNr": 1,
                },
                "statusCode": 0,
                "comment": "",
                "success": True,
            }
        ],
    }
    [booking] = await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=1)
    assert booking["amount"] == D("64.93")
    assert booking["reference"] == "ORD-2001"
    assert [(ln["baseAmount"], ln["vatAmount"]) for ln in booking["bookingLines"]] == [
        (D("37.17"), D("7.81")),
        (D("18.30"), D("1.65")),
    ]
    [control_view] = await sandbox.control.invoices(DEMO.dossier_id)
    assert control_view["_sandbox"]["booked"] is True
    api.error(await api.call("PUT", "/invoices", invoice(1, exact)), 400)  # booked: no changes


async def test_credit_note_is_a_negative_count(api, invoice) -> None:
    lines = [{"description": "retour", "count": -1, "unitPrice": D("37.17"), "vatCodeKey": "21"}]
    assert (await api.call("POST", "/invoices", invoice(7, lines))).status_code == 201
    assert (await api.call("POST", "/invoices", invoice(8))).status_code == 201
    result = await api.call(
        "POST", "/invoices/book", bookyearId=BOOKYEAR_2026, journalKey="V1", toDocumentSequenceNr=7
    )
    assert [s["documentKey"]["documentSequenceNr"] for s in result.json()["bookingStatusList"]] == [
        7
    ]
    [credit] = await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=7)
    assert credit["amount"] == D("-44.98")
    assert credit["bookingLines"][0]["baseAmount"] == D("37.17")
    assert credit["bookingLines"][0]["vatAmount"] == D("7.81")
    assert await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=8) == []


async def test_invoice_validation(api, invoice, sandbox) -> None:
    bad_code = invoice(1, [{"count": 1, "unitPrice": D("1.00"), "vatCodeKey": "V9"}])
    api.error(await api.call("POST", "/invoices", bad_code), 500)
    bad_account = invoice(
        1, [{"count": 1, "unitPrice": D("1.00"), "vatCodeKey": "21", "bookingAccountNr": 123}]
    )
    api.error(await api.call("POST", "/invoices", bad_account), 400)
    api.error(await api.call("POST", "/invoices", {"invoiceServiceData": invoice(1)}), 400)
    api.error(await api.call("POST", "/invoices", invoice(1, journalKey="F1")), 400)
    api.error(await api.call("POST", "/invoices", invoice(1, bookyearPeriodeNr=202699)), 400)
    api.error(
        await api.call(
            "POST",
            "/invoices",
            invoice(1, relationIdentificationServiceData={"externalRelationId": 404}),
        ),
        400,
    )
    api.error(await api.call("PUT", "/invoices", invoice(3)), 400)  # unknown invoice
    assert await api.get("/invoices") == []

    # closed period at booking time: the status says so, the concept stays a concept
    assert (await api.call("POST", "/invoices", invoice(1))).status_code == 201
    await sandbox.control.close_period(DEMO.dossier_id, 202603)
    result = await api.call(
        "POST", "/invoices/book", bookyearId=BOOKYEAR_2026, journalKey="V1", toDocumentSequenceNr=1
    )
    assert result.json()["success"] is False
    assert result.json()["bookingStatusList"][0]["success"] is False
    assert await api.get("/buysellbookings") == []


async def test_invoice_module_off_answers_403(sandbox, invoice) -> None:
    api = sandbox.api
    await api.login(DEMO.second_dossier_id)
    error = api.error(await api.call("POST", "/invoices", invoice(1)), 403)
    assert "facturatiemodule" in error["errorMessage"]
    api.error(await api.call("GET", "/invoices"), 403)
    await sandbox.control.set_invoice_module(DEMO.second_dossier_id, True)
    assert (await api.call("POST", "/invoices", invoice(1))).status_code == 201

"""Buy/sell bookings and financial/divers bookings: validation and read-back."""

from __future__ import annotations

import copy
from decimal import Decimal

from koppel_sandbox_octopus import DEMO

BOOKYEAR_2026 = 3


def wrap(data: dict) -> dict:
    return {"buySellBookingServiceData": data, "attachments": []}


async def test_booking_is_read_back_exactly_with_both_parameter_spellings(
    api, sale, sandbox
) -> None:
    posted = sale(1)
    created = await api.call("POST", "/buysellbookings", wrap(posted))
    assert created.status_code == 201 and created.content == b""

    a = await api.get(
        "/buysellbookings", bookyearKeyId=BOOKYEAR_2026, journalKey="V1", documentSequenceNr=1
    )
    b = await api.get(
        "/buysellbookings", bookyearId=BOOKYEAR_2026, journalKey="V1", documentSeqNr=1
    )
    assert a == b and len(a) == 1
    booking = a[0]
    expected = copy.deepcopy(posted)
    expected["relationIdentificationServiceData"] = {
        "relationKey": {"id": DEMO.relations["webshop_customers"]},
        "externalRelationId": 0,
    }
    assert booking == expected
    assert booking["amount"] == Decimal("64.93")
    assert await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=2) == []

    # money leaves as JSON numbers with two decimals
    raw = (await api.call("GET", "/buysellbookings", bookyearId=BOOKYEAR_2026)).text
    assert '"amount":64.93' in raw and '"exchangeRate":1.00' in raw
    assert '"vatRecupPercentage":100.00' in raw

    modified = await api.get(
        "/buysellbookings/modified",
        bookyearId=-1,
        journalKey="V1",
        modifiedTimeStamp="2000-01-01 00:00:00.000",
    )
    assert isinstance(modified, list) and modified == a
    assert await sandbox.control.buysell_bookings(DEMO.dossier_id) == a


async def test_credit_note_has_negative_amount_and_positive_lines(api, sale) -> None:
    credit = sale(5, amount=Decimal("-64.93"), reference="ORD-1001-C")
    assert (await api.call("POST", "/buysellbookings", wrap(credit))).status_code == 201
    negative_lines = copy.deepcopy(credit)
    negative_lines["documentSequenceNr"] = 6
    for line in negative_lines["bookingLines"]:
        line["baseAmount"], line["vatAmount"] = -line["baseAmount"], -line["vatAmount"]
    api.error(await api.call("POST", "/buysellbookings", wrap(negative_lines)), 400)


async def test_booking_validation_errors(api, sale) -> None:
    def post(data: dict, wrapped: bool = True):
        return api.call("POST", "/buysellbookings", wrap(data) if wrapped else data)

    assert (await post(sale(1))).status_code == 201
    duplicate = api.error(await post(sale(1)), 400)
    assert "documentSequenceNr 1" in duplicate["technicalInfo"]

    api.error(await post(sale(2), wrapped=False), 400)  # wrapper missing
    unbalanced = api.error(await post(sale(2, amount=Decimal("64.94"))), 400)
    assert "64.93" in unbalanced["technicalInfo"]

    bad_account = sale(2)
    bad_account["bookingLines"][0]["accountKey"] = 701234
    assert "701234" in api.error(await post(bad_account), 400)["technicalInfo"]

    bad_code = sale(2)
    bad_code["bookingLines"][0]["vatCodeKey"] = "V21"
    assert "V21" in api.error(await post(bad_code), 500)["technicalInfo"]  # malformed code -> 500

    purchase_code = sale(2)
    purchase_code["bookingLines"][0]["vatCodeKey"] = DEMO.vat_codes["purchase_21"]
    api.error(await post(purchase_code), 400)

    wrong_vat = sale(2, amount=Decimal("64.95"))
    wrong_vat["bookingLines"][0]["vatAmount"] = Decimal("7.83")
    assert "7.81" in api.error(await post(wrong_vat), 400)["technicalInfo"]

    unknown_relation = sale(2, relationIdentificationServiceData={"relationKey": {"id": 9999}})
    api.error(await post(unknown_relation), 400)
    unknown_ext = sale(2, relationIdentificationServiceData={"externalRelationId": 31337})
    api.error(await post(unknown_ext), 400)

    api.error(await post(sale(2, bookyearPeriodeNr=202613)), 400)
    api.error(await post(sale(2, bookyearPeriodeNr=202503)), 400)  # period of another year
    closed_year = sale(2, bookyearKey={"id": 1}, bookyearPeriodeNr=202403)
    assert "toegankelijk" in api.error(await post(closed_year), 400)["errorMessage"]
    api.error(await post(sale(2, bookyearKey={"id": 42})), 400)
    api.error(await post(sale(2, journalKey="F1")), 400)  # not a sales/purchase journal
    api.error(await post(sale(2, journalKey="V9")), 400)
    api.error(await post(sale(2, documentDate="15-03-2026")), 500)  # malformed date
    api.error(await post(sale(2, amount="64.93")), 500)  # amounts are numbers
    api.error(await post(sale(2, amount=Decimal("64.930001"))), 500)

    missing_rate = sale(2)
    del missing_rate["exchangeRate"]
    api.error(await post(missing_rate), 400)

    # nothing of the failed attempts was stored
    assert [b["documentSequenceNr"] for b in await api.get("/buysellbookings")] == [1]


async def test_icp_needs_a_customer_vat_number(api, sale) -> None:
    icp_line = {
        "accountKey": DEMO.accounts["revenue_icp"],
        "baseAmount": Decimal("100.00"),
        "vatCodeKey": DEMO.vat_codes["icp"],
        "vatAmount": Decimal("0.00"),
    }
    no_vat_nr = sale(1, amount=Decimal("100.00"), bookingLines=[icp_line])
    api.error(await api.call("POST", "/buysellbookings", wrap(no_vat_nr)), 400)
    business = {
        "relationIdentificationServiceData": {"externalRelationId": 77},
        "name": "Muller GmbH",
        "country": "DE",
        "vatNr": "DE123456789",
        "vatType": 4,
    }
    assert (await api.call("PUT", "/relations", business)).status_code == 200
    with_vat_nr = {**no_vat_nr, "relationIdentificationServiceData": {"externalRelationId": 77}}
    assert (await api.call("POST", "/buysellbookings", wrap(with_vat_nr))).status_code == 201


async def test_closed_period_and_closed_journal(api, sale, sandbox) -> None:
    await sandbox.control.close_period(DEMO.dossier_id, 202603)
    api.error(await api.call("POST", "/buysellbookings", wrap(sale(1))), 400)
    await sandbox.control.close_period(DEMO.dossier_id, 202603, closed=False)
    await sandbox.control.close_journal(DEMO.dossier_id, "V1")
    api.error(await api.call("POST", "/buysellbookings", wrap(sale(1))), 403)
    await sandbox.control.close_journal(DEMO.dossier_id, "V1", closed=False)
    assert (await api.call("POST", "/buysellbookings", wrap(sale(1)))).status_code == 201


async def test_update_booking_with_put(api, sale) -> None:
    assert (await api.call("POST", "/buysellbookings", wrap(sale(1)))).status_code == 201
    changed = sale(1, comment="gewijzigd")
    assert (await api.call("PUT", "/buysellbookings", changed)).status_code == 200  # no wrapper
    assert (await api.call("PUT", "/buysellbookings", wrap(changed))).status_code == 200
    [booking] = await api.get("/buysellbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=1)
    assert booking["comment"] == "gewijzigd"
    api.error(await api.call("PUT", "/buysellbookings", sale(9)), 400)  # does not exist


def payout(nr: int, *amounts: str) -> dict:
    customer, bank = amounts if len(amounts) == 2 else ("-64.93", "64.93")
    return {
        "financialDiversBookingServiceData": {
            "bookyearKey": {"id": BOOKYEAR_2026},
            "journalKey": DEMO.journal_financial,
            "documentSequenceNr": nr,
            "bookyearPeriodeNr": 202603,
            "documentDate": "2026-03-31",
            "exchangeRate": Decimal("1.0"),
            "bookingLines": [
                {
                    "type": "C",
                    "relationId": DEMO.relations["bol_customers"],
                    "amount": Decimal(customer),
                    "reference": "ORD-1001",
                },
                {
                    "type": "A",
                    "accountKey": DEMO.accounts["bank"],
                    "amount": Decimal(bank),
                    "reference": "bol payout 2026-03",
                },
            ],
        },
        "attachments": [],
    }


async def test_financial_booking_must_balance(api, sandbox) -> None:
    created = await api.call("POST", "/financialdiversbookings", payout(1))
    assert created.status_code == 201
    [stored] = await api.get(
        "/financialdiversbookings",
        bookyearKeyId=BOOKYEAR_2026,
        journalKey="F1",
        documentSequenceNr=1,
    )
    assert stored == payout(1)["financialDiversBookingServiceData"]
    assert await sandbox.control.financial_bookings(DEMO.dossier_id) == [stored]

    unbalanced = api.error(
        await api.call("POST", "/financialdiversbookings", payout(2, "-64.93", "64.92")), 400
    )
    assert "-0.01" in unbalanced["technicalInfo"]
    api.error(await api.call("POST", "/financialdiversbookings", payout(1)), 400)  # duplicate
    api.error(
        await api.call(
            "POST", "/financialdiversbookings", payout(2)["financialDiversBookingServiceData"]
        ),
        400,
    )
    no_period = payout(2)
    del no_period["financialDiversBookingServiceData"]["bookyearPeriodeNr"]
    assert (
        "Periode"
        in api.error(await api.call("POST", "/financialdiversbookings", no_period), 400)[
            "errorMessage"
        ]
    )
    bad_type = payout(2)
    bad_type["financialDiversBookingServiceData"]["bookingLines"][0]["type"] = "X"
    api.error(await api.call("POST", "/financialdiversbookings", bad_type), 400)
    unknown_relation = payout(2)
    unknown_relation["financialDiversBookingServiceData"]["bookingLines"][0]["relationId"] = 5
    api.error(await api.call("POST", "/financialdiversbookings", unknown_relation), 400)
    sales_journal = payout(2)
    sales_journal["financialDiversBookingServiceData"]["journalKey"] = "V1"
    api.error(await api.call("POST", "/financialdiversbookings", sales_journal), 400)

    journals = {j["journalKey"]: j for j in await api.get(f"/bookyears/{BOOKYEAR_2026}/journals")}
    assert journals["F1"]["lastBookedDocumentNr"] == 1

    updated = payout(1, "-60.00", "60.00")["financialDiversBookingServiceData"]
    assert (await api.call("PUT", "/financialdiversbookings", updated)).status_code == 200
    [stored] = await api.get("/financialdiversbookings", bookyearId=BOOKYEAR_2026, documentSeqNr=1)
    assert [ln["amount"] for ln in stored["bookingLines"]] == [Decimal("-60.00"), Decimal("60.00")]
    unbalanced_put = payout(1, "-60.00", "61.00")
    api.error(await api.call("PUT", "/financialdiversbookings", unbalanced_put), 400)

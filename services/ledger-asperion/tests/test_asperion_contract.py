"""ledger-asperion passes the ledger runtime's contract: the file ledger is this service's
own document store (MongoDB), read back by parsing the stored UBL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from koppel_contracts import ConnectionSettings
from koppel_ledger import LedgerDoc
from koppel_ledger.testing import CONNECTION, HeldDocument, LedgerContract
from koppel_ledger_asperion.adapter import AsperionAdapter
from koppel_ledger_asperion.demo import demo_booking, demo_seller
from koppel_ledger_asperion.documents import StoredDocument, document_id
from koppel_ubl import read_totals
from koppel_ubl.namespaces import path
from lxml import etree

from .asperion_helpers import demo_settings, hand_made_invoice


@dataclass
class _TamperingSession:
    """The stored file differs from what was meant (a bug, or someone edited it)."""

    inner: Any
    harness: AsperionHarness

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        created = await self.inner.create(draft)
        if self.harness.tamper is not None:
            await self.harness.tamper_stored(created, self.harness.tamper)
            self.harness.tamper = None
        return created

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class _HarnessAdapter:
    inner: AsperionAdapter
    harness: AsperionHarness

    def session(self, connection_id: str, settings: Any) -> Any:
        return _TamperingSession(self.inner.session(connection_id, settings), self.harness)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class AsperionHarness:
    numbers_are_ours = True  # Koppel numbers the documents: a taken number is skipped

    def __init__(self, db) -> None:
        self.db = db
        self.asperion = AsperionAdapter(db)
        self.adapter = _HarnessAdapter(self.asperion, self)
        self.tamper: Decimal | None = None

    def settings(self) -> ConnectionSettings:
        return demo_settings()

    missing_account_code = "ubl_invalid"

    def unknown_account(self) -> ConnectionSettings:
        # A file ledger has no accounts to be unknown; its permanent refusal is a document
        # the official rules reject: a seller VAT number without a country prefix (BR-CO-09).
        return demo_settings(seller=demo_seller(vat_number="000099998B57"))

    def wrong_vat_code(self) -> ConnectionSettings:
        # 9 % mapped to the category of Dutch 0 % (Z): UBL says Z is 0 %.
        booking = demo_booking()
        vat = [
            m.model_copy(update={"vat_code": "Z"}) if m.vat_rate == 9 else m
            for m in booking.vat_accounts
        ]
        return demo_settings(booking=booking.model_copy(update={"vat_accounts": vat}))

    async def documents(self) -> list[HeldDocument]:
        held = []
        for stored in await self.asperion.store.of_connection(CONNECTION):
            total = read_totals(stored.xml).totals.tax_inclusive
            held.append(
                HeldDocument(
                    number=stored.number,
                    reference=stored.reference,
                    total_incl_vat=-total if stored.credit else total,
                    credit=stored.credit,
                )
            )
        return held

    async def refuse_credentials(self) -> ConnectionSettings:
        raise AssertionError("not applicable: a file ledger has no credentials")

    async def fail_creates(self, status: int, times: int, retry_after: int | None = None) -> None:
        raise AssertionError("not applicable: a create is an insert into our own database")

    async def time_out_creates(self, times: int) -> None:
        raise AssertionError("not applicable: a create is an insert into our own database")

    async def tamper_next(self, total_delta: Decimal) -> None:
        self.tamper = total_delta

    async def tamper_stored(self, doc: LedgerDoc, delta: Decimal) -> None:
        stored = await self.asperion.store.get(str(doc.ledger_id))
        assert stored is not None
        root = etree.fromstring(stored.xml)
        node = root.find(path("cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"))
        node.text = str(Decimal(node.text) + delta)
        xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        await self.db["asperion_documents"].update_one({"_id": stored.id}, {"$set": {"xml": xml}})

    async def take_number_of(self, order_number: str) -> None:
        # Someone else's document under the order's number: another order of the shop
        # that carried the same number (a shop that reuses numbers, or a re-issue).
        stored = StoredDocument(
            id=document_id(CONNECTION, "invoice", order_number),
            connection_id=CONNECTION,
            order_id=f"{CONNECTION}:hand",
            kind="invoice",
            number=order_number,
            reference="HAND-1",
            revision=1,
            xml=hand_made_invoice(order_number, "HAND-1"),
            expected_total=Decimal("12.10"),
            expected_vat={Decimal(21): Decimal("2.10")},
            created_at=datetime.now(UTC),
        )
        assert await self.asperion.store.insert(stored)


class TestAsperionContract(LedgerContract):
    # A file ledger has no credentials to refuse, and a create is an insert into this
    # service's own database: no 429/5xx/timeouts to wait out (a database outage makes
    # Kafka redeliver; the runtime's store contract covers that). README explains.
    not_applicable = frozenset({"credentials", "unavailable"})

    @pytest.fixture
    async def harness(self, mongo_db) -> AsyncIterator[AsperionHarness]:
        yield AsperionHarness(mongo_db)


async def test_a_document_the_rules_reject_fails_with_their_rule_ids_and_is_not_stored(
    mongo_db,
) -> None:
    from koppel_ledger import State
    from koppel_ledger.testing import Driver
    from koppel_testkit import make_order, make_order_event

    harness = AsperionHarness(mongo_db)
    driver = Driver(harness.adapter)
    await driver.connect(harness.unknown_account())
    record = await driver.order(
        make_order_event(make_order(order_id="v1"), connection_id=CONNECTION)
    )
    assert record.state == State.FAILED and record.reason_code == "ubl_invalid"
    assert record.failure is not None and "BR-CO-09" in record.failure.reason
    assert record.intent is None, "refused while preparing: no create was ever attempted"
    assert await harness.documents() == []

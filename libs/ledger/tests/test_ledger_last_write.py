"""A new document is recorded with the revision's last write (one write less per order),
and on its own as soon as the read-back after its create fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from koppel_chassis import TransientError
from koppel_contracts import (
    BookingOptions,
    ConnectionSettings,
    LedgerRef,
    LedgerSystem,
    SourceSystem,
    VatAccountMapping,
    VatTreatment,
)
from koppel_ledger import DraftRequest, LedgerDoc, ReadBack, State
from koppel_ledger.records import Debtor
from koppel_ledger.testing import Driver
from koppel_ledger.testing.driver import event


def settings() -> ConnectionSettings:
    def vat(rate: str, code: str) -> VatAccountMapping:
        return VatAccountMapping(
            vat_rate=Decimal(rate),
            treatment=VatTreatment.DOMESTIC,
            ledger_account="8000",
            vat_code=code,
        )

    return ConnectionSettings.model_validate(
        {
            "merchant": {"name": "De Boon", "contact_email": "boekhouding@deboon.nl"},
            "shop": {"system": "ccvshop", "base_url": "https://deboon.ccvshop.nl"},
            "ledger": {
                "system": "octopus",
                "base_url": "https://paper.example",
                "booking": BookingOptions(
                    vat_accounts=[vat("21", "VH"), vat("9", "VL")]
                ).model_dump(),
            },
        }
    )


@dataclass
class PaperLedger:
    """A ledger in a dict, whose read-backs can be made to fail."""

    documents: dict[str, LedgerDoc] = field(default_factory=dict)
    creates: int = 0
    failing_reads: int = 0

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        return LedgerDoc(
            op=request.op,
            revision=request.revision,
            number=number or (request.reuse.number if request.reuse else f"P{request.order_id}"),
            reference=request.event.order.order_number,
            debtor=Debtor("1"),
            plan=request.plan,
        )

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        self.creates += 1
        self.documents[draft.number] = draft
        return draft

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        if self.failing_reads:
            self.failing_reads -= 1
            raise TransientError("the ledger is away")
        found = self.documents.get(doc.number)
        if found is None:
            return None
        return ReadBack(
            number=found.number,
            reference=found.reference,
            credit=False,
            total_incl_vat=found.expected_total,
            vat_per_rate=found.expected_vat_per_rate(),
            debtor_id="1",
        )

    async def find(self, doc: LedgerDoc) -> list[ReadBack]:
        return []

    def explain(self, error: Any) -> None:
        return None

    def ledger_ref(self, doc: LedgerDoc) -> LedgerRef:
        return LedgerRef(booking_id=doc.number, document_number=doc.number)

    async def forget_reference(self) -> None:
        return None


@dataclass
class PaperAdapter:
    ledger: PaperLedger = field(default_factory=PaperLedger)
    system: LedgerSystem = LedgerSystem.OCTOPUS
    source_system: SourceSystem = SourceSystem.OCTOPUS
    component: str = "ledger-paper"
    display_name: str = "Papier"
    texts: dict[str, Any] = field(default_factory=dict)
    settings_fixable: frozenset[str] = frozenset()
    can_replace: bool = False

    def session(self, connection_id: str, settings: ConnectionSettings) -> PaperLedger:
        return self.ledger

    def drop(self, connection_id: str) -> None: ...
    async def maintain(self) -> None: ...
    async def aclose(self) -> None: ...


async def paper_driver() -> tuple[Driver, PaperLedger, list[Any]]:
    adapter = PaperAdapter()
    driver = Driver(adapter)  # type: ignore[arg-type]
    await driver.connect(settings())
    writes: list[Any] = []
    write = driver.store.write

    async def counted(order_id: str, lock: Any, change: Any, **options: Any) -> bool:
        writes.append(change)
        return await write(order_id, lock, change, **options)

    driver.store.write = counted  # type: ignore[method-assign]
    return driver, adapter.ledger, writes


async def test_a_new_document_and_its_check_are_recorded_in_one_write_after_the_intent():
    driver, ledger, writes = await paper_driver()
    [record] = await driver.batch([event("p1")])
    assert record.state == State.VERIFIED and record.ledger is not None and ledger.creates == 1
    assert [w.state for w in writes] == [State.BOOKING, State.VERIFIED]
    assert writes[0].intent is not None, "the intent is written before the create"
    assert [type(item.event).__name__ for item in writes[1].outbox] == [
        "BookingEvent",
        "CheckEvent",
    ]
    assert len(driver.bookings()) == 1 and len(driver.checks()) == 1


async def test_a_read_back_that_fails_after_a_create_still_records_the_document():
    driver, ledger, writes = await paper_driver()
    ledger.failing_reads = 1
    [record] = await driver.batch([event("p2")])
    assert record.state == State.WAITING
    assert [w.state for w in writes] == [State.BOOKING, State.BOOKED, State.WAITING]
    assert record.ledger is not None and record.intent is None and record.booked_revision == 1
    assert len(driver.bookings()) == 1, "the booking is announced; the check comes later"
    await driver.later(61)
    done = await driver.record("p2")
    assert done.state == State.VERIFIED
    assert ledger.creates == 1 and len(ledger.documents) == 1
    assert len(driver.bookings()) == 1 and len(driver.checks()) == 1

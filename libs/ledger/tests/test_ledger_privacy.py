"""A ledger and the customers' personal data: an erased customer books on the anonymous
debtor with the order's own totals and VAT per rate; what the service publishes and keeps
names no customer of a sealed order."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from koppel_bookkeeping import plan_booking
from koppel_chassis import SecretBox, generate_key
from koppel_contracts import (
    BookingOptions,
    CanonicalOrder,
    ConnectionSettings,
    ConsumerDebtor,
    CustomerKeyEvent,
    LedgerSystem,
    OrderEventKind,
    ShopSystem,
    SourceSystem,
    VatAccountMapping,
    VatTreatment,
)
from koppel_ledger import (
    CollectiveDebtor,
    DraftRequest,
    ErasedCustomer,
    FixedDebtor,
    Op,
    RecordedPlan,
    choose_debtor,
)
from koppel_ledger.events import summary
from koppel_ledger.privacy import DebtorEmails, RevealingSession, blank_debtor_emails
from koppel_privacy import CustomerKey, MemoryKeyStore, Revealer, anonymous, seal_order
from koppel_testkit import line, make_order, make_order_event


def account(rate: str, treatment: VatTreatment, code: str, country: str | None = None):
    return VatAccountMapping(
        vat_rate=Decimal(rate),
        treatment=treatment,
        country_code=country,
        ledger_account="8000",
        vat_code=code,
    )


BOOKING = BookingOptions(
    vat_accounts=[
        account("21", VatTreatment.DOMESTIC, "VH"),
        account("9", VatTreatment.DOMESTIC, "VL"),
        account("21", VatTreatment.OSS, "OSS-BE-21", "BE"),
        account("6", VatTreatment.OSS, "OSS-BE-6", "BE"),
        account("0", VatTreatment.ICP, "ICP"),
    ]
)


def erased(order: CanonicalOrder) -> CanonicalOrder:
    """The order as a ledger sees it once the customer's key is gone."""
    return anonymous(seal_order(order, CustomerKey.generate()))


ORDERS = {
    "domestic consumer": make_order(),
    "oss consumer in belgium": make_order(
        country="BE", lines=[line("Boek", "1", "10.60", "6"), line("Mok", "2", "12.10", "21")]
    ),
    "icp business in germany": make_order(
        country="DE",
        company_name="Kaffee GmbH",
        vat_number="DE123456789",
        lines=[line("Koffiebonen", "4", "20.00", "0")],
    ),
}


@pytest.mark.parametrize("name", ORDERS)
def test_an_erased_order_plans_the_same_treatment_totals_and_vat_per_rate(name: str) -> None:
    order = ORDERS[name]
    before, after = plan_booking(order, BOOKING), plan_booking(erased(order), BOOKING)
    assert after.treatment == before.treatment
    assert (after.total_excl_vat, after.total_vat, after.total_incl_vat) == (
        before.total_excl_vat,
        before.total_vat,
        before.total_incl_vat,
    )
    assert [(r.vat_rate, r.vat_amount) for r in after.rate_totals] == [
        (r.vat_rate, r.vat_amount) for r in before.rate_totals
    ]
    assert [(ln.vat_code, ln.amount_incl_vat) for ln in after.lines] == [
        (ln.vat_code, ln.amount_incl_vat) for ln in before.lines
    ]


@pytest.mark.parametrize(
    "booking",
    [BookingOptions(), BookingOptions(consumers=ConsumerDebtor.COLLECTIVE)],
    ids=["own debtors", "collective consumers"],
)
def test_an_erased_customer_is_booked_on_the_anonymous_debtor_of_the_destination(booking) -> None:
    for order, label in (
        (ORDERS["domestic consumer"], "Verwijderde klanten"),
        (ORDERS["oss consumer in belgium"], "Verwijderde klanten (BE)"),
        (ORDERS["icp business in germany"], "Verwijderde klanten (DE)"),
    ):
        choice = choose_debtor(
            erased(order), booking, connection_id="c1", order_key="c1:1", shop=ShopSystem.CCVSHOP
        )
        assert isinstance(choice, CollectiveDebtor) and choice.label() == label
        assert choice.seed.startswith("erased|c1|")


def test_a_fixed_debtor_still_wins_over_the_anonymous_one() -> None:
    booking = BookingOptions(payment_method_debtors={"*": "4711"})
    choice = choose_debtor(erased(make_order()), booking, connection_id="c1", order_key="c1:1")
    assert choice == FixedDebtor("4711")


def test_what_a_ledger_publishes_about_a_sealed_order_names_no_customer() -> None:
    event = make_order_event(kind=OrderEventKind.CREATED)
    assert summary(event).customer_name == "Jan Jansen"
    sealed = event.model_copy(update={"order": seal_order(event.order, CustomerKey.generate())})
    assert summary(sealed).customer_name is None
    assert summary(sealed).total_incl_vat == event.order.totals.total_incl_vat


def stored_order(key_id: str, email: str | None = "jan@example.nl") -> dict:
    debtor = {"id": "7", "external_id": None, "source": "created", "email": email}
    return {
        "connection_id": "c1",
        "event": json.dumps(
            {"order": {"personal_data": {"key_id": key_id, "ciphertext": "x"}}},
            separators=(",", ":"),  # as pydantic writes it
        ),
        "ledger": {"number": "1", "debtor": dict(debtor)},
        "intent": None,
        "last_credit": {"number": "2", "debtor": dict(debtor)},
        "credits": [{"number": "2", "debtor": dict(debtor)}],
    }


def test_every_stored_debtor_email_of_an_order_is_blanked() -> None:
    update = blank_debtor_emails(stored_order("k1"))
    assert update["ledger.debtor.email"] is None and update["last_credit.debtor.email"] is None
    assert [c["debtor"]["email"] for c in update["credits"]] == [None]
    assert "intent.debtor.email" not in update
    assert blank_debtor_emails(stored_order("k1", email=None)) == {}


def octopus_connection() -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "merchant": {"name": "De Boon", "contact_email": "boekhouding@deboon.nl"},
            "shop": {"system": "ccvshop", "base_url": "https://deboon.ccvshop.nl"},
            "ledger": {"system": "octopus", "base_url": "https://octopus.example"},
        }
    )


class Connections:
    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None:
        return (octopus_connection(), 1) if connection_id == "c1" else None


class Adapter:
    system = LedgerSystem.OCTOPUS

    def __init__(self) -> None:
        self.forgotten: list[ErasedCustomer] = []

    async def forget_customer(self, settings: ConnectionSettings, customer: ErasedCustomer) -> None:
        self.forgotten.append(customer)


class Runtime:
    def __init__(self, system: LedgerSystem = LedgerSystem.OCTOPUS) -> None:
        self.connections = Connections()
        self.adapter = Adapter()
        self.adapter.system = system


async def test_an_erasure_blanks_the_debtor_emails_of_that_customers_orders_only(
    mongo_db,
) -> None:
    await mongo_db["orders"].insert_many(
        [{"_id": "c1:1", **stored_order("k1")}, {"_id": "c1:2", **stored_order("k2")}]
    )
    runtime = Runtime()
    await DebtorEmails(mongo_db, runtime).erase("c1", "k1", None)  # type: ignore[arg-type]
    one = await mongo_db["orders"].find_one({"_id": "c1:1"})
    two = await mongo_db["orders"].find_one({"_id": "c1:2"})
    assert one["ledger"]["debtor"] == {
        "id": "7",
        "external_id": None,
        "source": "created",
        "email": None,
    }
    assert one["credits"][0]["debtor"]["email"] is None
    assert two["ledger"]["debtor"]["email"] == "jan@example.nl", "another customer's order"
    assert runtime.adapter.forgotten == [
        ErasedCustomer("c1", frozenset({"c1:1"}), frozenset({"jan@example.nl"}))
    ], "the adapter forgets them too"


async def test_a_customer_without_an_email_is_handed_to_the_adapter_by_their_orders(
    mongo_db,
) -> None:
    await mongo_db["orders"].insert_many(
        [
            {"_id": "c1:1", **stored_order("k1", email=None)},
            {"_id": "c1:2", **stored_order("k1", email=None)},
            {"_id": "c1:3", **stored_order("k2", email=None)},
        ]
    )
    runtime = Runtime()
    await DebtorEmails(mongo_db, runtime).erase("c1", "k1", None)  # type: ignore[arg-type]
    assert runtime.adapter.forgotten == [
        ErasedCustomer("c1", frozenset({"c1:1", "c1:2"}), frozenset())
    ]


async def test_another_ledgers_erasure_leaves_this_ledgers_records_alone(mongo_db) -> None:
    await mongo_db["orders"].insert_one({"_id": "c1:1", **stored_order("k1")})
    runtime = Runtime(LedgerSystem.SNELSTART)
    await DebtorEmails(mongo_db, runtime).erase("c1", "k1", None)  # type: ignore[arg-type]
    one = await mongo_db["orders"].find_one({"_id": "c1:1"})
    assert one["ledger"]["debtor"]["email"] == "jan@example.nl"
    assert runtime.adapter.forgotten == []


class Session:
    def __init__(self) -> None:
        self.prepared: list[DraftRequest] = []

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> str:
        self.prepared.append(request)
        return f"draft {number}"

    def ledger_ref(self, doc: object) -> str:
        return "ref"


async def test_a_session_prepares_its_draft_from_the_revealed_order_and_is_otherwise_itself() -> (
    None
):
    box = SecretBox(generate_key())
    key, keys = CustomerKey.generate(), MemoryKeyStore()
    await keys.apply(
        CustomerKeyEvent.active(
            "c1", key.key_id, key.wrapped(box), box.encrypt("d"), SourceSystem.CCVSHOP
        )
    )
    event = make_order_event()
    sealed = event.model_copy(update={"order": seal_order(event.order, key)})
    inner = Session()
    session = RevealingSession(inner, Revealer(keys, box).reveal_event)  # type: ignore[arg-type]
    plan = RecordedPlan((), Decimal(0), Decimal(0), Decimal(0))
    request = DraftRequest(Op.INVOICE, "c1:1001", sealed, 1, plan)
    assert await session.prepare(request, number="7") == "draft 7"
    assert inner.prepared[0].event.order == event.order, "the customer as the shop gave them"
    assert request.event.order.sealed, "the runtime's own copy stays sealed"
    assert session.ledger_ref(None) == "ref"

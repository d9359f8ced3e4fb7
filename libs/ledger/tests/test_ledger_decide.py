"""What happens next to an order: the pure decisions, without I/O."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from koppel_contracts import (
    LEDGER_BOOKINGS,
    OPS_ALERTS,
    AlertKind,
    BookingStatus,
    ConnectionSettings,
    FailureKind,
    LedgerSystem,
    OrderEventKind,
    SourceSystem,
)
from koppel_ledger import Debtor, LedgerDoc, ManualClock, Op, OrderRecord, RecordedPlan, State
from koppel_ledger.decide import (
    Amend,
    CreateNew,
    CredentialsRefused,
    CreditOnly,
    Finish,
    HeldAlready,
    Ignore,
    NothingToCredit,
    Proceed,
    Quiet,
    Refused,
    RetryPolicy,
    Unavailable,
    Wait,
    after_failure,
    backoff_seconds,
    book_action,
    gate,
)
from koppel_ledger.events import Events
from koppel_ledger.holds import ConnectionHold
from koppel_testkit import make_order, make_order_event

CLOCK = ManualClock()
EVENTS = Events("ledger-test", SourceSystem.OCTOPUS)
POLICY = RetryPolicy(30, 2, 3600, timedelta(hours=24), 60)


def settings(system: str = "octopus", active: bool = True) -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "merchant": {"name": "Shop", "contact_email": "a@b.nl"},
            "shop": {"system": "ccvshop", "base_url": "https://shop.nl"},
            "ledger": {"system": system, "base_url": "https://ledger.test"},
            "active": active,
        }
    )


def record(
    revision: int = 1, kind: OrderEventKind = OrderEventKind.CREATED, **fields
) -> OrderRecord:
    event = make_order_event(
        make_order(order_id="7"), connection_id="c", revision=revision, kind=kind
    )
    base = OrderRecord(
        id="c:7",
        connection_id="c",
        order_ref="7",
        revision=revision,
        event_json=event.model_dump_json(),
    )
    for name, value in fields.items():
        setattr(base, name, value)
    return base


def doc(op: Op = Op.INVOICE) -> LedgerDoc:
    plan = RecordedPlan((), Decimal("10"), Decimal("2.10"), Decimal("12.10"))
    return LedgerDoc(op, 1, "17", "WEB-7", Debtor("1004"), plan)


def text(code: str, params: dict) -> tuple[str, str]:
    return f"reason {code} {params.get('hours', '')}", f"suggestion {code}"


# ---- the gate ------------------------------------------------------------------------------


def test_a_done_revision_needs_nothing_more() -> None:
    assert (
        gate(record(done_revision=1), (settings(), 1), None, LedgerSystem.OCTOPUS, CLOCK())
        == Finish()
    )


def test_without_settings_or_with_an_inactive_connection_the_order_waits() -> None:
    assert gate(record(), None, None, LedgerSystem.OCTOPUS, CLOCK()) == Wait("settings_pending")
    inactive = (settings(active=False), 1)
    assert gate(record(), inactive, None, LedgerSystem.OCTOPUS, CLOCK()) == Wait(
        "connection_inactive"
    )


def test_orders_of_another_ledger_are_ignored() -> None:
    assert (
        gate(record(), (settings("snelstart"), 1), None, LedgerSystem.OCTOPUS, CLOCK()) == Ignore()
    )


def test_a_connection_held_under_these_settings_is_not_called() -> None:
    hold = ConnectionHold("c", held=True, settings_version=2, reason="nope")
    assert gate(record(), (settings(), 2), hold, LedgerSystem.OCTOPUS, CLOCK()) == HeldAlready(
        "nope"
    )
    newer = gate(record(), (settings(), 3), hold, LedgerSystem.OCTOPUS, CLOCK())
    assert isinstance(newer, Proceed) and newer.version == 3, "new settings: try again"


def test_a_used_up_quota_keeps_the_connection_quiet_until_it_renews() -> None:
    until = CLOCK() + timedelta(hours=3)
    hold = ConnectionHold("c", quiet_until=until)
    assert gate(record(), (settings(), 1), hold, LedgerSystem.OCTOPUS, CLOCK()) == Quiet(until)
    past = ConnectionHold("c", quiet_until=CLOCK() - timedelta(seconds=1))
    assert isinstance(gate(record(), (settings(), 1), past, LedgerSystem.OCTOPUS, CLOCK()), Proceed)


# ---- what to book --------------------------------------------------------------------------


def test_what_each_revision_asks_of_the_ledger() -> None:
    assert book_action(record(), True) == CreateNew(BookingStatus.BOOKED)
    assert book_action(record(credits=[doc(Op.CREDIT)]), True) == CreateNew(BookingStatus.REPLACED)
    assert book_action(record(2, OrderEventKind.AMENDED, ledger=doc()), True) == Amend(True)
    assert book_action(record(2, OrderEventKind.AMENDED, ledger=doc()), False) == Amend(False)
    cancelled = OrderEventKind.CANCELLED
    assert book_action(record(2, cancelled, ledger=doc()), True) == CreditOnly()
    assert book_action(record(2, cancelled), True) == NothingToCredit(State.CANCELLED)
    assert book_action(record(3, cancelled, credits=[doc(Op.CREDIT)]), True) == NothingToCredit(
        State.CREDITED
    )


# ---- after a failure -----------------------------------------------------------------------


def test_a_refusal_fails_the_revision_with_a_failure_event_and_one_alert() -> None:
    refused = Refused("unknown_journal", "Dagboek X bestaat niet", "Kies een dagboek")
    t = after_failure(
        record(), refused, version=1, events=EVENTS, policy=POLICY, now=CLOCK(), text=text
    )
    assert t.change.state == State.FAILED and t.change.done_revision == 1
    assert t.change.next_attempt_at is None and t.hold is None
    booking, alert = t.change.outbox
    assert booking.topic == LEDGER_BOOKINGS and booking.event.status == BookingStatus.FAILED
    assert (
        booking.event.failure.persistent and booking.event.failure.suggestion == "Kies een dagboek"
    )
    assert alert.topic == OPS_ALERTS and alert.event.kind == AlertKind.PERSISTENT_FAILURE
    again = after_failure(
        record(), refused, version=1, events=EVENTS, policy=POLICY, now=CLOCK(), text=text
    )
    assert again.change.outbox[1].event.event_id == alert.event.event_id, "one alert per cause"


def test_an_unavailable_ledger_is_retried_later_with_growing_delays() -> None:
    t = after_failure(
        record(attempts=2, first_failure_at=CLOCK()),
        Unavailable("503"),
        version=1,
        events=EVENTS,
        policy=POLICY,
        now=CLOCK(),
        text=text,
    )
    assert t.change.state == State.WAITING and t.change.attempts == 3
    assert t.change.next_attempt_at == CLOCK() + timedelta(seconds=120)
    assert t.change.outbox == () and t.quiet_until is None


def test_retry_after_is_honoured_and_a_long_one_quiets_the_connection() -> None:
    short = after_failure(
        record(),
        Unavailable("429", 429, 45),
        version=1,
        events=EVENTS,
        policy=POLICY,
        now=CLOCK(),
        text=text,
    )
    assert short.change.next_attempt_at == CLOCK() + timedelta(seconds=45)
    assert short.quiet_until is None, "a burst limit is not a used-up quota"
    long = after_failure(
        record(),
        Unavailable("429", 429, 7200),
        version=1,
        events=EVENTS,
        policy=POLICY,
        now=CLOCK(),
        text=text,
    )
    assert long.quiet_until == CLOCK() + timedelta(seconds=7200)
    assert long.change.next_attempt_at == long.quiet_until


def test_an_outage_longer_than_the_limit_becomes_a_persistent_failure() -> None:
    first = CLOCK() - timedelta(hours=24)
    t = after_failure(
        record(attempts=9, first_failure_at=first),
        Unavailable("timeout"),
        version=1,
        events=EVENTS,
        policy=POLICY,
        now=CLOCK(),
        text=text,
    )
    assert t.change.state == State.FAILED and t.change.reason_code == "ledger_unavailable"
    failure = t.change.failure
    assert failure.kind == FailureKind.TRANSIENT and failure.attempts == 10
    assert "24" in failure.reason


def test_refused_credentials_hold_the_order_and_announce_the_connection_once() -> None:
    refused = CredentialsRefused("401 login failed", "reason", "suggestion")
    t = after_failure(
        record(), refused, version=4, events=EVENTS, policy=POLICY, now=CLOCK(), text=text
    )
    assert t.change.state == State.HELD and t.change.next_attempt_at is None
    assert [i.event.status for i in t.change.outbox] == [BookingStatus.HELD]
    assert t.hold is not None
    version, reason, alert = t.hold
    assert (version, reason) == (4, "401 login failed")
    assert alert.event.kind == AlertKind.CONNECTION_BROKEN and alert.event.order_ref is None
    quiet = CredentialsRefused("401", "reason", "suggestion", announce=False)
    assert (
        after_failure(
            record(), quiet, version=4, events=EVENTS, policy=POLICY, now=CLOCK(), text=text
        ).hold
        is None
    )


def test_retry_delays_grow_and_are_capped() -> None:
    delays = [backoff_seconds(n, 30, 2, 3600) for n in range(1, 10)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays == sorted(delays) and max(delays) == 3600

"""What happens next to an order — pure functions over typed records, no I/O.

- `gate`: before the ledger is called — is there anything to do, may we call it now?
- `book_action`: what the revision asks of the ledger (a new document, an amendment, a
  credit note, nothing to credit).
- `after_failure`: the ledger could not take the revision — the state, the next attempt,
  the events, and what happens to the whole connection (held, quiet).

The runtime (`runtime.py`, `booking.py`) carries the results out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from koppel_contracts import (
    AlertKind,
    BookingStatus,
    ConnectionSettings,
    Failure,
    FailureKind,
    LedgerSystem,
    OrderEventKind,
    make_event_id,
)

from .events import Events
from .holds import ConnectionHold
from .records import Change, OrderRecord, OutboxItem, State

# A 429 asking to wait longer than this is a used-up quota, not a burst limit: the whole
# connection then waits instead of spending more calls on refusals.
QUOTA_QUIET_SECONDS = 60.0


# ---- the gate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finish:
    """Nothing more to do for this revision."""


@dataclass(frozen=True)
class Ignore:
    """The connection books in another ledger."""


@dataclass(frozen=True)
class Wait:
    reason_code: str  # settings_pending | connection_inactive


@dataclass(frozen=True)
class HeldAlready:
    """Credentials were refused under these settings: hold without calling the ledger."""

    reason: str | None


@dataclass(frozen=True)
class Quiet:
    """The ledger's quota is used up until `until`: wait without calling it."""

    until: datetime


@dataclass(frozen=True)
class Proceed:
    settings: ConnectionSettings
    version: int


Gate = Finish | Ignore | Wait | HeldAlready | Quiet | Proceed


def gate(
    record: OrderRecord,
    current: tuple[ConnectionSettings, int] | None,
    hold: ConnectionHold | None,
    system: LedgerSystem,
    now: datetime,
) -> Gate:
    if record.done_revision >= record.revision:
        return Finish()
    if current is None:
        return Wait("settings_pending")
    settings, version = current
    if settings.ledger.system != system:
        return Ignore()
    if not settings.active:
        return Wait("connection_inactive")
    if hold is not None:
        if hold.held and (hold.settings_version or 0) >= version:
            return HeldAlready(hold.reason)
        if hold.quiet_until is not None and hold.quiet_until > now:
            return Quiet(hold.quiet_until)
    return Proceed(settings, version)


# ---- what to book ------------------------------------------------------------------------


@dataclass(frozen=True)
class NothingToCredit:
    """A cancellation of an order that has nothing in the ledger (any more)."""

    state: State


@dataclass(frozen=True)
class CreditOnly:
    """A cancellation: credit the open document."""


@dataclass(frozen=True)
class CreateNew:
    status: BookingStatus  # BOOKED, or REPLACED after an earlier document was credited


@dataclass(frozen=True)
class Amend:
    """An amendment of a booked order: replace in place where the ledger can, else credit
    the open document and create a new one."""

    try_replace: bool


BookAction = NothingToCredit | CreditOnly | CreateNew | Amend


def book_action(record: OrderRecord, can_replace: bool) -> BookAction:
    if record.kind == OrderEventKind.CANCELLED:
        if record.ledger is None:
            return NothingToCredit(State.CREDITED if record.credits else State.CANCELLED)
        return CreditOnly()
    if record.ledger is None:
        return CreateNew(BookingStatus.REPLACED if record.credits else BookingStatus.BOOKED)
    return Amend(try_replace=can_replace)


# ---- when the ledger could not take it ----------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """Retrying will not help; a person must act."""

    reason_code: str
    reason: str
    suggestion: str
    kind: FailureKind = FailureKind.PERMANENT


@dataclass(frozen=True)
class Unavailable:
    """The ledger did not answer usefully now (timeout, 5xx, 429, an internal error)."""

    message: str
    status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class CredentialsRefused:
    message: str
    reason: str
    suggestion: str
    announce: bool = True  # False: the connection is held already, no new alert


@dataclass(frozen=True)
class RetryPolicy:
    initial_seconds: float
    factor: float
    max_seconds: float
    persistent_after: timedelta
    settings_recheck_seconds: float


def backoff_seconds(attempt: int, initial: float, factor: float, cap: float) -> float:
    """Delay before retry number `attempt` (1 = after the first failure): growing, capped."""
    return min(cap, initial * factor ** max(0, attempt - 1))


@dataclass(frozen=True)
class Transition:
    """The revision's last write (it lets go of the order), and what the connection gets."""

    change: Change
    hold: tuple[int, str, OutboxItem] | None = None  # (settings version, reason, alert)
    quiet_until: datetime | None = None
    log: str = ""
    log_fields: dict[str, object] = field(default_factory=dict)


TextFor = Callable[[str, dict[str, object]], tuple[str, str]]


def waiting(reason_code: str, now: datetime, policy: RetryPolicy) -> Transition:
    at = now + timedelta(seconds=policy.settings_recheck_seconds)
    change = Change(state=State.WAITING, next_attempt_at=at, reason_code=reason_code)
    return Transition(change, log="order waits", log_fields={"reason_code": reason_code})


def failed(
    record: OrderRecord, refused: Refused, events: Events, now: datetime, attempts: int | None
) -> Transition:
    event = record.event
    failure = Failure(
        kind=refused.kind,
        reason_code=refused.reason_code,
        reason=refused.reason,
        suggestion=refused.suggestion,
        attempts=attempts or record.attempts + 1,
        persistent=True,
    )
    cause = make_event_id(
        "persistent_failure", event.connection_id, event.order_ref, str(record.revision)
    )
    change = Change(
        state=State.FAILED,
        next_attempt_at=None,
        done_revision=record.revision,
        reason_code=refused.reason_code,
        failure=failure,
        outbox=(
            events.failure(event, record.revision, BookingStatus.FAILED, failure, now),
            events.alert(event, AlertKind.PERSISTENT_FAILURE, failure, cause_id=cause, at=now),
        ),
    )
    return Transition(
        change,
        log="order failed",
        log_fields={"reason_code": refused.reason_code, "reason": refused.reason},
    )


def after_failure(
    record: OrderRecord,
    outcome: Refused | Unavailable | CredentialsRefused,
    *,
    version: int,
    events: Events,
    policy: RetryPolicy,
    now: datetime,
    text: TextFor,
) -> Transition:
    """The state a revision the ledger could not take moves to, with its events."""
    if isinstance(outcome, Refused):
        return failed(record, outcome, events, now, None)
    if isinstance(outcome, CredentialsRefused):
        return _held(record, outcome, version, events, now)
    attempts = record.attempts + 1
    first = record.first_failure_at or now
    if now - first >= policy.persistent_after:
        hours = policy.persistent_after.total_seconds() / 3600
        reason, suggestion = text(
            "transient_limit", {"hours": f"{hours:.4g}", "message": outcome.message}
        )
        refused = Refused("ledger_unavailable", reason, suggestion, FailureKind.TRANSIENT)
        return failed(record, refused, events, now, attempts)
    delay = backoff_seconds(attempts, policy.initial_seconds, policy.factor, policy.max_seconds)
    quiet_until = None
    if outcome.retry_after is not None:
        delay = max(delay, outcome.retry_after)
        if outcome.status == 429 and outcome.retry_after > QUOTA_QUIET_SECONDS:
            quiet_until = now + timedelta(seconds=outcome.retry_after)
    change = Change(
        state=State.WAITING,
        next_attempt_at=now + timedelta(seconds=delay),
        attempts=attempts,
        first_failure_at=first,
        reason_code="ledger_unavailable",
        last_error=outcome.message[:500],
    )
    return Transition(
        change,
        quiet_until=quiet_until,
        log="ledger unavailable; retrying later",
        log_fields={"attempts": attempts, "delay_seconds": delay, "error": outcome.message[:200]},
    )


def _held(
    record: OrderRecord, outcome: CredentialsRefused, version: int, events: Events, now: datetime
) -> Transition:
    event = record.event
    failure = Failure(
        kind=FailureKind.CREDENTIALS,
        reason_code="credentials_refused",
        reason=outcome.reason,
        suggestion=outcome.suggestion,
        attempts=record.attempts + 1,
    )
    hold = None
    if outcome.announce:
        cause = make_event_id("connection_broken", event.connection_id, str(version))
        alert = events.alert(event, AlertKind.CONNECTION_BROKEN, failure, cause_id=cause, at=now)
        hold = (version, outcome.message, alert)
    change = Change(
        state=State.HELD,
        next_attempt_at=None,
        reason_code="credentials_refused",
        outbox=(events.failure(event, record.revision, BookingStatus.HELD, failure, now),),
    )
    return Transition(change, hold=hold, log="credentials refused: order held")

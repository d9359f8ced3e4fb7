"""What a ledger must provide to the runtime: an adapter (one per service) that opens a
session per connection (its API client and settings), and the session's operations.

Everything else — claiming, intents, lookups before creating again, recording, the
outbox, scheduling, holds, the read-back check, the failure lifecycle — is the runtime's.

Errors a session raises:
- `koppel_chassis.TransientError` — the ledger is unavailable (timeouts, 5xx, 429 with its
  `retry_after`): the order waits and is retried;
- `koppel_chassis.CredentialsError` — the ledger refuses the connection's credentials:
  the connection is held until new settings arrive;
- `Refusal(reason_code, **params)` — a permanent refusal the adapter understood (from a
  status code, a documented error code, or by asking the ledger): a failure with the
  adapter's text for that code, which tells the merchant what to do;
- `koppel_chassis.PermanentError` — a refusal nobody understood: the runtime asks
  `explain()`, and otherwise fails the order showing the ledger's own words;
- `NotReplaceable` (from `replace`) — the document can no longer be changed (booked
  meanwhile): the runtime credits it and books the new revision afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from koppel_chassis import ExternalError
from koppel_contracts import ConnectionSettings, LedgerRef, LedgerSystem, OrderEvent, SourceSystem

from .records import LedgerDoc, Op, RecordedPlan

if TYPE_CHECKING:
    from .connection_test import LedgerDescription

# Texts per reason code and language: {"code": {"nl": (reason, suggestion), "en": (...)}}
Texts = Mapping[str, Mapping[str, tuple[str, str]]]


class Refusal(Exception):
    """A permanent failure the adapter understood; `params` fill its text."""

    def __init__(self, reason_code: str, **params: Any) -> None:
        super().__init__(f"{reason_code}: {params}")
        self.reason_code = reason_code
        self.params = params


class SettingsIncomplete(ValueError):
    """The connection settings lack something the ledger needs (ids, credentials)."""


class NotReplaceable(Exception):
    """The ledger will not change the document any more (it was booked meanwhile)."""


@dataclass(frozen=True)
class DraftRequest:
    """What the runtime asks a session to prepare: a document for one order revision."""

    op: Op
    order_id: str
    event: OrderEvent
    revision: int
    plan: RecordedPlan
    source: LedgerDoc | None = None  # a credit note: the document it cancels
    reuse: LedgerDoc | None = None  # an intent that was never created: reuse its number
    credits: int = 0  # credit notes the order already has (ledgers that derive numbers)


@dataclass(frozen=True)
class ReadBack:
    """A document as the ledger has it, reduced to what the check compares. Amounts are
    signed as booked (a credit note is negative); `vat_per_rate` is None where the
    ledger does not tell VAT apart."""

    number: str
    reference: str
    credit: bool
    total_incl_vat: Decimal
    vat_per_rate: dict[Decimal, Decimal] | None = None
    debtor_id: str | None = None
    debtor_external_id: str | None = None
    ledger_id: str | None = None


def is_ours(found: ReadBack | None, doc: LedgerDoc) -> bool:
    """The document the ledger has under the intended number is the one we meant to make."""
    return (
        found is not None
        and found.reference == doc.reference
        and found.credit == (doc.op == Op.CREDIT)
    )


class LedgerSession(Protocol):
    """One connection's view of its ledger (its client, settings, caches)."""

    async def prepare(self, request: DraftRequest, *, number: str | None = None) -> LedgerDoc:
        """The document to create: debtor, placement and number, with the mapping checked
        against what the ledger knows (accounts, VAT codes and their percentages).
        Nothing is created here. `number`: None = `request.reuse`'s number where it still
        fits, else the next one; a text = that number ("" = none needed yet). Raises
        Refusal for a configuration the ledger cannot take."""
        ...

    async def renumber(self, draft: LedgerDoc) -> LedgerDoc:
        """The draft's number belongs to another document: the next one to try, or a
        Refusal when numbers are not ours to choose."""
        ...

    async def create(self, draft: LedgerDoc) -> LedgerDoc:
        """Send the create once (never retried blindly: the runtime looks it up before any
        second attempt). Returns the document as created (e.g. with the ledger's id)."""
        ...

    async def replace(self, current: LedgerDoc, draft: LedgerDoc) -> LedgerDoc:
        """Change `current` in place to `draft`'s lines. NotReplaceable when the ledger
        will not (ask it before concluding)."""
        ...

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        """The document the ledger has under `doc`'s number (None: nothing there)."""
        ...

    async def find(self, doc: LedgerDoc) -> list[ReadBack]:
        """Documents of the same kind whose reference is `doc.reference` (for dossiers where
        orders may have been booked by hand or by a previous koppeling)."""
        ...

    def explain(self, error: ExternalError) -> Refusal | None:
        """The documented meaning of a refusal, or None (the ledger's own text is shown)."""
        ...

    def ledger_ref(self, doc: LedgerDoc) -> LedgerRef:
        """Where the document lives, for events (booking id, number, debtor, journal)."""
        ...

    async def forget_reference(self) -> None:
        """Cached reference data may be what is wrong: read it again next time."""
        ...


@dataclass(frozen=True)
class ErasedCustomer:
    """One erased customer of one connection, as a ledger service knows them: the orders
    sealed with their key (the service's record ids) and the debtor e-mails booked for
    them (none when the shop gave no e-mail). An adapter that keeps anything of customers
    outside the order records has `async forget_customer(settings, customer)`
    (`koppel_ledger.privacy`)."""

    connection_id: str
    order_ids: frozenset[str]
    emails: frozenset[str]


class LedgerAdapter(Protocol):
    """One ledger. `texts` are its own refusal texts (merged over the runtime's);
    `settings_fixable` the reason codes new connection settings may fix."""

    system: LedgerSystem
    source_system: SourceSystem
    component: str  # e.g. "ledger-octopus"
    display_name: str  # e.g. "Octopus", for the merchant's texts
    texts: Texts
    settings_fixable: frozenset[str]
    can_replace: bool  # False: an amendment is always credit + new document

    def session(self, connection_id: str, settings: ConnectionSettings) -> LedgerSession:
        """The session of a connection (cached; a new one when its settings change).
        Raises SettingsIncomplete when the settings lack what the ledger needs."""
        ...

    def drop(self, connection_id: str) -> None:
        """Forget the connection's session and tokens (new settings, credentials refused)."""
        ...

    async def maintain(self) -> None:
        """Periodic clean-up of the adapter's own state (every ten minutes)."""
        ...

    async def describe(self, settings: ConnectionSettings) -> LedgerDescription:
        """ "Test verbinding": log in with `settings` (possibly unsaved: use a client of
        its own, not the connection's cached session) and list the ledger accounts and VAT
        codes (with percentages) the mapping may use. Raises like a session does
        (CredentialsError, TransientError, SettingsIncomplete, Refusal)."""
        ...

    async def aclose(self) -> None: ...

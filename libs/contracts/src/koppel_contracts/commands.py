"""Commands and their answers: what the dashboard (and the CLI) ask of the services that own
an order or an API, through Kafka — never by calling a shop, a ledger or another service's
database itself.

- `ledger.commands.v1` (`LedgerCommand`): book an order again now ("Verwerk"), or every order
  of a connection in given states since a moment ("Verwerk alle"). The ledger service of the
  connection's ledger acts on it ahead of its schedule; the others ignore it.
- `ops.requests.v1` (`ConnectionRequest`): test a connection's shop or ledger with settings
  that may not be saved yet, or import historic orders (dry run first).
- `ops.answers.v1` (`ConnectionAnswer`): the answer of the service that owns the API, with the
  request's id: problems in the merchant's language, what the system offers (order states,
  accounts, VAT codes) and, for an import, its progress.
- `config.applied.v1` (`SettingsApplied`): a service took a connection's settings version (so
  a settings page can show when each service has it).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from .booking import RateAmount
from .connection import ConnectionSettings
from .envelope import ContractModel, Envelope
from .money import Money, VatRate


class LedgerCommandKind(StrEnum):
    RETRY_ORDER = "retry_order"
    RETRY_ORDERS = "retry_orders"


class LedgerCommand(Envelope):
    """On `ledger.commands.v1`, keyed `connection_id:order_ref` (one order) or
    `connection_id` (a filter)."""

    event_type: Literal["ledger_command"] = "ledger_command"
    schema_version: Literal[1] = 1
    kind: LedgerCommandKind
    order_ref: str | None = Field(default=None, description="retry_order: the order")
    states: list[str] = Field(
        default_factory=lambda: ["failed"],
        description="retry_orders: the order states to retry (failed, held, waiting)",
    )
    since: AwareDatetime | None = Field(
        default=None, description="retry_orders: only orders received at or after this"
    )
    requested_by: str | None = Field(default=None, description="Who asked (an account)")


class RequestKind(StrEnum):
    TEST_SHOP = "test_shop"
    TEST_LEDGER = "test_ledger"
    MIGRATE = "migrate"


class ConnectionRequest(Envelope):
    """On `ops.requests.v1`, keyed by connection id."""

    event_type: Literal["connection_request"] = "connection_request"
    schema_version: Literal[1] = 1
    request_id: str = Field(min_length=1)
    kind: RequestKind
    settings: ConnectionSettings | None = Field(
        default=None,
        description="The settings to use (tests: possibly unsaved; secrets encrypted); None: "
        "the connection's current settings",
    )
    since: date | None = Field(default=None, description="migrate: first day")
    until: date | None = Field(default=None, description="migrate: last day (default today)")
    dry_run: bool = Field(default=True, description="migrate: count and total, publish nothing")
    requested_by: str | None = None


class AnswerState(StrEnum):
    OK = "ok"
    FAILED = "failed"
    RUNNING = "running"
    DONE = "done"


class Problem(ContractModel):
    code: str = Field(min_length=1, description="Stable machine code, e.g. tls_certificate")
    reason: str = Field(description="What is wrong, in the merchant's language")
    suggestion: str = Field(description="What to do about it")


class Choice(ContractModel):
    """Something the system offers to choose from: an order state, a ledger account, a VAT
    code (with its percentage)."""

    code: str
    name: str
    percentage: VatRate | None = None
    flags: list[str] = Field(default_factory=list, description="e.g. paid, revenue")


class MigrationProgress(ContractModel):
    orders: int = Field(ge=0, description="Orders found in the range so far")
    published: int = Field(ge=0, description="Of those, published (0 in a dry run)")
    total_incl_vat: Money = Decimal(0)
    vat: list[RateAmount] = Field(default_factory=list, description="VAT per rate")
    skipped: int = Field(default=0, ge=0, description="Not bookable (unpaid, cancelled)")
    failed: int = Field(default=0, ge=0, description="Unreadable orders (ingest failures)")


class ConnectionAnswer(Envelope):
    """On `ops.answers.v1`, keyed by connection id."""

    event_type: Literal["connection_answer"] = "connection_answer"
    schema_version: Literal[1] = 1
    request_id: str = Field(min_length=1)
    kind: RequestKind
    component: str = Field(description="The service that answers, e.g. ingest-prestashop")
    state: AnswerState
    problems: list[Problem] = Field(default_factory=list)
    order_states: list[Choice] = Field(default_factory=list, description="test_shop")
    accounts: list[Choice] = Field(default_factory=list, description="test_ledger")
    vat_codes: list[Choice] = Field(default_factory=list, description="test_ledger")
    migration: MigrationProgress | None = Field(default=None, description="migrate")


class SettingsApplied(Envelope):
    """On `config.applied.v1`, keyed by connection id: `component` took `version`."""

    event_type: Literal["settings_applied"] = "settings_applied"
    schema_version: Literal[1] = 1
    component: str
    version: int = Field(ge=1)

"""The ingest runtime: shop orders published once as canonical order events.

A shop service is settings + app + an adapter (`adapter.ShopAdapter`): fetch one order,
list what changed since a cursor, the pure mapping to the canonical order, and
optionally webhooks (verify, register), a successor lookup (a re-issue under a new id),
the connection test and the historic listing. Everything else — leased polling,
cursors, order identity and revisions, the outbox, recorded ingest failures, the
connection guard, request budgets, webhook plumbing — lives here.
"""

from .adapter import (
    Candidate,
    Changes,
    ConnectionCheck,
    OrderUnreadable,
    PollWindow,
    RegisteredWebhook,
    SessionCache,
    SettingsUnusable,
    ShopAdapter,
    ShopOrder,
    ShopSession,
    ShopState,
    Texts,
    Webhooks,
    shop_secret,
)
from .budget import BudgetedPolicyClient, RequestBudget, budget_limiter
from .clock import Clock, SetClock, utcnow
from .decide import booking_fingerprint
from .guard import ConcurrentChange, Connection
from .migration import MigrationReport, MigrationTally
from .poller import PollPolicy
from .records import ConnectionState, IngestFailure, OrderRecord, Publication, SourceOrder
from .runtime import IngestRuntime
from .service import build_ingest_service
from .settings import IngestSettings, PolledIngestSettings
from .webhooks import BackgroundTasks, webhook_address

__all__ = [
    "BackgroundTasks",
    "BudgetedPolicyClient",
    "Candidate",
    "Changes",
    "Clock",
    "ConcurrentChange",
    "Connection",
    "ConnectionCheck",
    "ConnectionState",
    "IngestFailure",
    "IngestRuntime",
    "IngestSettings",
    "MigrationReport",
    "MigrationTally",
    "OrderRecord",
    "OrderUnreadable",
    "PollPolicy",
    "PollWindow",
    "PolledIngestSettings",
    "Publication",
    "RegisteredWebhook",
    "RequestBudget",
    "SessionCache",
    "SetClock",
    "SettingsUnusable",
    "ShopAdapter",
    "ShopOrder",
    "ShopSession",
    "ShopState",
    "SourceOrder",
    "Texts",
    "Webhooks",
    "booking_fingerprint",
    "budget_limiter",
    "build_ingest_service",
    "shop_secret",
    "utcnow",
    "webhook_address",
]

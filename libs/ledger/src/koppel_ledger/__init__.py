"""The ledger runtime: canonical orders booked exactly once in any ledger.

A ledger service is settings + app + an adapter (`adapter.LedgerAdapter`): its API client,
the mapping from the booking plan to the ledger's payload, and the ledger's own error
meanings. Everything else — claiming, intents, lookups, recording, the outbox,
scheduling, holds, the read-back check, the failure lifecycle — lives here.
"""

from .adapter import (
    DraftRequest,
    ErasedCustomer,
    LedgerAdapter,
    LedgerSession,
    NotReplaceable,
    ReadBack,
    Refusal,
    SettingsIncomplete,
    Texts,
    is_ours,
)
from .clock import Clock, ManualClock, utcnow
from .connection_test import LedgerDescription, check_ledger, mapping_problems
from .debtor_choice import (
    CollectiveDebtor,
    DebtorChoice,
    FixedDebtor,
    MatchedDebtor,
    NoDebtor,
    OrderDebtor,
    choose_debtor,
    is_business_buyer,
)
from .events import LEDGER_ZONE, customer_name, document_date
from .metrics import CallMeter, LedgerMetrics, current_meter, metered, operation
from .records import (
    Change,
    Debtor,
    LedgerDoc,
    Op,
    OrderRecord,
    OutboxItem,
    RecordedLine,
    RecordedPlan,
    State,
)
from .runtime import LedgerRuntime
from .service import build_ledger_service
from .settings import LedgerSettings

__all__ = [
    "LEDGER_ZONE",
    "CallMeter",
    "Change",
    "Clock",
    "CollectiveDebtor",
    "Debtor",
    "DebtorChoice",
    "DraftRequest",
    "ErasedCustomer",
    "FixedDebtor",
    "LedgerAdapter",
    "LedgerDescription",
    "LedgerDoc",
    "LedgerMetrics",
    "LedgerRuntime",
    "LedgerSession",
    "LedgerSettings",
    "ManualClock",
    "MatchedDebtor",
    "NoDebtor",
    "NotReplaceable",
    "Op",
    "OrderDebtor",
    "OrderRecord",
    "OutboxItem",
    "ReadBack",
    "RecordedLine",
    "RecordedPlan",
    "Refusal",
    "SettingsIncomplete",
    "State",
    "Texts",
    "build_ledger_service",
    "check_ledger",
    "choose_debtor",
    "current_meter",
    "customer_name",
    "document_date",
    "is_business_buyer",
    "is_ours",
    "mapping_problems",
    "metered",
    "operation",
    "utcnow",
]

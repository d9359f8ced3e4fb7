"""What ledger services say about an order: booked, failed, and the read-back check."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from .envelope import ContractModel, Envelope
from .money import Money, VatRate


class OrderSummary(ContractModel):
    """Enough of the order for a merchant to recognise it in an e-mail or dashboard."""

    order_number: str
    placed_on: date
    total_incl_vat: Money
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    customer_name: str | None = None


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    CREDENTIALS = "credentials"


class Failure(ContractModel):
    kind: FailureKind
    reason_code: str = Field(
        min_length=1, description="Stable machine code, e.g. icp_without_vat_number"
    )
    reason: str = Field(description="What went wrong, in the merchant's language")
    suggestion: str = Field(description="What the merchant can do about it")
    attempts: int = Field(default=1, ge=1)
    persistent: bool = Field(
        default=False, description="True once retrying has stopped and a person must act"
    )


class LedgerRef(ContractModel):
    """Where the booking lives in the ledger."""

    booking_id: str
    document_number: str | None = None
    debtor_id: str | None = None
    journal: str | None = None


class Notice(ContractModel):
    """Something the merchant should know about a booking that is not a failure, e.g. the
    shop charged shipping at one rate on a mixed-rate order (vat-nl-eu.md §6)."""

    code: str = Field(min_length=1, description="Stable machine code")
    text: str = Field(description="In the merchant's language")


class RateAmount(ContractModel):
    vat_rate: VatRate
    amount: Money


class BookingStatus(StrEnum):
    BOOKED = "booked"
    REPLACED = "replaced"
    CREDITED = "credited"
    FAILED = "failed"
    HELD = "held"


class BookingEvent(Envelope):
    """On `ledger.bookings.v1`, keyed `connection_id:order_ref`."""

    event_type: Literal["booking"] = "booking"
    schema_version: Literal[1] = 1
    order_ref: str
    order_revision: int = Field(ge=1)
    status: BookingStatus
    order: OrderSummary
    ledger_ref: LedgerRef | None = None
    failure: Failure | None = None
    notices: list[Notice] = Field(default_factory=list)


class CheckOutcome(StrEnum):
    MATCHED = "matched"
    MISMATCH = "mismatch"


class CheckEvent(Envelope):
    """The read-back of a booking, on `ledger.checks.v1`, keyed `connection_id:order_ref`."""

    event_type: Literal["check"] = "check"
    schema_version: Literal[1] = 1
    order_ref: str
    order_revision: int = Field(ge=1)
    outcome: CheckOutcome
    order: OrderSummary
    ledger_ref: LedgerRef
    expected_total_incl_vat: Money
    booked_total_incl_vat: Money
    difference: Money
    tolerance: Money
    expected_customer: str | None = None
    booked_customer: str | None = None
    details: list[str] = Field(
        default_factory=list, description="What differs, in the merchant's language"
    )
    expected_vat: list[RateAmount] = Field(
        default_factory=list, description="VAT per rate as the shop charged it (signed)"
    )
    booked_vat: list[RateAmount] | None = Field(
        default=None, description="VAT per rate as the ledger has it; None: it does not say"
    )
    notices: list[Notice] = Field(default_factory=list)

"""The canonical order: what every ingest service publishes, whatever the shop.

Nothing shop-specific lives here; every ledger service books from this shape.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal, Self

from pydantic import AwareDatetime, Field, field_validator, model_validator

from .envelope import ContractModel, Envelope, content_hash, make_event_id
from .money import Money, Quantity, VatRate, summing_tolerance


class OrderStatus(StrEnum):
    NEW = "new"
    AWAITING_PAYMENT = "awaiting_payment"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Address(ContractModel):
    company_name: str | None = None
    full_name: str | None = None
    street: str | None = None
    house_number: str | None = None
    house_number_suffix: str | None = None
    address_line: str | None = Field(
        default=None, description="Free-form first line when the shop has no street/number split"
    )
    postal_code: str | None = None
    city: str | None = None
    country_code: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class Customer(ContractModel):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    vat_number: str | None = Field(default=None, description="EU VAT id, e.g. NL123456789B01")
    phone: str | None = None

    @field_validator("email")
    @classmethod
    def _lowercase_email(cls, value: str | None) -> str | None:
        # Debtors are matched by e-mail; shops keep whatever case the customer typed.
        return value.lower() if value else value

    @field_validator("vat_number")
    @classmethod
    def _compact_vat_number(cls, value: str | None) -> str | None:
        if not value:
            return None
        return value.replace(" ", "").replace(".", "").upper()


class VatRateSource(StrEnum):
    """Where a line's VAT rate came from. Bol.com gives none: its ingest reads the rate from
    the connection's tables, else uses the default rate, and the booking says so."""

    SHOP = "shop"
    TABLE = "table"
    DEFAULT = "default"


class OrderLine(ContractModel):
    added_fields = frozenset({"offer_reference", "vat_rate_source"})

    sku: str | None = None
    ean: str | None = None
    offer_reference: str | None = Field(default=None, description="The seller's own reference")
    description: str
    quantity: Quantity
    unit_price_excl_vat: Money
    unit_price_incl_vat: Money
    vat_rate: VatRate
    vat_rate_source: VatRateSource = VatRateSource.SHOP
    discount_excl_vat: Money = Decimal(0)
    discount_incl_vat: Money = Decimal(0)
    total_excl_vat: Money
    total_incl_vat: Money

    @model_validator(mode="after")
    def _line_adds_up(self) -> Self:
        tolerance = summing_tolerance(1) * max(Decimal(1), abs(self.quantity))
        expected_incl = self.quantity * self.unit_price_incl_vat - self.discount_incl_vat
        if abs(expected_incl - self.total_incl_vat) > tolerance:
            raise ValueError(
                f"total_incl_vat {self.total_incl_vat} does not equal quantity"
                f" x unit_price_incl_vat - discount_incl_vat = {expected_incl}"
            )
        expected_excl = self.quantity * self.unit_price_excl_vat - self.discount_excl_vat
        if abs(expected_excl - self.total_excl_vat) > tolerance:
            raise ValueError(
                f"total_excl_vat {self.total_excl_vat} does not equal quantity"
                f" x unit_price_excl_vat - discount_excl_vat = {expected_excl}"
            )
        return self


class OrderDiscount(ContractModel):
    """An order-level discount (coupon, loyalty credit). Amounts are positive reductions."""

    description: str
    amount_excl_vat: Money = Field(ge=0)
    amount_incl_vat: Money = Field(ge=0)
    vat_rate: VatRate | None = Field(
        default=None, description="None: the discount applies to the goods proportionally"
    )


class Charge(ContractModel):
    """Shipping or payment costs. A None rate means: follows the VAT of the goods."""

    description: str
    amount_excl_vat: Money
    amount_incl_vat: Money
    vat_rate: VatRate | None = None


class OrderTotals(ContractModel):
    total_excl_vat: Money
    total_vat: Money
    total_incl_vat: Money


class SealedPersonalData(ContractModel):
    """The customer's personal data, encrypted with the key of one customer of one connection
    (`koppel_privacy`). Erasing the customer deletes the key, which leaves this unreadable
    wherever a copy of the event went: topics, dead letters, every service's database."""

    key_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The customer's key on privacy.keys.v1",
    )
    ciphertext: str = Field(
        min_length=1,
        pattern=r"^[A-Za-z0-9_\-=]+$",
        description="Fernet token over the JSON of the order's customer, billing_address and "
        "shipping_address as the shop gave them",
    )


class CanonicalOrder(ContractModel):
    added_fields = frozenset({"personal_data"})

    source_order_id: str = Field(min_length=1, description="The shop's id of this version")
    order_number: str = Field(min_length=1)
    status: OrderStatus
    source_status: str | None = Field(default=None, description="The shop's own status code")
    paid: bool
    paid_at: AwareDatetime | None = None
    placed_at: AwareDatetime
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    prices_include_vat: bool
    customer: Customer
    billing_address: Address
    shipping_address: Address | None = None
    payment_method: str | None = None
    lines: list[OrderLine] = Field(min_length=1)
    discounts: list[OrderDiscount] = Field(default_factory=list)
    shipping: Charge | None = None
    payment_costs: Charge | None = None
    totals: OrderTotals
    personal_data: SealedPersonalData | None = Field(
        default=None,
        description="Set when the order's personal data is sealed: `customer` then holds only "
        "the VAT number and the addresses only their country codes — what VAT treatment needs, "
        "so a ledger books the same totals once the customer is erased",
    )

    @property
    def sealed(self) -> bool:
        """The personal data travels encrypted (`personal_data`); consumers reveal it."""
        return self.personal_data is not None

    @property
    def charges(self) -> list[Charge]:
        return [c for c in (self.shipping, self.payment_costs) if c is not None]

    @model_validator(mode="after")
    def _parts_add_up_to_totals(self) -> Self:
        counted = len(self.lines) + len(self.discounts) + len(self.charges)
        tolerance = summing_tolerance(counted)
        for side in ("incl", "excl"):
            parts = (
                sum((getattr(line, f"total_{side}_vat") for line in self.lines), Decimal(0))
                - sum((getattr(d, f"amount_{side}_vat") for d in self.discounts), Decimal(0))
                + sum((getattr(c, f"amount_{side}_vat") for c in self.charges), Decimal(0))
            )
            stated = getattr(self.totals, f"total_{side}_vat")
            if abs(parts - stated) > tolerance:
                raise ValueError(
                    f"totals.total_{side}_vat is {stated} but lines - discounts + costs add up to"
                    f" {parts} (tolerance {tolerance})"
                )
        vat = self.totals.total_incl_vat - self.totals.total_excl_vat
        if abs(vat - self.totals.total_vat) > summing_tolerance(1):
            raise ValueError(
                f"totals.total_vat is {self.totals.total_vat} but incl - excl is {vat}"
            )
        return self


class OrderEventKind(StrEnum):
    CREATED = "created"
    AMENDED = "amended"
    CANCELLED = "cancelled"


class OrderEvent(Envelope):
    """One revision of one order, on `shop.orders.v1`, keyed `connection_id:order_ref`."""

    event_type: Literal["order"] = "order"
    schema_version: Literal[1, 2] = Field(
        default=1,
        description="2: the order's personal data is sealed (order.personal_data) — a consumer "
        "of the first release refuses it (dead letter) instead of booking it without a customer",
    )
    kind: OrderEventKind
    order_ref: str = Field(
        min_length=1,
        description="Stable id of the order across shop re-issues (the first source order id)",
    )
    revision: int = Field(ge=1, description="1 for the first publication, +1 per change")
    supersedes_source_order_id: str | None = Field(
        default=None, description="Set when the shop re-issued the order under a new id"
    )
    content_hash: str = Field(description="SHA-256 of the order as published")
    order: CanonicalOrder


def order_event_id(
    connection_id: str, order_ref: str, kind: OrderEventKind, order_hash: str, revision: int
) -> str:
    """The same change of the same order yields the same id, so a re-publish is recognisable.

    The revision is part of it: an order edited A -> B -> A -> B publishes "B" twice as
    two different changes, which must not look like one re-published event.
    """
    return make_event_id("order", connection_id, order_ref, kind.value, order_hash, str(revision))


def order_content_hash(order: CanonicalOrder) -> str:
    return content_hash(order)

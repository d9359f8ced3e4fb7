"""What one retailer account holds: orders and their items, shipments, returns,
invoice requests and uploaded invoices, process statuses. Plain data; the
operations live in `account.py`, the JSON shapes in `render.py`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

FulfilmentMethod = Literal["FBR", "FBB"]
FULFILMENT_METHODS: tuple[str, ...] = ("FBR", "FBB")

# Enums exactly as the spec spells them (bol-retailer-v10.openapi.json).
TIME_FRAME_TYPES = ("REGULAR", "EVENING", "APPOINTMENT", "SAMEDAY", "SUNDAY")
CANCELLATION_REASONS = (
    "OUT_OF_STOCK",
    "REQUESTED_BY_CUSTOMER",
    "BAD_CONDITION",
    "HIGHER_SHIPCOST",
    "INCORRECT_PRICE",
    "NOT_AVAIL_IN_TIME",
    "NO_BOL_GUARANTEE",
    "ORDERED_TWICE",
    "RETAIN_ITEM",
    "TECH_ISSUE",
    "UNFINDABLE_ITEM",
    "OTHER",
)
HANDLING_RESULTS = (
    "RETURN_RECEIVED",
    "EXCHANGE_PRODUCT",
    "RETURN_DOES_NOT_MEET_CONDITIONS",
    "REPAIR_PRODUCT",
    "CUSTOMER_KEEPS_PRODUCT_PAID",
    "STILL_APPROVED",
)
INVOICE_STATUSES = (
    "INVOICE_REQUESTED",
    "INVOICE_UPLOADED",
    "INVOICE_INCORRECT",
    "INVOICE_VIRUS_DETECTED",
    "FINISHED",
)
TRANSPORT_EVENTS = (
    "PRE_ANNOUNCED",
    "AT_TRANSPORTER",
    "IN_TRANSIT",
    "DELIVERED_AT_NEIGHBOURS",
    "DELIVERED_AT_CUSTOMER",
    "PICKED_UP_AT_PICK_UP_POINT",
    "AT_PICK_UP_POINT",
    "RETURNED_TO_SENDER",
    "INBOUND_COLLECT",
)


@dataclass(frozen=True)
class Product:
    """An offer in the seller's assortment. bol gives no VAT: `category` is only a
    hint for whoever maps products to rates (books 9 %, electronics 21 %)."""

    ean: str
    title: str
    price: Decimal
    reference: str
    offer_id: str
    category: str = ""


@dataclass
class Discount:
    title: str
    amount: Decimal


@dataclass
class OrderItem:
    order_item_id: str
    ean: str
    title: str
    offer_id: str
    offer_reference: str | None
    quantity: int
    unit_price: Decimal
    commission: Decimal
    method: FulfilmentMethod
    changed_at: datetime
    discounts: list[Discount] = field(default_factory=list)
    latest_delivery_date: date | None = None
    exact_delivery_date: date | None = None
    expiry_date: date | None = None
    time_frame_type: str = "REGULAR"
    additional_services: list[str] = field(default_factory=list)
    with_product: bool = True  # the whole `product` object is optional (bol.md §9 item 7)
    quantity_shipped: int = 0
    quantity_cancelled: int = 0
    cancellation_request: bool = False
    handled_at: datetime | None = None

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.quantity_shipped - self.quantity_cancelled

    @property
    def handled(self) -> bool:
        return self.open_quantity <= 0

    @property
    def distribution_party(self) -> str:
        return "BOL" if self.method == "FBB" else "RETAILER"

    @property
    def total_price(self) -> Decimal:
        """What the buyer paid for the line: quantity × unit price − discounts (10.22)."""
        return self.quantity * self.unit_price - sum((d.amount for d in self.discounts), Decimal(0))

    def touch(self, moment: datetime) -> None:
        self.changed_at = moment
        if self.handled and self.handled_at is None:
            self.handled_at = moment


@dataclass
class Order:
    order_id: str
    placed_at: datetime
    shipment_details: dict[str, Any]
    billing_details: dict[str, Any] | None
    items: list[OrderItem]
    pickup_point: bool = False
    invoice_requested: bool = False
    customer_account_number: str = ""
    vvb: bool = False

    def item(self, order_item_id: str) -> OrderItem | None:
        return next((i for i in self.items if i.order_item_id == order_item_id), None)


@dataclass
class Transport:
    transport_id: str
    transporter_code: str
    track_and_trace: str
    shipping_label_id: str | None = None
    events: list[tuple[str, datetime]] = field(default_factory=list)


@dataclass
class ShipmentLine:
    item: OrderItem
    quantity: int


@dataclass
class Shipment:
    shipment_id: str
    shipped_at: datetime
    reference: str
    order: Order
    lines: list[ShipmentLine]
    transport: Transport

    @property
    def method(self) -> str:
        return self.lines[0].item.method


@dataclass
class ProcessingResult:
    quantity: int
    processing_result: str  # ACCEPTED | REJECTED
    handling_result: str
    at: datetime


@dataclass
class ReturnItem:
    rma_id: str
    order: Order
    item: OrderItem
    expected_quantity: int
    main_reason: str
    detailed_reason: str
    comments: str
    track_and_trace: str | None = None
    transporter_name: str | None = None
    results: list[ProcessingResult] = field(default_factory=list)

    @property
    def handled(self) -> bool:
        return bool(self.results)


@dataclass
class Return:
    return_id: str
    registered_at: datetime
    method: str
    items: list[ReturnItem]

    @property
    def handled(self) -> bool:
        return all(item.handled for item in self.items)

    @property
    def handled_at(self) -> datetime:
        moments = [r.at for item in self.items for r in item.results]
        return max(moments) if moments else self.registered_at


@dataclass
class InvoiceRequest:
    shipment: Shipment
    transitions: list[tuple[str, datetime]]

    @property
    def status(self) -> str:
        return self.transitions[-1][0]


@dataclass
class UploadedInvoice:
    shipment_id: str
    number: int
    filename: str
    content_type: str
    kind: Literal["pdf", "ubl"]
    data: bytes
    uploaded_at: datetime
    process_status_id: str
    accepted: bool
    refusal: str | None = None


@dataclass
class ProcessStatus:
    process_status_id: str
    entity_id: str
    event_type: str
    description: str
    created_at: datetime
    ready_at: datetime
    outcome: Literal["SUCCESS", "FAILURE"]
    error_message: str | None = None

    def status(self, now: datetime) -> str:
        return "PENDING" if now < self.ready_at else self.outcome

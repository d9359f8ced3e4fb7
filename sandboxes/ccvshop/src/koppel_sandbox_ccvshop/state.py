"""Everything the sandbox shop knows: API keys, orders, webhooks, deliveries, limits.

Operations that CCV reports through webhooks (an order created, paid, its
status changed) call the registered listeners with the event name and order;
`webhooks.WebhookSender` turns that into signed deliveries.
"""

from __future__ import annotations

import copy
import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from koppel_sandbox_kit import FaultInjector, FixedWindowLimiter

from . import defaults
from .pricing import ZERO, OrderTotals, cents, order_totals

CANCELLED = 8
ORDER_EVENTS = (
    "orders.created",
    "orders.updated.ispaid",
    "orders.updated.status",
    "orders.updated.trackandtrace",
)
WEBHOOK_EVENTS = (*ORDER_EVENTS, "products.created", "products.updated", "products.deleted")

Clock = Callable[[], datetime]
Listener = Callable[[str, "Order", dict[str, Any]], None]


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _moment(value: Any) -> datetime | None:
    """A seeded timestamp (ISO-8601, UTC when no zone is given), to the second."""
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _decimal(value: Any, default: str = "0") -> Decimal:
    if value is None:
        return Decimal(default)
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"amounts must be decimal strings or integers, got {value!r}")
    return Decimal(str(value))


@dataclass
class ApiCredentials:
    public: str
    secret: str


@dataclass
class Option:
    """A chosen product option (`attributes` of a row): a surcharge per unit."""

    id: int
    option_name: str
    value_name: str
    price: Decimal = ZERO


@dataclass
class Row:
    id: int
    product_name: str
    product_number: str
    count: Decimal
    price: Decimal
    discount: Decimal
    tax: Decimal
    product_id: int
    sub_ean_number: str = ""
    sub_product_number: str = ""
    sub_sku_number: str = ""
    options: list[Option] = field(default_factory=list)
    product_type: str = "product"
    weight: Decimal = ZERO

    @property
    def option_price(self) -> Decimal:
        """The surcharge of the chosen options, per unit."""
        return sum((option.price for option in self.options), ZERO)

    @property
    def total_price(self) -> Decimal:
        return cents(self.count * (self.price - self.discount + self.option_price))


@dataclass
class Coupon:
    code: str
    type: Literal["percentage", "price"]
    discount: Decimal
    givesfreeshipping: bool = False

    def amount(self, rows_total: Decimal) -> Decimal:
        if self.type == "percentage":
            return cents(rows_total * self.discount / 100)
        return min(self.discount, rows_total)


@dataclass
class Order:
    id: int
    ordernumber: int
    create_date: datetime
    rows: list[Row]
    customer: dict[str, Any]
    paymethod: dict[str, Any]
    status: int = 1
    paid: bool = False
    is_completed: bool = True
    coupon: Coupon | None = None
    shipping: Decimal = ZERO
    shipping_tax_percentage: Decimal = Decimal(21)
    shipping_taxes_included: bool = True  # False: shipping carries no VAT
    paymethod_costs: Decimal = ZERO
    credit_point_discount: Decimal = ZERO
    extra_costs: Decimal = ZERO
    extra_costs_description: str = ""
    order_row_taxes_included: bool = True
    currency: str = "EUR"
    transaction_id: str | None = None
    ordernumber_prefix: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False

    @property
    def ordernumber_full(self) -> str:
        prefix = self.ordernumber_prefix
        return f"{prefix}-{self.ordernumber}" if prefix else str(self.ordernumber)

    def totals(self) -> OrderTotals:
        rows_total = sum((row.total_price for row in self.rows), ZERO)
        return order_totals(
            rows=[(row.total_price, row.tax) for row in self.rows],
            includes_vat=self.order_row_taxes_included,
            coupon_discount=self.coupon.amount(rows_total) if self.coupon else ZERO,
            credit_point_discount=self.credit_point_discount,
            shipping=self.shipping,
            shipping_rate=self.shipping_tax_percentage if self.shipping_taxes_included else ZERO,
            payment_costs=self.paymethod_costs,
            extra_costs=self.extra_costs,
        )


@dataclass
class Webhook:
    id: int
    event: str
    address: str
    key: str
    is_active: bool
    createdate: datetime


@dataclass
class Delivery:
    id: int
    webhook_id: int
    event: str
    address: str
    order_id: int
    body: str
    headers: dict[str, str]
    status: Literal["pending", "delivered", "failed", "paused"] = "pending"
    http_status: int | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class Config:
    """Behaviour the real API leaves unconfirmed; tests may change it."""

    auth_failure_status: int = 401
    max_clock_skew_seconds: float = 900.0
    sign_responses: bool = True
    webhook_signature: Literal["body", "address_body", "base64_body"] = "body"
    default_page_size: int = 50
    max_page_size: int = 250
    ordernumber_prefix: str | None = None


class RateLimits:
    """Per public key, per resource and method, per window; plus a per-key total (§10)."""

    def __init__(
        self, get: int = 150, write: int = 100, total: int = 1000, window_seconds: float = 60.0
    ) -> None:
        self.configure(get=get, write=write, total=total, window_seconds=window_seconds)

    def configure(self, *, get: int, write: int, total: int, window_seconds: float) -> None:
        self.get, self.write, self.total, self.window_seconds = get, write, total, window_seconds
        self._get = FixedWindowLimiter(get, window_seconds)
        self._write = FixedWindowLimiter(write, window_seconds)
        self._total = FixedWindowLimiter(total, window_seconds)

    def as_json(self) -> dict[str, Any]:
        return {
            "get": self.get,
            "write": self.write,
            "total": self.total,
            "window_seconds": self.window_seconds,
        }

    def check(self, public: str, resource: str, method: str) -> tuple[str, int] | None:
        """None when allowed, else the CCV error code and the limit that was hit."""
        per_method = self._get if method == "GET" else self._write
        if not per_method.hit(f"{public}|{resource}|{method}").allowed:
            return "429.10", per_method.limit
        if not self._total.hit(public).allowed:
            return "429.11", self._total.limit
        return None

    def reset(self) -> None:
        for limiter in (self._get, self._write, self._total):
            limiter.reset()


class NotFound(LookupError):
    pass


class CcvShopState:
    def __init__(self, clock: Clock = _utcnow) -> None:
        self.clock = clock
        self.config = Config()
        self.limits = RateLimits()
        self.faults = FaultInjector()
        self.credentials: dict[str, ApiCredentials] = {}
        self.orders: dict[int, Order] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.deliveries: list[Delivery] = []
        self.webhooks_paused = False
        self.base_url = "http://127.0.0.1"
        self.counters = {"requests": 0, "auth_refused": 0, "rate_limited": 0}
        self._listeners: list[Listener] = []
        self._next_order_id = 339_400_001
        self._next_row_id = 1_203_000_001
        self._next_webhook_id = 5_100_001
        self._next_option_id = 880_001
        self._next_ordernumber = 1

    # --- credentials --------------------------------------------------------

    def create_credentials(
        self, public: str | None = None, secret: str | None = None
    ) -> ApiCredentials:
        creds = ApiCredentials(
            public=public or secrets.token_hex(16), secret=secret or secrets.token_hex(32)
        )
        self.credentials[creds.public] = creds
        return creds

    def revoke_credentials(self, public: str) -> None:
        if self.credentials.pop(public, None) is None:
            raise NotFound(f"no API key {public}")

    def change_secret(self, public: str, secret: str | None = None) -> ApiCredentials:
        if public not in self.credentials:
            raise NotFound(f"no API key {public}")
        return self.create_credentials(public, secret)

    # --- orders -------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: str, order: Order, **extra: Any) -> None:
        if order.is_completed:
            for listener in self._listeners:
                listener(event, order, extra)

    def order(self, order_id: int) -> Order:
        order = self.orders.get(order_id)
        if order is None or order.deleted:
            raise NotFound(f"order {order_id} does not exist")
        return order

    def visible_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if not o.deleted]

    def find_row(self, row_id: int) -> tuple[Order, Row]:
        for order in self.visible_orders():
            for row in order.rows:
                if row.id == row_id:
                    return order, row
        raise NotFound(f"order row {row_id} does not exist")

    def _rows(self, specs: list[dict[str, Any]]) -> list[Row]:
        rows = []
        for spec in specs:
            row_id = self._next_row_id
            self._next_row_id += 1
            rows.append(
                Row(
                    id=row_id,
                    product_name=str(spec.get("product_name", "Artikel")),
                    product_number=str(spec.get("product_number", f"ART-{row_id}")),
                    count=_decimal(spec.get("count"), "1"),
                    price=_decimal(spec.get("price")),
                    discount=_decimal(spec.get("discount")),
                    tax=_decimal(spec.get("tax"), "21"),
                    product_id=int(spec.get("product_id", 70_000_000 + row_id % 1_000_000)),
                    sub_ean_number=str(spec.get("sub_ean_number", "")),
                    sub_product_number=str(spec.get("sub_product_number", "")),
                    sub_sku_number=str(spec.get("sub_sku_number", "")),
                    options=[self._option(o) for o in spec.get("attributes") or []],
                    product_type=str(spec.get("product_type", "product")),
                    weight=_decimal(spec.get("weight"), "0.5"),
                )
            )
        return rows

    def _option(self, spec: dict[str, Any]) -> Option:
        option_id = int(spec.get("id") or self._next_option_id)
        self._next_option_id += 1
        return Option(
            id=option_id,
            option_name=str(spec["option_name"]),
            value_name=str(spec["value_name"]),
            price=_decimal(spec.get("price")),
        )

    def seed_order(self, spec: dict[str, Any]) -> Order:
        """A completed checkout (unless `is_completed: false`), with realistic defaults."""
        order_id = self._next_order_id
        self._next_order_id += 1
        coupon = spec.get("coupon")
        order = Order(
            id=order_id,
            ordernumber=self._next_ordernumber,
            ordernumber_prefix=self.config.ordernumber_prefix,
            create_date=_moment(spec.get("create_date")) or self.clock(),
            rows=self._rows(spec.get("rows") or defaults.DEFAULT_ROWS),
            customer=defaults.customer(spec.get("customer")),
            paymethod=defaults.paymethod(spec.get("paymethod", "PspIdeal")),
            status=int(spec.get("status", 1)),
            paid=bool(spec.get("paid", False)),
            is_completed=bool(spec.get("is_completed", True)),
            coupon=_coupon(coupon) if coupon else None,
            shipping=_decimal(spec.get("shipping"), "4.95"),
            shipping_tax_percentage=_decimal(spec.get("shipping_tax_percentage"), "21"),
            shipping_taxes_included=bool(spec.get("shipping_taxes_included", True)),
            paymethod_costs=_decimal(spec.get("paymethod_costs")),
            credit_point_discount=_decimal(spec.get("credit_point_discount")),
            extra_costs=_decimal(spec.get("extra_costs")),
            extra_costs_description=str(spec.get("extra_costs_description", "")),
            order_row_taxes_included=bool(spec.get("order_row_taxes_included", True)),
            currency=str(spec.get("currency", "EUR")),
            transaction_id=spec.get("transaction_id", f"TR{order_id}"),
            overrides=dict(spec.get("overrides") or {}),
        )
        if order.is_completed:
            # Unfinished checkouts have no number yet (ccvshop.md §6).
            self._next_ordernumber += 1
        self.orders[order.id] = order
        self._emit("orders.created", order)
        return order

    def set_paid(self, order_id: int, paid: bool = True) -> Order:
        order = self.order(order_id)
        if order.paid != paid:
            order.paid = paid
            self._emit("orders.updated.ispaid", order, paid=paid)
        return order

    def set_status(self, order_id: int, status: int) -> Order:
        if not 1 <= status <= 14:
            raise ValueError(f"status must be 1..14, got {status}")
        order = self.order(order_id)
        previous = order.status
        if previous != status:
            order.status = status
            self._emit("orders.updated.status", order, previous_status=previous)
        return order

    def cancel(self, order_id: int) -> Order:
        return self.set_status(order_id, CANCELLED)

    def edit(
        self, order_id: int, changes: dict[str, Any], old: Literal["cancel", "delete"] = "cancel"
    ) -> Order:
        """Edit an order the way the CCV back office does: re-issue it under a new id.

        The new order keeps the order number, customer and state of the old one,
        with `changes` applied. The old one is cancelled (status 8, and a status
        webhook fires) or, with `old="delete"`, disappears (404, no webhook).
        """
        original = self.order(order_id)
        new_id = self._next_order_id
        self._next_order_id += 1
        edited = copy.deepcopy(original)
        edited.id = new_id
        edited.create_date = self.clock()
        edited.overrides = dict(changes.get("overrides") or {})
        if "rows" in changes:
            edited.rows = self._rows(changes["rows"])
        else:
            edited.rows = self._rows([_row_spec(row) for row in original.rows])
        if "customer" in changes:
            edited.customer = defaults.customer(changes["customer"])
        for name in ("shipping", "paymethod_costs", "credit_point_discount", "extra_costs"):
            if name in changes:
                setattr(edited, name, _decimal(changes[name]))
        if "coupon" in changes:
            edited.coupon = _coupon(changes["coupon"]) if changes["coupon"] else None
        self.orders[new_id] = edited
        self._emit("orders.created", edited)
        if old == "delete":
            original.deleted = True
        else:
            self.set_status(order_id, CANCELLED)
        return edited

    # --- webhooks -----------------------------------------------------------

    def create_webhook(self, event: str, address: str, is_active: bool = True) -> Webhook:
        if event not in WEBHOOK_EVENTS:
            raise ValueError(f"unknown webhook event {event!r}")
        hook = Webhook(
            id=self._next_webhook_id,
            event=event,
            address=address,
            key=secrets.token_hex(32),
            is_active=is_active,
            createdate=self.clock(),
        )
        self._next_webhook_id += 1
        self.webhooks[hook.id] = hook
        return hook

    def webhook(self, webhook_id: int) -> Webhook:
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            raise NotFound(f"webhook {webhook_id} does not exist")
        return hook

    def record_delivery(
        self, hook: Webhook, order: Order, body: str, headers: dict[str, str]
    ) -> Delivery:
        delivery = Delivery(
            id=len(self.deliveries) + 1,
            webhook_id=hook.id,
            event=hook.event,
            address=hook.address,
            order_id=order.id,
            body=body,
            headers=headers,
        )
        self.deliveries.append(delivery)
        return delivery


def _coupon(spec: dict[str, Any]) -> Coupon:
    kind = spec.get("type", "percentage")
    if kind not in ("percentage", "price"):
        raise ValueError("coupon type must be 'percentage' or 'price'")
    return Coupon(
        code=str(spec.get("code", "KORTING")),
        type=kind,
        discount=_decimal(spec.get("discount"), "10"),
        givesfreeshipping=bool(spec.get("givesfreeshipping", False)),
    )


def _row_spec(row: Row) -> dict[str, Any]:
    return {
        "product_name": row.product_name,
        "product_number": row.product_number,
        "count": row.count,
        "price": row.price,
        "discount": row.discount,
        "tax": row.tax,
        "product_id": row.product_id,
        "sub_ean_number": row.sub_ean_number,
        "sub_product_number": row.sub_product_number,
        "sub_sku_number": row.sub_sku_number,
        "attributes": [dataclasses.asdict(option) for option in row.options],
        "product_type": row.product_type,
        "weight": row.weight,
    }

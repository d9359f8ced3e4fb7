"""A buyer places an order (control API `POST …/orders`): the spec given by a test or
the demo, filled up with realistic defaults from the account's assortment."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import people
from .account import Account
from .aftersales import Refused
from .model import TIME_FRAME_TYPES, Discount, Order, OrderItem

# UNCONFIRMED: bol's commission is a percentage plus a fixed fee per unit that differ
# per category; the sandbox uses one rule for every product unless an item says otherwise.
COMMISSION_RATE = Decimal("0.15")
COMMISSION_FEE = Decimal("0.99")


def default_commission(unit_price: Decimal, quantity: int) -> Decimal:
    per_unit = unit_price * COMMISSION_RATE + COMMISSION_FEE
    return (per_unit * quantity).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _moment(value: Any, fallback: datetime) -> datetime:
    if value is None:
        return fallback
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise Refused(f"placedAt {value!r} needs an offset")
    return moment


def _item(account: Account, spec: dict[str, Any], method: str, placed: datetime) -> OrderItem:
    ean = str(spec.get("ean") or "")
    product = account.products.get(ean)
    if not ean:
        if not account.products:
            raise Refused("an item needs an ean")
        product = next(iter(account.products.values()))
        ean = product.ean
    quantity = int(spec.get("quantity", 1))
    if quantity < 1:
        raise Refused("quantity must be at least 1")
    unit_price = money(spec.get("unitPrice"), product.price if product else None)
    item_method = str(spec.get("fulfilmentMethod", method))
    if item_method not in ("FBR", "FBB"):
        raise Refused(f"fulfilmentMethod must be FBR or FBB, got {item_method!r}")
    time_frame = str(spec.get("timeFrameType", "REGULAR"))
    if time_frame not in TIME_FRAME_TYPES:
        raise Refused(f"timeFrameType must be one of {TIME_FRAME_TYPES}")
    exact = spec.get("exactDeliveryDate")
    day = placed.date()
    return OrderItem(
        order_item_id=account.state.ids.next("order_item"),
        ean=ean,
        title=str(spec.get("title") or (product.title if product else f"Artikel {ean}")),
        offer_id=str(spec.get("offerId") or (product.offer_id if product else "")),
        offer_reference=spec.get("offerReference", product.reference if product else None),
        quantity=quantity,
        unit_price=unit_price,
        commission=money(spec.get("commission"), default_commission(unit_price, quantity)),
        method=item_method,  # type: ignore[arg-type]
        changed_at=placed,
        discounts=[
            Discount(str(d.get("title", "Actie")), money(d.get("amount")))
            for d in spec.get("discounts") or []
        ],
        latest_delivery_date=None if exact else day + timedelta(days=2),
        exact_delivery_date=datetime.fromisoformat(exact).date() if exact else None,
        expiry_date=day + timedelta(days=5),
        time_frame_type=time_frame,
        additional_services=[str(s) for s in spec.get("additionalServices") or []],
        with_product=bool(spec.get("withProduct", True)),
    )


def place_order(account: Account, spec: dict[str, Any]) -> Order:
    """Keys (all optional): orderId, placedAt, country (NL|BE), business, invoiceRequested,
    shipmentDetails, billingDetails (null: none), pickupPoint, pickupPointName,
    fulfilmentMethod (FBR|FBB), vvb, items [{ean, quantity, unitPrice, title,
    offerReference, offerId, commission, discounts [{title, amount}], fulfilmentMethod,
    timeFrameType, exactDeliveryDate, additionalServices, withProduct}],
    ship (ship everything at once: the order never shows as OPEN)."""
    rng = account.state.rng
    placed = _moment(spec.get("placedAt"), account.now())
    method = str(spec.get("fulfilmentMethod", "FBR"))
    country = str(spec.get("country", "NL"))
    business = bool(spec.get("business", False))
    billing_spec = spec.get("billingDetails", {})
    delivery, billing = people.buyer(
        rng,
        country=country,
        business=business,
        shipment=spec.get("shipmentDetails"),
        billing=billing_spec or {},
    )
    pickup = bool(spec.get("pickupPoint", False))
    if pickup:
        delivery.setdefault("pickupPointName", spec.get("pickupPointName", "Albert Heijn: UTRECHT"))
    order_id = str(spec.get("orderId") or account.state.ids.next("order"))
    if order_id in account.orders:
        raise Refused(f"order {order_id} exists")
    order = Order(
        order_id=order_id,
        placed_at=placed,
        shipment_details=delivery,
        billing_details=None if billing_spec is None else billing,
        items=[_item(account, s, method, placed) for s in spec.get("items") or [{}]],
        pickup_point=pickup,
        invoice_requested=bool(spec.get("invoiceRequested", False)),
        customer_account_number=people.customer_account_number(rng),
        vvb=bool(spec.get("vvb", False)),
    )
    account.add_order(order)
    if spec.get("ship"):
        for method_group in ("FBR", "FBB"):
            lines = [(i.order_item_id, None) for i in order.items if i.method == method_group]
            if lines:
                account.ship(order_id, lines)
    return order


def money(value: Any, default: Decimal | None = None) -> Decimal:
    if value is None:
        if default is None:
            raise Refused("an amount is required")
        return default
    if isinstance(value, bool | float):
        raise Refused(f"amounts must be decimal strings or integers, got {value!r}")
    return Decimal(str(value))

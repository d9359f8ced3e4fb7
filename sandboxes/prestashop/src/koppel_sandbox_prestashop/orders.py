"""What a customer and the merchant do to orders, as PrestaShop records it:
checkout (`validateOrder`), editing lines in the back office, status changes
(each an `order_history`, moving `date_upd`), refunds (credit slips) and
cancellation. The control API calls these; specs are plain JSON dicts.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .amounts import order_amounts
from .model import (
    Address,
    CartRule,
    Customer,
    History,
    Invoice,
    Line,
    Order,
    Payment,
)
from .pricing import ZERO, excl_from_incl, q6
from .state import NotFound, PrestaShopState


def _dec(value: Any, default: str = "0") -> Decimal:
    if value is None:
        return Decimal(default)
    if isinstance(value, bool | float):
        raise ValueError(f"amounts must be decimal strings or integers, got {value!r}")
    return Decimal(str(value))


def _customer(state: PrestaShopState, spec: dict[str, Any]) -> Customer:
    if "id" in spec:
        found = state.customers.get(int(spec["id"]))
        if found is None:
            raise NotFound(f"customer {spec['id']} does not exist")
        return found
    customer = Customer(
        id=state.next_id("customer"),
        email=str(spec.get("email", "anna.devries@example.nl")),
        firstname=str(spec.get("firstname", "Anna")),
        lastname=str(spec.get("lastname", "de Vries")),
        company=str(spec.get("company", "")),
        is_guest=bool(spec.get("is_guest", False)),
        secure_key=state.random_secure_key(),
        date_add=state.now(),
        siret=str(spec.get("siret", "")),
        newsletter=bool(spec.get("newsletter", False)),
    )
    state.customers[customer.id] = customer
    return customer


def _address(state: PrestaShopState, customer: Customer, spec: dict[str, Any]) -> Address:
    if "id" in spec:
        found = state.addresses.get(int(spec["id"]))
        if found is None:
            raise NotFound(f"address {spec['id']} does not exist")
        return found
    address = Address(
        id=state.next_id("address"),
        id_customer=customer.id,
        id_country=state.country_for(spec.get("country", "NL")).id,
        alias=str(spec.get("alias", "Mijn adres")),
        firstname=str(spec.get("firstname", customer.firstname)),
        lastname=str(spec.get("lastname", customer.lastname)),
        address1=str(spec.get("address1", "Lange Nieuwstraat 12")),
        postcode=str(spec.get("postcode", "3512 PH")),
        city=str(spec.get("city", "Utrecht")),
        date_add=state.now(),
        company=str(spec.get("company", customer.company)),
        vat_number=str(spec.get("vat_number", "")),
        address2=str(spec.get("address2", "")),
        phone=str(spec.get("phone", "030-2345678")),
        phone_mobile=str(spec.get("phone_mobile", "")),
        dni=str(spec.get("dni", "")),
    )
    state.addresses[address.id] = address
    return address


def make_line(state: PrestaShopState, spec: dict[str, Any], line_id: int | None = None) -> Line:
    """A row spec: name, reference, quantity, price_tax_excl or price_tax_incl (the
    back office stores excl. with 6 decimals), tax_rate (default 21), optional
    reduction_percent, ean13, isbn, upc, mpn, weight, product_id."""
    rate = _dec(spec.get("tax_rate"), "21")
    tax = state.tax_for_rate(rate)
    if "price_tax_incl" in spec:
        base = excl_from_incl(_dec(spec["price_tax_incl"]), rate)
    else:
        base = q6(_dec(spec.get("price_tax_excl", spec.get("unit_price_tax_excl")), "10"))
    reduction = _dec(spec.get("reduction_percent"))
    unit = q6(base * (100 - reduction) / 100)
    quantity = int(spec.get("quantity", 1))
    if quantity < 1:
        raise ValueError("a row needs a quantity of at least 1")
    line_id = line_id if line_id is not None else state.next_id("order_detail")
    return Line(
        id=line_id,
        product_id=int(spec.get("product_id", 1000 + line_id)),
        name=str(spec.get("name", "Artikel")),
        reference=str(spec.get("reference", f"ART-{line_id}")),
        quantity=quantity,
        unit_price_tax_excl=unit,
        tax_rate=rate,
        tax_id=tax.id if tax else None,
        tax_rules_group=tax.tax_rules_group if tax else 0,
        product_attribute_id=int(spec.get("product_attribute_id", 0)),
        ean13=str(spec.get("ean13", "")),
        isbn=str(spec.get("isbn", "")),
        upc=str(spec.get("upc", "")),
        mpn=str(spec.get("mpn", "")),
        weight=_dec(spec.get("weight"), "0.5"),
        original_price=base,
        reduction_percent=reduction,
    )


def _cart_rule(state: PrestaShopState, spec: dict[str, Any]) -> CartRule:
    """{name, percent} | {name, amount, tax_included} | {name, value, value_tax_excl};
    each may add free_shipping."""
    kinds = [k for k in ("percent", "amount", "value") if k in spec]
    if len(kinds) != 1:
        raise ValueError("a cart rule needs exactly one of percent, amount or value")
    rule_id = state.next_id("order_cart_rule")
    return CartRule(
        id=rule_id,
        id_cart_rule=int(spec.get("id_cart_rule", rule_id)),
        name=str(spec.get("name", "Korting")),
        percent=_dec(spec["percent"]) if "percent" in spec else None,
        amount=_dec(spec["amount"]) if "amount" in spec else None,
        tax_included=bool(spec.get("tax_included", True)),
        free_shipping=bool(spec.get("free_shipping", False)),
        value=_dec(spec["value"]) if "value" in spec else None,
        value_tax_excl=_dec(spec.get("value_tax_excl"), str(spec.get("value", "0")))
        if "value" in spec
        else None,
    )


def _apply_shipping(state: PrestaShopState, order: Order, spec: dict[str, Any]) -> None:
    carrier = state.carrier_for(spec.get("carrier"))
    rate = _dec(spec.get("tax_rate"), str(carrier.tax_rate))
    order.id_carrier, order.carrier_tax_rate = carrier.id, rate
    if "price_tax_incl" in spec:
        order.shipping_tax_excl = excl_from_incl(_dec(spec["price_tax_incl"]), rate)
    else:
        order.shipping_tax_excl = q6(_dec(spec.get("price_tax_excl")))


def _apply_wrapping(order: Order, spec: dict[str, Any] | None) -> None:
    if not spec:
        order.gift, order.wrapping_tax_excl, order.gift_message = False, ZERO, ""
        return
    rate = _dec(spec.get("tax_rate"), "21")
    order.gift, order.wrapping_tax_rate = True, rate
    order.gift_message = str(spec.get("message", ""))
    if "price_tax_incl" in spec:
        order.wrapping_tax_excl = excl_from_incl(_dec(spec["price_tax_incl"]), rate)
    else:
        order.wrapping_tax_excl = q6(_dec(spec.get("price_tax_excl"), "2"))


DEFAULT_SHIPPING = {"carrier": 2, "price_tax_incl": "6.95"}
DEFAULT_ROWS = [{"name": "Artikel", "price_tax_incl": "12.10", "tax_rate": "21"}]


def create_order(state: PrestaShopState, spec: dict[str, Any]) -> Order:
    """A completed checkout (`validateOrder`): customer, addresses, rows, cart rules,
    shipping, wrapping, currency and the first state (one order_history)."""
    sibling = state.order(int(spec["sibling_of"])) if "sibling_of" in spec else None
    if sibling:
        customer = state.customers[sibling.id_customer]
        invoice = state.addresses[sibling.id_address_invoice]
        delivery = state.addresses[sibling.id_address_delivery]
    else:
        customer = _customer(state, dict(spec.get("customer") or {}))
        invoice = _address(state, customer, dict(spec.get("invoice_address") or {}))
        delivery_spec = spec.get("delivery_address")
        delivery = _address(state, customer, dict(delivery_spec)) if delivery_spec else invoice
    currency = state.currency_for(spec.get("currency"))
    now = state.now()
    created = _moment(spec.get("date_add")) or now
    state_id = int(spec.get("state", 2))
    state.order_state(state_id)
    awaiting_wire = state_id == 10
    order = Order(
        id=state.next_id("order"),
        reference=sibling.reference
        if sibling
        else str(spec.get("reference") or state.random_reference()),
        id_customer=customer.id,
        id_address_invoice=invoice.id,
        id_address_delivery=delivery.id,
        id_currency=currency.id,
        conversion_rate=currency.conversion_rate,
        id_carrier=2,
        id_cart=sibling.id_cart if sibling else state.next_id("cart", 100),
        id_lang=int(spec.get("id_lang", customer.id_lang)),
        current_state=state_id,
        module=str(spec.get("module", "ps_wirepayment" if awaiting_wire else "mollie")),
        payment=str(spec.get("payment", "Bankoverschrijving" if awaiting_wire else "iDEAL")),
        lines=[make_line(state, row) for row in spec.get("rows") or DEFAULT_ROWS],
        cart_rules=[_cart_rule(state, rule) for rule in spec.get("cart_rules") or []],
        shipping_tax_excl=ZERO,
        carrier_tax_rate=ZERO,
        wrapping_tax_excl=ZERO,
        wrapping_tax_rate=Decimal(21),
        round_type=int(spec.get("round_type", state.config.round_type)),
        date_add=created,
        date_upd=created,
        secure_key=customer.secure_key,
        recyclable=bool(spec.get("recyclable", False)),
        note=str(spec.get("note", "")),
    )
    if order.round_type not in (1, 2, 3):
        raise ValueError("round_type must be 1 (item), 2 (line) or 3 (total)")
    _apply_shipping(state, order, dict(spec.get("shipping") or DEFAULT_SHIPPING))
    _apply_wrapping(order, spec.get("wrapping"))
    state.orders[order.id] = order
    _enter_state(state, order, state_id, created, employee=0)
    order.date_upd = created
    return order


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")


def _enter_state(
    state: PrestaShopState, order: Order, state_id: int, moment: datetime, employee: int
) -> History:
    """One order_history row and its side effects: `valid` follows `logable`, a paid
    state records the payment (keyed by reference), an invoice state numbers the
    invoice once, a delivery state numbers the delivery slip once."""
    new = state.order_state(state_id)
    history = History(state.next_id("order_history"), order.id, state_id, moment, employee)
    state.histories[history.id] = history
    order.current_state, order.valid, order.date_upd = state_id, new.logable, moment
    if new.paid and not state.is_paid(order.reference):
        siblings = [o for o in state.orders.values() if o.reference == order.reference]
        amount = sum((order_amounts(o).totals.paid_incl for o in siblings), ZERO)
        payment = Payment(
            state.next_id("order_payment"),
            order.reference,
            order.id_currency,
            amount,
            order.payment,
            order.conversion_rate,
            moment,
            transaction_id=f"tr_{order.reference.lower()}",
        )
        state.add_payment(payment)
    if new.invoice and state.invoice_of(order.id) is None:
        number = state.next_id("invoice_number")
        state.add_invoice(Invoice(state.next_id("order_invoice"), order.id, number, moment))
    if new.delivery and not order.delivery_number:
        order.delivery_number, order.delivery_date = state.next_id("delivery_number"), moment
    return history


def set_state(state: PrestaShopState, order_id: int, state_id: int, employee: int = 1) -> History:
    order = state.order(order_id)
    return _enter_state(state, order, state_id, state.now(), employee)


def cancel(state: PrestaShopState, order_id: int) -> History:
    return set_state(state, order_id, 6)


def edit_order(state: PrestaShopState, order_id: int, spec: dict[str, Any]) -> Order:
    """Edit in place, as the back office does (same order id and reference):
    `rows` replaces the lines (a row with an `id` updates that order_detail, rows
    without one are added, lines not listed are deleted); `quantities` maps
    order_detail ids to new quantities (0 deletes); `cart_rules`, `shipping` and
    `wrapping` replace theirs. Moves `date_upd`."""
    order = state.order(order_id)
    if "rows" in spec:
        existing = {line.id: line for line in order.lines}
        lines = []
        for row in spec["rows"]:
            if "id" in row and int(row["id"]) not in existing:
                raise NotFound(f"order_detail {row['id']} is not a line of order {order_id}")
            if "id" in row:
                old = existing[int(row["id"])]
                merged = {**_row_spec(old), **row}
                lines.append(make_line(state, merged, line_id=old.id))
            else:
                lines.append(make_line(state, row))
        order.lines = lines
    for detail_id, quantity in (spec.get("quantities") or {}).items():
        line = next((x for x in order.lines if x.id == int(detail_id)), None)
        if line is None:
            raise NotFound(f"order_detail {detail_id} is not a line of order {order_id}")
        if int(quantity) <= 0:
            order.lines.remove(line)
        else:
            line.quantity = int(quantity)
    if not order.lines:
        raise ValueError("an order keeps at least one line")
    if "cart_rules" in spec:
        order.cart_rules = [_cart_rule(state, rule) for rule in spec["cart_rules"] or []]
    if "shipping" in spec:
        _apply_shipping(state, order, dict(spec["shipping"] or {"carrier": 1}))
    if "wrapping" in spec:
        _apply_wrapping(order, spec["wrapping"])
    order.date_upd = state.now()
    return order


def _row_spec(line: Line) -> dict[str, Any]:
    return {
        "name": line.name,
        "reference": line.reference,
        "quantity": line.quantity,
        "price_tax_excl": line.original_price
        if line.original_price is not None
        else line.unit_price_tax_excl,
        "reduction_percent": line.reduction_percent,
        "tax_rate": line.tax_rate,
        "product_id": line.product_id,
        "ean13": line.ean13,
        "isbn": line.isbn,
        "upc": line.upc,
        "mpn": line.mpn,
        "weight": line.weight,
    }

"""PrestaShop's objects as typed records: what the mapping reads, parsed from the
webservice's JSON (1.7 strings or 8.x numbers alike, §4). Parsing raises MappingError
naming the object and field; the mapping itself never sees JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .webservice import Json, MappingError, decimal, flag, integer, text, translations


@dataclass(frozen=True)
class OrderRow:
    """`orders.associations.order_rows[]`: the line's id (= order_detail id) and quantity."""

    id: int
    quantity: int


@dataclass(frozen=True)
class Order:
    id: int
    reference: str
    current_state: int
    id_customer: int
    id_address_invoice: int
    id_address_delivery: int
    id_currency: int
    id_carrier: int
    date_add: str
    date_upd: str
    payment: str | None
    total_paid_tax_incl: Decimal
    total_paid_tax_excl: Decimal
    total_products: Decimal  # excl. VAT, before cart rules
    total_products_wt: Decimal  # incl. VAT
    total_discounts_tax_incl: Decimal
    total_discounts_tax_excl: Decimal
    total_shipping_tax_incl: Decimal
    total_shipping_tax_excl: Decimal
    carrier_tax_rate: Decimal
    total_wrapping_tax_incl: Decimal
    total_wrapping_tax_excl: Decimal
    conversion_rate: Decimal
    rows: tuple[OrderRow, ...]


def order(data: Json) -> Order:
    where = f"order {data.get('id')}"

    def amount(name: str) -> Decimal:
        return decimal(data.get(name), f"{where}: {name}")

    def number(name: str) -> int:
        return integer(data.get(name), f"{where}: {name}")

    rows = (data.get("associations") or {}).get("order_rows") or []
    return Order(
        id=number("id"),
        reference=text(data.get("reference")) or "",
        current_state=number("current_state"),
        id_customer=number("id_customer"),
        id_address_invoice=number("id_address_invoice"),
        id_address_delivery=number("id_address_delivery"),
        id_currency=number("id_currency"),
        id_carrier=number("id_carrier"),
        date_add=text(data.get("date_add")) or "",
        date_upd=text(data.get("date_upd")) or "",
        payment=text(data.get("payment")),
        total_paid_tax_incl=amount("total_paid_tax_incl"),
        total_paid_tax_excl=amount("total_paid_tax_excl"),
        total_products=amount("total_products"),
        total_products_wt=amount("total_products_wt"),
        total_discounts_tax_incl=amount("total_discounts_tax_incl"),
        total_discounts_tax_excl=amount("total_discounts_tax_excl"),
        total_shipping_tax_incl=amount("total_shipping_tax_incl"),
        total_shipping_tax_excl=amount("total_shipping_tax_excl"),
        carrier_tax_rate=amount("carrier_tax_rate"),
        total_wrapping_tax_incl=amount("total_wrapping_tax_incl"),
        total_wrapping_tax_excl=amount("total_wrapping_tax_excl"),
        conversion_rate=amount("conversion_rate"),
        rows=tuple(
            OrderRow(
                integer(row.get("id"), f"{where}: order_rows id"),
                integer(row.get("product_quantity"), f"{where}: order_rows product_quantity"),
            )
            for row in rows
        ),
    )


@dataclass(frozen=True)
class Detail:
    """`order_details`: one invoiced line, its totals after catalogue reductions (before
    cart rules), and the ids of its taxes (the rate itself is hidden, §8)."""

    id: int
    name: str
    reference: str | None
    ean13: str | None
    quantity: int
    unit_price_tax_incl: Decimal
    unit_price_tax_excl: Decimal
    total_price_tax_incl: Decimal
    total_price_tax_excl: Decimal
    tax_ids: tuple[int, ...]


def detail(data: Json) -> Detail:
    where = f"order_detail {data.get('id')}"
    taxes = (data.get("associations") or {}).get("taxes") or []
    return Detail(
        id=integer(data.get("id"), f"{where}: id"),
        name=text(data.get("product_name")) or text(data.get("product_reference")) or "Artikel",
        reference=text(data.get("product_reference")),
        ean13=text(data.get("product_ean13")),
        quantity=integer(data.get("product_quantity"), f"{where}: product_quantity"),
        unit_price_tax_incl=decimal(data.get("unit_price_tax_incl"), f"{where}: unit price incl"),
        unit_price_tax_excl=decimal(data.get("unit_price_tax_excl"), f"{where}: unit price excl"),
        total_price_tax_incl=decimal(data.get("total_price_tax_incl"), f"{where}: total incl"),
        total_price_tax_excl=decimal(data.get("total_price_tax_excl"), f"{where}: total excl"),
        tax_ids=tuple(integer(t.get("id"), f"{where}: tax id") for t in taxes),
    )


@dataclass(frozen=True)
class CartRule:
    """`order_cart_rules`: a voucher as the order recorded it (`value` incl. VAT)."""

    name: str
    value: Decimal
    value_tax_excl: Decimal
    free_shipping: bool


def cart_rule(data: Json) -> CartRule | None:
    """None for a rule removed from the order (8.x `deleted`)."""
    if flag(data.get("deleted")):
        return None
    where = f"order_cart_rule {data.get('id')}"
    return CartRule(
        name=text(data.get("name")) or "Korting",
        value=decimal(data.get("value"), f"{where}: value"),
        value_tax_excl=decimal(data.get("value_tax_excl"), f"{where}: value_tax_excl"),
        free_shipping=flag(data.get("free_shipping")),
    )


@dataclass(frozen=True)
class SlipLine:
    id_order_detail: int
    quantity: int
    amount_tax_excl: Decimal
    amount_tax_incl: Decimal


@dataclass(frozen=True)
class Slip:
    """`order_slip`: a credit slip (a refund) and the lines it refunds."""

    id: int
    products_tax_excl: Decimal
    products_tax_incl: Decimal
    shipping_tax_excl: Decimal
    shipping_tax_incl: Decimal
    lines: tuple[SlipLine, ...]


def slip(data: Json) -> Slip:
    where = f"order_slip {data.get('id')}"
    details = (data.get("associations") or {}).get("order_slip_details") or []
    return Slip(
        id=integer(data.get("id"), f"{where}: id"),
        products_tax_excl=decimal(data.get("total_products_tax_excl"), f"{where}: products excl"),
        products_tax_incl=decimal(data.get("total_products_tax_incl"), f"{where}: products incl"),
        shipping_tax_excl=decimal(data.get("total_shipping_tax_excl"), f"{where}: shipping excl"),
        shipping_tax_incl=decimal(data.get("total_shipping_tax_incl"), f"{where}: shipping incl"),
        lines=tuple(
            SlipLine(
                integer(line.get("id_order_detail"), f"{where}: id_order_detail"),
                integer(line.get("product_quantity"), f"{where}: product_quantity"),
                decimal(line.get("amount_tax_excl"), f"{where}: amount_tax_excl"),
                decimal(line.get("amount_tax_incl"), f"{where}: amount_tax_incl"),
            )
            for line in details
        ),
    )


@dataclass(frozen=True)
class State:
    """`order_states`: flags decide, not ids (§10); names per language id."""

    id: int
    names: dict[str, str]
    paid: bool
    shipped: bool
    delivery: bool
    templates: frozenset[str]

    def name(self, language_id: str | None = None) -> str:
        if language_id is not None and self.names.get(language_id):
            return self.names[language_id]
        return next((n for n in self.names.values() if n), f"Status {self.id}")


def state(data: Json) -> State:
    return State(
        id=integer(data.get("id"), "order_state id"),
        names=translations(data.get("name")),
        paid=flag(data.get("paid")),
        shipped=flag(data.get("shipped")),
        delivery=flag(data.get("delivery")),
        templates=frozenset(v for v in translations(data.get("template")).values() if v),
    )


@dataclass(frozen=True)
class Customer:
    email: str | None
    firstname: str | None
    lastname: str | None
    company: str | None


def customer(data: Json) -> Customer:
    return Customer(
        email=text(data.get("email")),
        firstname=text(data.get("firstname")),
        lastname=text(data.get("lastname")),
        company=text(data.get("company")),
    )


@dataclass(frozen=True)
class Address:
    id: int
    id_country: int
    company: str | None
    firstname: str | None
    lastname: str | None
    vat_number: str | None
    address1: str | None
    address2: str | None
    postcode: str | None
    city: str | None
    phone: str | None


def address(data: Json) -> Address:
    where = f"address {data.get('id')}"
    return Address(
        id=integer(data.get("id"), f"{where}: id"),
        id_country=integer(data.get("id_country"), f"{where}: id_country"),
        company=text(data.get("company")),
        firstname=text(data.get("firstname")),
        lastname=text(data.get("lastname")),
        vat_number=text(data.get("vat_number")),
        address1=text(data.get("address1")),
        address2=text(data.get("address2")),
        postcode=text(data.get("postcode")),
        city=text(data.get("city")),
        phone=text(data.get("phone")) or text(data.get("phone_mobile")),
    )


def tax_rate(data: Json) -> Decimal:
    return decimal(data.get("rate"), f"tax {data.get('id')}: rate")


def iso_code(data: Json, what: str) -> str:
    code = text(data.get("iso_code"))
    if not code:
        raise MappingError(f"{what} {data.get('id')} has no iso_code")
    return code.upper()


def required(found: Json | None, what: str) -> Json:
    if found is None:
        raise MappingError(f"{what} does not exist in the shop")
    return found

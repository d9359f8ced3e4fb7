"""What the sandbox shop stores: PrestaShop's entities as plain dataclasses.

Orders keep their inputs (lines with unit prices excl. VAT, cart rules, the
shipping and wrapping charges, the rounding type at order time); every amount
the API shows is derived from them (`records.py`), so created, edited and
refunded orders always add up — unless a test malforms one on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from .pricing import ZERO

I18n = dict[int, str]


@dataclass
class Language:
    id: int
    iso_code: str
    name: str
    locale: str
    active: bool = True


@dataclass
class OrderState:
    id: int
    name: I18n
    paid: bool = False
    logable: bool = False
    invoice: bool = False
    shipped: bool = False
    delivery: bool = False
    module_name: str = ""
    template: I18n = field(default_factory=dict)
    color: str = "#34209E"
    send_email: bool = False
    hidden: bool = False
    unremovable: bool = True
    pdf_invoice: bool = False
    pdf_delivery: bool = False
    deleted: bool = False


@dataclass
class Country:
    id: int
    iso_code: str
    name: I18n
    call_prefix: int
    id_zone: int = 1
    need_zip_code: bool = True
    zip_code_format: str = ""


@dataclass
class Currency:
    id: int
    iso_code: str
    name: str
    symbol: str
    numeric_iso_code: str
    conversion_rate: Decimal = Decimal(1)
    precision: int = 2


@dataclass
class Tax:
    id: int
    rate: Decimal
    name: I18n
    tax_rules_group: int


@dataclass
class Carrier:
    id: int
    name: str
    tax_rate: Decimal
    id_tax_rules_group: int
    delay: I18n
    url: str = ""


@dataclass
class Customer:
    id: int
    email: str
    firstname: str
    lastname: str
    company: str
    is_guest: bool
    secure_key: str
    date_add: datetime
    id_lang: int = 1
    siret: str = ""
    ape: str = ""
    newsletter: bool = False
    id_gender: int = 0
    birthday: str = "0000-00-00"


@dataclass
class Address:
    id: int
    id_customer: int
    id_country: int
    alias: str
    firstname: str
    lastname: str
    address1: str
    postcode: str
    city: str
    date_add: datetime
    company: str = ""
    vat_number: str = ""
    address2: str = ""
    phone: str = ""
    phone_mobile: str = ""
    dni: str = ""
    other: str = ""
    deleted: bool = False


@dataclass
class Line:
    """One order_detail: the price is excl. VAT with 6 decimals, after any catalogue reduction."""

    id: int
    product_id: int
    name: str
    reference: str
    quantity: int
    unit_price_tax_excl: Decimal
    tax_rate: Decimal
    tax_id: int | None
    tax_rules_group: int
    product_attribute_id: int = 0
    ean13: str = ""
    isbn: str = ""
    upc: str = ""
    mpn: str = ""
    supplier_reference: str = ""
    weight: Decimal = ZERO
    original_price: Decimal | None = None
    reduction_percent: Decimal = ZERO
    quantity_refunded: int = 0
    quantity_returned: int = 0
    refunded_tax_excl: Decimal = ZERO
    refunded_tax_incl: Decimal = ZERO


@dataclass
class CartRule:
    """A voucher on the order: a percentage, an amount (incl. or excl. VAT) or fixed values."""

    id: int
    id_cart_rule: int
    name: str
    percent: Decimal | None = None
    amount: Decimal | None = None
    tax_included: bool = True
    free_shipping: bool = False
    value: Decimal | None = None
    value_tax_excl: Decimal | None = None


@dataclass
class History:
    id: int
    id_order: int
    id_order_state: int
    date_add: datetime
    id_employee: int = 0


@dataclass
class Payment:
    id: int
    order_reference: str
    id_currency: int
    amount: Decimal
    payment_method: str
    conversion_rate: Decimal
    date_add: datetime
    transaction_id: str = ""


@dataclass
class Invoice:
    id: int
    id_order: int
    number: int
    date_add: datetime
    delivery_number: int = 0
    delivery_date: datetime | None = None


@dataclass
class SlipLine:
    id_order_detail: int
    quantity: int
    amount_tax_excl: Decimal
    amount_tax_incl: Decimal


@dataclass
class Slip:
    id: int
    id_order: int
    id_customer: int
    conversion_rate: Decimal
    products_tax_excl: Decimal
    products_tax_incl: Decimal
    shipping_tax_excl: Decimal
    shipping_tax_incl: Decimal
    partial: bool
    lines: list[SlipLine]
    date_add: datetime


@dataclass
class Order:
    id: int
    reference: str
    id_customer: int
    id_address_invoice: int
    id_address_delivery: int
    id_currency: int
    conversion_rate: Decimal
    id_carrier: int
    id_cart: int
    id_lang: int
    current_state: int
    module: str
    payment: str
    lines: list[Line]
    cart_rules: list[CartRule]
    shipping_tax_excl: Decimal
    carrier_tax_rate: Decimal
    wrapping_tax_excl: Decimal
    wrapping_tax_rate: Decimal
    round_type: int
    date_add: datetime
    date_upd: datetime
    secure_key: str
    valid: bool = False
    gift: bool = False
    gift_message: str = ""
    recyclable: bool = False
    note: str = ""
    round_mode: int = 2
    tracking_number: str = ""
    delivery_number: int = 0
    delivery_date: datetime | None = None
    id_employee: int = 0
    # Raw rendered-field overrides, to serve a malformed order on purpose:
    # {"order": {field: value}, "order_details": {detail_id: {field: value}}}.
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class ApiKey:
    """A webservice account: the 32-character key and its methods per resource."""

    key: str
    permissions: dict[str, set[str]]
    active: bool = True
    description: str = ""

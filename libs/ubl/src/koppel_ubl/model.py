"""Typed input records for one UBL 2.1 Invoice or CreditNote (EN 16931 / NLCIUS).

Money is `Decimal` only: a float anywhere in a record is refused at construction, because
a binary float has already lost the cents the shop charged. Amounts written as UBL amounts
must have at most two decimals (EN 16931 BR-DEC-*); the records refuse more instead of
rounding silently, since only the caller knows which rounding the shop used. Unit prices
and quantities may carry more decimals (UBL has no limit on them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

CENT = Decimal("0.01")


class DocumentKind(StrEnum):
    INVOICE = "invoice"  # UBL Invoice, InvoiceTypeCode 380
    CREDIT_NOTE = "credit_note"  # UBL CreditNote, CreditNoteTypeCode 381


class Specification(StrEnum):
    """The `cbc:CustomizationID` a document claims, which decides the rules it must meet."""

    # Dutch CIUS (SI-UBL 2.0): EN 16931 plus the BR-NL rules. Note BR-NL-10: a customer in
    # the Netherlands must have a KvK/OIN legal entity id, so NLCIUS is for business buyers.
    NLCIUS = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"
    # Plain EN 16931 core; what a document for a Dutch consumer can claim.
    EN16931 = "urn:cen.eu:en16931:2017"


# Peppol BIS Billing 3.0 process id; NLCIUS documents use the same one.
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


class VatCategory(StrEnum):
    """UNCL5305 VAT category codes used by Koppel (see vat-nl-eu.md §8)."""

    STANDARD = "S"  # NL 21/9 %, and OSS with the destination country's rate
    ZERO_RATED = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"  # intra-Community supply of goods (ICP), 0 %
    EXPORT = "G"  # export outside the EU, 0 %

    @property
    def requires_zero_rate(self) -> bool:
        """Categories whose rate and VAT must be 0 (EN 16931 BR-Z/E/AE/IC/G-05..09)."""
        return self is not VatCategory.STANDARD


def require_decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal, got {type(value).__name__} {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return result


def require_amount(value: object, what: str) -> Decimal:
    """An amount as UBL writes it: Decimal with at most two decimals."""
    amount = require_decimal(value, what)
    if amount != amount.quantize(CENT):
        raise ValueError(f"{what} {amount} has more than two decimals (EN 16931 BR-DEC rules)")
    return amount.quantize(CENT)


def normalise_rate(rate: Decimal) -> Decimal:
    """21, 21.0 and 21.00 are one rate; write the shortest form ('21', '5.5')."""
    normal = rate.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def _text(value: str | None, what: str, *, required: bool) -> None:
    if value is None:
        if required:
            raise ValueError(f"{what} is required")
        return
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")


@dataclass(frozen=True)
class Vat:
    """A VAT category with its rate in percent; the key of a VAT breakdown (BG-23)."""

    category: VatCategory
    rate: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "category", VatCategory(self.category))
        rate = require_decimal(self.rate, "VAT rate")
        if rate < 0 or rate >= 100:
            raise ValueError(f"VAT rate {rate} is not a percentage in [0, 100)")
        object.__setattr__(self, "rate", normalise_rate(rate))

    def __str__(self) -> str:
        return f"{self.category.value} {self.rate}%"


@dataclass(frozen=True)
class Address:
    street: str  # street and house number, one line (UBL StreetName)
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2
    additional_street: str | None = None

    def __post_init__(self) -> None:
        for name in ("street", "city", "postal_code"):
            _text(getattr(self, name), f"address {name}", required=True)
        _text(self.additional_street, "address additional_street", required=False)
        if not (len(self.country) == 2 and self.country.isascii() and self.country.isupper()):
            raise ValueError(f"country {self.country!r} is not an ISO 3166-1 alpha-2 code")


@dataclass(frozen=True)
class Seller:
    name: str
    address: Address
    vat_number: str | None  # e.g. NL123456789B01; EN 16931 needs it for every VAT category
    kvk_number: str | None  # Chamber of Commerce; NLCIUS BR-NL-1 needs it (scheme 0106)
    iban: str | None = None
    email: str | None = None
    legal_name: str | None = None  # registered name when it differs from the trading name

    def __post_init__(self) -> None:
        _text(self.name, "seller name", required=True)
        for name in ("vat_number", "kvk_number", "iban", "email", "legal_name"):
            _text(getattr(self, name), f"seller {name}", required=False)


@dataclass(frozen=True)
class Buyer:
    name: str  # the person; the buyer's legal name (BT-44) is `company` when given
    address: Address
    company: str | None = None
    email: str | None = None
    vat_number: str | None = None  # mandatory for ICP (K), EN 16931 BR-IC-02
    kvk_number: str | None = None  # NLCIUS BR-NL-10 wants it for buyers in the Netherlands

    def __post_init__(self) -> None:
        _text(self.name, "buyer name", required=True)
        for name in ("company", "email", "vat_number", "kvk_number"):
            _text(getattr(self, name), f"buyer {name}", required=False)

    @property
    def legal_name(self) -> str:
        return self.company or self.name


@dataclass(frozen=True)
class Line:
    id: str
    name: str
    quantity: Decimal
    unit_price: Decimal  # net price per unit, excl. VAT
    net_amount: Decimal  # the line's amount excl. VAT as the shop charged it (BT-131)
    vat: Vat
    description: str | None = None
    seller_item_id: str | None = None  # the shop's SKU / article number
    ean: str | None = None  # GTIN, written as StandardItemIdentification scheme 0160
    unit_code: str = "C62"  # UN/ECE rec. 20: C62 = one (piece)

    def __post_init__(self) -> None:
        _text(self.id, "line id", required=True)
        _text(self.name, f"line {self.id} name", required=True)
        object.__setattr__(self, "quantity", require_decimal(self.quantity, "quantity"))
        price = require_decimal(self.unit_price, f"line {self.id} unit price")
        object.__setattr__(self, "unit_price", price)
        amount = require_amount(self.net_amount, f"line {self.id} net amount")
        object.__setattr__(self, "net_amount", amount)


@dataclass(frozen=True)
class Allowance:
    """A document-level discount (BG-20), e.g. a coupon; reduces the taxable amount of `vat`."""

    amount: Decimal
    vat: Vat
    reason: str
    reason_code: str | None = None  # UNCL5189; NLCIUS advises against it (BR-NL-32, warning)

    def __post_init__(self) -> None:
        _text(self.reason, "allowance reason", required=True)
        object.__setattr__(self, "amount", require_amount(self.amount, "allowance amount"))


@dataclass(frozen=True)
class Charge:
    """A document-level charge (BG-21): shipping, payment costs."""

    amount: Decimal
    vat: Vat
    reason: str
    reason_code: str | None = None  # UNCL7161 (FC = freight); NLCIUS BR-NL-34 warns on it

    def __post_init__(self) -> None:
        _text(self.reason, "charge reason", required=True)
        object.__setattr__(self, "amount", require_amount(self.amount, "charge amount"))


@dataclass(frozen=True)
class VatSubtotal:
    """The caller's VAT for one (category, rate): the shop's figure, written as given.

    The taxable amount is not an input: it follows from the lines, allowances and charges
    of that (category, rate) and the writer computes it.
    """

    vat: Vat
    tax_amount: Decimal
    exemption_reason: str | None = None  # BT-120, e.g. "Intracommunautaire levering"
    exemption_reason_code: str | None = None  # BT-121 VATEX; NLCIUS BR-NL-35 warns on it

    def __post_init__(self) -> None:
        amount = require_amount(self.tax_amount, f"VAT amount for {self.vat}")
        object.__setattr__(self, "tax_amount", amount)


@dataclass(frozen=True)
class PaymentMeans:
    code: str = "58"  # UNCL4461; NLCIUS allows 30, 48, 49, 57, 58, 59 (BR-NL-12)
    iban: str | None = None  # the seller's IBAN is used when not given
    payment_id: str | None = None  # remittance information, e.g. the invoice number


@dataclass(frozen=True)
class Delivery:
    """Deliver-to information (BG-13/BG-15): ICP needs date and country (BR-IC-11/12)."""

    date: date | None = None
    address: Address | None = None


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    number: str
    issue_date: date
    seller: Seller
    buyer: Buyer
    lines: tuple[Line, ...]
    vat_subtotals: tuple[VatSubtotal, ...]
    order_reference: str | None = None  # the shop's order number (BT-13)
    buyer_reference: str | None = None  # BT-10
    due_date: date | None = None
    payment_terms: str | None = None
    currency: str = "EUR"
    allowances: tuple[Allowance, ...] = ()
    charges: tuple[Charge, ...] = ()
    payment_means: PaymentMeans | None = None
    notes: tuple[str, ...] = ()
    delivery: Delivery | None = None
    prepaid_amount: Decimal = Decimal("0.00")  # paid webshop order: the total
    invoice_reference: str | None = None  # credit note: the invoice it corrects (BT-25)
    specification: Specification = Specification.NLCIUS

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", DocumentKind(self.kind))
        _text(self.number, "document number", required=True)
        for name in ("lines", "vat_subtotals", "allowances", "charges", "notes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.lines:
            raise ValueError("a document needs at least one line (EN 16931 BR-16)")
        if len({line.id for line in self.lines}) != len(self.lines):
            raise ValueError("line ids must be unique within a document")
        prepaid = require_amount(self.prepaid_amount, "prepaid amount")
        object.__setattr__(self, "prepaid_amount", prepaid)
        if not (len(self.currency) == 3 and self.currency.isupper()):
            raise ValueError(f"currency {self.currency!r} is not an ISO 4217 code")
        if self.kind is DocumentKind.CREDIT_NOTE and not self.invoice_reference:
            # Koppel policy (and Peppol NL-R-001): a credit note always says what it corrects.
            raise ValueError("a credit note must name the invoice it corrects (invoice_reference)")

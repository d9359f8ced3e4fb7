"""A connection: one merchant's koppeling (shop account + ledger account + mapping).

Published whole on the compacted `config.connections.v1` topic; latest wins.
Credentials only ever travel encrypted: the model refuses anything that is not
an `enc:v1:` ciphertext, so a plaintext password cannot reach Kafka by mistake.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Field, HttpUrl, field_validator, model_validator

from .envelope import ContractModel, Envelope, SourceSystem, make_event_id, utcnow
from .money import Money, VatRate

ENCRYPTED_PREFIX = "enc:v1:"

EncryptedSecret = Annotated[
    str,
    Field(
        pattern=r"^enc:v1:[A-Za-z0-9_\-=]+$",
        description="A secret encrypted with the platform key (see koppel_chassis.secrets)",
    ),
]


class Language(StrEnum):
    NL = "nl"
    EN = "en"


class ShopSystem(StrEnum):
    CCVSHOP = "ccvshop"
    PRESTASHOP = "prestashop"
    BOL = "bol"


class LedgerSystem(StrEnum):
    OCTOPUS = "octopus"
    SNELSTART = "snelstart"
    ASPERION = "asperion"


class VatTreatment(StrEnum):
    DOMESTIC = "domestic"
    OSS = "oss"
    ICP = "icp"
    EXPORT = "export"


class BookingMode(StrEnum):
    """How Octopus books an order: a concept invoice (invoicing module), a booked sales
    document (buy/sell booking, with the VAT stated per line) or a financial mutation."""

    INVOICE = "invoice"
    FINANCIAL = "financial"
    SALES = "sales"


class ChargeVat(StrEnum):
    """How shipping and payment costs are booked when the shop gave them a VAT rate."""

    AS_CHARGED = "as_charged"
    RESPLIT = "resplit"


class OssVat(StrEnum):
    """Which VAT an EU consumer abroad pays (vat-nl-eu.md §3)."""

    DESTINATION = "destination"
    SHOP_COUNTRY = "shop_country"


class ConsumerDebtor(StrEnum):
    """Which debtor a consumer's order (no company, no VAT number) is booked on.

    Business buyers always get their own debtor. `collective`: one debtor per connection
    for every consumer, the default for Bol.com, whose customer e-mail is an alias per order
    (matching by it would make a debtor per order); `own`: a debtor per customer.
    """

    OWN = "own"
    COLLECTIVE = "collective"


class SnelStartMode(StrEnum):
    BOOKING = "booking"
    ORDER = "order"


class Merchant(ContractModel):
    name: str
    contact_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    language: Language = Language.NL


class SellerParty(ContractModel):
    """The merchant as seller on the invoices Koppel writes (UBL)."""

    name: str
    street: str
    postal_code: str
    city: str
    country_code: str = Field(default="NL", pattern=r"^[A-Z]{2}$")
    vat_number: str | None = None
    kvk_number: str | None = Field(default=None, description="Chamber of Commerce number")
    iban: str | None = None
    email: str | None = None


class ShopOptions(ContractModel):
    """What the shop side needs to know: when an order is bookable."""

    trigger_statuses: list[str] = Field(
        default_factory=lambda: ["paid"],
        description="Shop states that make an order bookable; 'paid' means the paid flag",
    )
    default_vat_rate: VatRate = Field(
        default=Decimal("21"),
        description="For shops that give no VAT rate per line (Bol.com) and products in none "
        "of the tables below; a booking that used it says so",
    )
    vat_by_ean: dict[str, VatRate] = Field(
        default_factory=dict, description="Shops without VAT (Bol.com): EAN -> VAT rate"
    )
    vat_by_offer_reference: dict[str, VatRate] = Field(
        default_factory=dict,
        description="Shops without VAT (Bol.com): the seller's offer reference -> VAT rate; "
        "wins over the EAN",
    )
    answer_invoice_requests: bool = Field(
        default=False,
        description="Bol.com: answer a business buyer's invoice request by uploading the "
        "invoice of the booking, once per request",
    )
    seller: SellerParty | None = Field(
        default=None,
        description="The merchant as seller on invoices the shop side writes (Bol.com's "
        "invoice answers); None: ledger.asperion.seller where there is one",
    )

    @field_validator("trigger_statuses")
    @classmethod
    def _some_trigger(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one trigger status is needed, e.g. [paid]")
        return value


class ShopConnection(ContractModel):
    system: ShopSystem
    base_url: HttpUrl
    account_id: str | None = Field(default=None, description="Public key / client id / shop id")
    credentials: dict[str, EncryptedSecret] = Field(default_factory=dict)
    options: ShopOptions = Field(default_factory=ShopOptions)


class VatAccountMapping(ContractModel):
    vat_rate: VatRate
    treatment: VatTreatment = VatTreatment.DOMESTIC
    country_code: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="Only for OSS: the destination country"
    )
    ledger_account: str
    vat_code: str


class BookingOptions(ContractModel):
    """How every ledger books an order: ledger-neutral choices of the merchant."""

    vat_accounts: list[VatAccountMapping] = Field(default_factory=list)
    payment_method_debtors: dict[str, str] = Field(
        default_factory=dict, description="Payment method -> fixed debtor (e.g. bol.com)"
    )
    debtor_matching: bool = Field(
        default=True,
        description="Find the debtor by the customer's e-mail (off: one debtor per order, for "
        "merchants whose customers share an address)",
    )
    tolerance: Money = Field(
        default=Decimal("0.05"),
        ge=0,
        description="How far the booked total may differ from the order before the read-back "
        "check reports a mismatch",
    )
    charge_vat: ChargeVat = Field(
        default=ChargeVat.AS_CHARGED,
        description="as_charged: shipping and costs at the VAT the shop charged (the customer's "
        "invoice and the VAT return agree); resplit: over the goods' rates (vat-nl-eu.md §6), "
        "for merchants whose ledger invoice is the one the customer gets",
    )
    shipping_account: str | None = Field(
        default=None, description="A separate revenue account for shipping (None: per VAT rate)"
    )
    oss_vat: OssVat | None = Field(
        default=None,
        description="EU consumers abroad: destination-country VAT (OSS) or the shop country's; "
        "None: destination exactly when vat_accounts has OSS entries",
    )
    consumers: ConsumerDebtor = Field(
        default=ConsumerDebtor.OWN,
        description="own: a debtor per consumer; collective: one debtor per connection for "
        "all consumers (default for Bol.com). Business buyers always get their own.",
    )
    collective_debtor_name: str | None = Field(
        default=None,
        description="The collective debtor's name; None: 'Consumenten <shop>' (e.g. "
        "'Consumenten Bol.com')",
    )


class OctopusOptions(ContractModel):
    journal: str | None = Field(default=None, description="Default V1 (invoice), F1 (financial)")
    booking_mode: BookingMode = BookingMode.INVOICE


class SnelStartOptions(ContractModel):
    mode: SnelStartMode = Field(
        default=SnelStartMode.BOOKING,
        description="booking: a verkoopboeking on the mapped accounts; order: a concept "
        "verkooporder that a person turns into an invoice in SnelStart",
    )
    year_in_invoice_number: bool = Field(
        default=False, description="Order 10330 of 2023 becomes invoice number 202310330"
    )
    payment_term_days: int = Field(default=14, ge=0, le=365)
    order_articles: dict[str, str] = Field(
        default_factory=dict,
        description="order mode: SnelStart VAT kind (Hoog, Laag, Overig, Geen) -> the article code "
        "the order lines of that kind are written on (SnelStart takes the VAT from the article)",
    )


class SftpTarget(ContractModel):
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    username: str
    credentials: dict[str, EncryptedSecret] = Field(
        default_factory=dict, description="password and/or private_key, encrypted"
    )
    directory: str = "/"
    host_key: str | None = Field(
        default=None, description="The server's public host key (OpenSSH format); required"
    )


class AsperionOptions(ContractModel):
    """A daily delivery of UBL invoices that the merchant imports into Asperion."""

    seller: SellerParty | None = Field(
        default=None, description="Name, address, VAT and KvK numbers, IBAN on the invoices"
    )
    bookkeeping_email: str | None = Field(
        default=None, pattern=r"^[^@\s]+@[^@\s]+$", description="Where the delivery is mailed"
    )
    delivery_time: str = Field(
        default="06:00",
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="When the day's delivery is made, Europe/Amsterdam",
    )
    year_in_invoice_number: bool = False
    payment_term_days: int = Field(default=14, ge=0, le=365)
    sftp: SftpTarget | None = None


class LedgerConnection(ContractModel):
    system: LedgerSystem
    base_url: HttpUrl
    dossier_id: str | None = Field(default=None, description="Administration / dossier")
    credentials: dict[str, EncryptedSecret] = Field(default_factory=dict)
    booking: BookingOptions = Field(default_factory=BookingOptions)
    octopus: OctopusOptions | None = Field(default=None, description="Only for Octopus")
    snelstart: SnelStartOptions | None = Field(default=None, description="Only for SnelStart")
    asperion: AsperionOptions | None = Field(default=None, description="Only for Asperion")

    @model_validator(mode="after")
    def _options_of_its_own_system(self) -> Self:
        homes = {
            LedgerSystem.OCTOPUS: "octopus",
            LedgerSystem.SNELSTART: "snelstart",
            LedgerSystem.ASPERION: "asperion",
        }
        for system, name in homes.items():
            if system != self.system and getattr(self, name) is not None:
                raise ValueError(f"ledger.{name} options given for a {self.system.value} ledger")
        own = homes.get(self.system)
        if own is not None and getattr(self, own) is None:
            defaults = {
                "octopus": OctopusOptions,
                "snelstart": SnelStartOptions,
                "asperion": AsperionOptions,
            }[own]()
            object.__setattr__(self, own, defaults)  # frozen model: fill in the defaults once
        return self


class Mapping(ContractModel):
    """Schema version 1's `mapping` (shop triggers and Octopus fields mixed). Still read, so
    connections published before version 2 keep working; never written. Exported as
    `LegacyMapping`; the class keeps its old name only because the name is part of the
    committed JSON Schema."""

    trigger_statuses: list[str] = Field(default_factory=lambda: ["paid"])
    vat_accounts: list[VatAccountMapping] = Field(default_factory=list)
    payment_method_debtors: dict[str, str] = Field(default_factory=dict)
    journal: str | None = None
    booking_mode: BookingMode = BookingMode.INVOICE
    debtor_matching: bool = True
    default_vat_rate: VatRate = Decimal("21")
    tolerance: Money = Field(default=Decimal("0.05"), ge=0)


_LEGACY_SHOP = ("trigger_statuses", "default_vat_rate")
_LEGACY_BOOKING = ("vat_accounts", "payment_method_debtors", "debtor_matching", "tolerance")
_LEGACY_OCTOPUS = ("journal", "booking_mode")


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Move a version 1 `mapping` to the typed homes of version 2 (nothing lost)."""
    mapping = data.get("mapping")
    if mapping is None:
        return data
    if isinstance(mapping, BaseModel):
        mapping = mapping.model_dump(exclude_unset=True)
    data = {**data, "mapping": None}
    shop = _as_dict(data.get("shop"))
    ledger = _as_dict(data.get("ledger"))
    shop["options"] = {**_pick(mapping, _LEGACY_SHOP), **_as_dict(shop.get("options"))}
    ledger["booking"] = {**_pick(mapping, _LEGACY_BOOKING), **_as_dict(ledger.get("booking"))}
    if ledger.get("system") in (LedgerSystem.OCTOPUS, LedgerSystem.OCTOPUS.value):
        ledger["octopus"] = {**_pick(mapping, _LEGACY_OCTOPUS), **_as_dict(ledger.get("octopus"))}
    data["shop"], data["ledger"] = shop, ledger
    return data


def _as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_unset=True)
    return dict(value)


def _pick(source: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: source[name] for name in names if name in source}


class PrivacyOptions(ContractModel):
    """How long Koppel keeps the personal data of the connection's customers."""

    retention_years: int = Field(
        default=7,
        ge=1,
        le=30,
        description="Customers whose last order was placed in year Y are erased (their key "
        "deleted) on 1 January of Y + retention_years + 1: 7 is the Dutch fiscal retention "
        "period (art. 52 AWR), counted from the end of the year the order was booked in",
    )


class ConnectionSettings(ContractModel):
    merchant: Merchant
    shop: ShopConnection
    ledger: LedgerConnection
    mapping: Mapping | None = Field(
        default=None,
        description="Schema version 1 only: read and moved to shop.options, ledger.booking and "
        "ledger.<system>; always None after reading",
    )
    active: bool = True
    privacy: PrivacyOptions = Field(default_factory=PrivacyOptions)

    @model_validator(mode="before")
    @classmethod
    def _from_version_1(cls, data: Any) -> Any:
        return _upgrade_v1(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _defaults_of_the_shop(self) -> Self:
        # Bol.com gives a per-order e-mail alias and no invoice: unless the merchant chose
        # otherwise, consumers share one debtor and Octopus books a sales document.
        if self.shop.system != ShopSystem.BOL:
            return self
        booking = self.ledger.booking
        if "consumers" not in booking.model_fields_set:
            object.__setattr__(booking, "consumers", ConsumerDebtor.COLLECTIVE)
        octopus = self.ledger.octopus
        if octopus is not None and "booking_mode" not in octopus.model_fields_set:
            object.__setattr__(octopus, "booking_mode", BookingMode.SALES)
        return self

    @property
    def booking(self) -> BookingOptions:
        return self.ledger.booking


class ConnectionSettingsEvent(Envelope):
    """On `config.connections.v1` (compacted), keyed by connection id."""

    event_type: Literal["connection_settings"] = "connection_settings"
    schema_version: Literal[1, 2] = Field(
        default=2,
        description="2: typed options per system (shop.options, ledger.booking, "
        "ledger.<system>); 1: the old `mapping`, still read",
    )
    version: int = Field(ge=1, description="Increases with every change; latest wins")
    settings: ConnectionSettings

    @classmethod
    def of(
        cls, connection_id: str, settings: ConnectionSettings, version: int
    ) -> ConnectionSettingsEvent:
        """The event for one version of a connection's settings (id derived from both)."""
        return cls(
            event_id=make_event_id("connection", connection_id, str(version)),
            occurred_at=utcnow(),
            connection_id=connection_id,
            source_system=SourceSystem.KOPPEL,
            version=version,
            settings=settings,
        )

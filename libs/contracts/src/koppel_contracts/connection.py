"""A connection: one merchant's koppeling (shop account + ledger account + mapping).

Published whole on the compacted `config.connections.v1` topic; latest wins.
Credentials only ever travel encrypted: the model refuses anything that is not
an `enc:v1:` ciphertext, so a plaintext password cannot reach Kafka by mistake.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, field_validator

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
    INVOICE = "invoice"
    FINANCIAL = "financial"


class Merchant(ContractModel):
    name: str
    contact_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    language: Language = Language.NL


class ShopConnection(ContractModel):
    system: ShopSystem
    base_url: HttpUrl
    account_id: str | None = Field(default=None, description="Public key / client id / shop id")
    credentials: dict[str, EncryptedSecret] = Field(default_factory=dict)


class LedgerConnection(ContractModel):
    system: LedgerSystem
    base_url: HttpUrl
    dossier_id: str | None = Field(default=None, description="Administration / dossier")
    credentials: dict[str, EncryptedSecret] = Field(default_factory=dict)


class VatAccountMapping(ContractModel):
    vat_rate: VatRate
    treatment: VatTreatment = VatTreatment.DOMESTIC
    country_code: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", description="Only for OSS: the destination country"
    )
    ledger_account: str
    vat_code: str


class Mapping(ContractModel):
    trigger_statuses: list[str] = Field(
        default_factory=lambda: ["paid"],
        description="Shop states that make an order bookable; 'paid' means the paid flag",
    )
    vat_accounts: list[VatAccountMapping] = Field(default_factory=list)
    payment_method_debtors: dict[str, str] = Field(
        default_factory=dict, description="Payment method -> fixed debtor (e.g. bol.com)"
    )
    journal: str | None = None
    booking_mode: BookingMode = BookingMode.INVOICE
    debtor_matching: bool = True
    default_vat_rate: VatRate = Decimal("21")
    tolerance: Money = Field(default=Decimal("0.05"), ge=0)

    @field_validator("trigger_statuses")
    @classmethod
    def _some_trigger(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one trigger status is needed, e.g. [paid]")
        return value


class ConnectionSettings(ContractModel):
    merchant: Merchant
    shop: ShopConnection
    ledger: LedgerConnection
    mapping: Mapping = Field(default_factory=Mapping)
    active: bool = True


class ConnectionSettingsEvent(Envelope):
    """On `config.connections.v1` (compacted), keyed by connection id."""

    event_type: Literal["connection_settings"] = "connection_settings"
    schema_version: Literal[1] = 1
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

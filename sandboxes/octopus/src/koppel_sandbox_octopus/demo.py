"""The demo identity and the reference data of the demo dossiers.

The demo dossier belongs to a Dutch webshop that keeps its books in Octopus
(a Belgian package), so next to Octopus' Belgian codes it has custom codes for
the Dutch rates (21 / 9 / 0 %), intra-community supplies (ICP), exports outside
the EU and OSS distance sales. Codes are dossier-specific strings: clients map
rates to codes through settings (here: `DEMO.vat_codes`), never by guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType


@dataclass(frozen=True)
class DemoIdentity:
    software_house_uuid: str
    user: str
    password: str
    dossier_id: int
    second_dossier_id: int  # also the demo user's; the invoicing module is OFF there
    foreign_dossier_id: int  # exists, but the demo user has no access to it
    journal_sales: str
    journal_purchases: str
    journal_financial: str
    journal_divers: str
    accounts: Mapping[str, int]
    vat_codes: Mapping[str, str]
    relations: Mapping[str, int]  # relations that exist from the start


DEMO = DemoIdentity(
    software_house_uuid="6f1d2c3b-9a4e-4d8b-8c2e-4b1f0a7d5e91",
    user="koppel-demo",
    password="demo-secret-1",
    dossier_id=35493,
    second_dossier_id=35494,
    foreign_dossier_id=40001,
    journal_sales="V1",
    journal_purchases="A1",
    journal_financial="F1",
    journal_divers="D1",
    accounts=MappingProxyType(
        {
            "debtors": 400000,
            "creditors": 440000,
            "vat_receivable": 411000,
            "vat_payable": 451000,
            "bank": 550000,
            "transit": 580000,
            "purchases": 604000,
            "marketplace_fees": 613000,
            "payment_fees": 657000,
            "revenue_21": 700000,
            "revenue_9": 700100,
            "revenue_0": 700200,
            "revenue_icp": 700300,
            "revenue_export": 700400,
            "revenue_oss": 700500,
            "shipping": 700600,
            "rounding": 743000,
        }
    ),
    vat_codes=MappingProxyType(
        {
            "21": "21",
            "9": "9",
            "0": "0",
            "icp": "ICP",
            "export": "EXP",
            "oss_be_21": "OSS-BE21",
            "oss_be_6": "OSS-BE6",
            "oss_de_19": "OSS-DE19",
            "oss_de_7": "OSS-DE7",
            "oss_fr_20": "OSS-FR20",
            "oss_fr_5_5": "OSS-FR5.5",
            "purchase_21": "D21",
            "purchase_9": "D9",
            "purchase_0": "D0",
        }
    ),
    relations=MappingProxyType(
        {"webshop_customers": 1001, "bol_customers": 1002, "bol_supplier": 1003}
    ),
)

SALES = 2  # `type` of a sales VAT code (one client reads 2 as "sales"; UNCONFIRMED)
PURCHASE = 1


@dataclass(frozen=True)
class VatCodeSpec:
    code: str
    description: str
    percentage: Decimal
    type: int
    kind: str  # domestic | icp | export | oss | purchase (sandbox-internal)
    default_account: int = 0


_A = DEMO.accounts
_V = DEMO.vat_codes

VAT_CODES: tuple[VatCodeSpec, ...] = (
    VatCodeSpec(_V["21"], "NL btw hoog 21%", Decimal("21"), SALES, "domestic", _A["revenue_21"]),
    VatCodeSpec(_V["9"], "NL btw laag 9%", Decimal("9"), SALES, "domestic", _A["revenue_9"]),
    VatCodeSpec(_V["0"], "NL btw 0%", Decimal("0"), SALES, "domestic", _A["revenue_0"]),
    VatCodeSpec("6", "BE btw 6%", Decimal("6"), SALES, "domestic", _A["revenue_oss"]),
    VatCodeSpec("12", "BE btw 12%", Decimal("12"), SALES, "domestic", _A["revenue_oss"]),
    VatCodeSpec(
        _V["icp"], "Intracommunautaire levering 0%", Decimal("0"), SALES, "icp", _A["revenue_icp"]
    ),
    VatCodeSpec(
        _V["export"], "Uitvoer buiten de EU 0%", Decimal("0"), SALES, "export", _A["revenue_export"]
    ),
    VatCodeSpec(_V["oss_be_21"], "OSS België 21%", Decimal("21"), SALES, "oss", _A["revenue_oss"]),
    VatCodeSpec(_V["oss_be_6"], "OSS België 6%", Decimal("6"), SALES, "oss", _A["revenue_oss"]),
    VatCodeSpec(
        _V["oss_de_19"], "OSS Duitsland 19%", Decimal("19"), SALES, "oss", _A["revenue_oss"]
    ),
    VatCodeSpec(_V["oss_de_7"], "OSS Duitsland 7%", Decimal("7"), SALES, "oss", _A["revenue_oss"]),
    VatCodeSpec(
        _V["oss_fr_20"], "OSS Frankrijk 20%", Decimal("20"), SALES, "oss", _A["revenue_oss"]
    ),
    VatCodeSpec(
        _V["oss_fr_5_5"], "OSS Frankrijk 5,5%", Decimal("5.5"), SALES, "oss", _A["revenue_oss"]
    ),
    VatCodeSpec(_V["purchase_21"], "Aankopen btw 21%", Decimal("21"), PURCHASE, "purchase"),
    VatCodeSpec(_V["purchase_9"], "Aankopen btw 9%", Decimal("9"), PURCHASE, "purchase"),
    VatCodeSpec(_V["purchase_0"], "Aankopen btw 0%", Decimal("0"), PURCHASE, "purchase"),
)


@dataclass(frozen=True)
class AccountSpec:
    number: int
    nl: str
    fr: str
    en: str
    sales_vat_code: str = ""
    purchase_vat_code: str = ""


ACCOUNTS: tuple[AccountSpec, ...] = (
    AccountSpec(_A["debtors"], "Handelsdebiteuren", "Clients", "Trade debtors"),
    AccountSpec(_A["creditors"], "Leveranciers", "Fournisseurs", "Trade creditors"),
    AccountSpec(_A["vat_receivable"], "Terug te vorderen btw", "TVA à récupérer", "VAT receivable"),
    AccountSpec(_A["vat_payable"], "Te betalen btw", "TVA à payer", "VAT payable"),
    AccountSpec(_A["bank"], "Bank", "Banque", "Bank"),
    AccountSpec(_A["transit"], "Kruisposten", "Virements internes", "Transfers in transit"),
    AccountSpec(
        _A["purchases"], "Aankopen handelsgoederen", "Achats", "Purchases", "", _V["purchase_21"]
    ),
    AccountSpec(
        _A["marketplace_fees"],
        "Commissies",
        "Commissions",
        "Marketplace fees",
        "",
        _V["purchase_21"],
    ),
    AccountSpec(_A["payment_fees"], "Bankkosten", "Frais bancaires", "Payment fees"),
    AccountSpec(_A["revenue_21"], "Omzet 21%", "Ventes 21%", "Revenue 21%", _V["21"]),
    AccountSpec(_A["revenue_9"], "Omzet 9%", "Ventes 9%", "Revenue 9%", _V["9"]),
    AccountSpec(_A["revenue_0"], "Omzet 0%", "Ventes 0%", "Revenue 0%", _V["0"]),
    AccountSpec(_A["revenue_icp"], "Omzet ICP", "Ventes intracom.", "Revenue ICP", _V["icp"]),
    AccountSpec(
        _A["revenue_export"], "Omzet export", "Ventes export", "Revenue export", _V["export"]
    ),
    AccountSpec(_A["revenue_oss"], "Omzet OSS", "Ventes OSS", "Revenue OSS"),
    AccountSpec(_A["shipping"], "Verzendkosten", "Frais d'envoi", "Shipping", _V["21"]),
    AccountSpec(_A["rounding"], "Afrondingsverschillen", "Écarts d'arrondi", "Rounding"),
)


SEED_RELATIONS: tuple[dict, ...] = (
    {
        "relationIdentificationServiceData": {
            "relationKey": {"id": DEMO.relations["webshop_customers"]},
            "externalRelationId": 0,
        },
        "name": "Webshop klanten",
        "client": True,
        "supplier": False,
        "active": True,
        "country": "NL",
        "vatType": 8,
        "currencyCode": "EUR",
        "defaultBookingAccountClient": _A["debtors"],
    },
    {
        "relationIdentificationServiceData": {
            "relationKey": {"id": DEMO.relations["bol_customers"]},
            "externalRelationId": 0,
        },
        "name": "bol.com klanten",
        "client": True,
        "supplier": False,
        "active": True,
        "country": "NL",
        "vatType": 8,
        "currencyCode": "EUR",
        "defaultBookingAccountClient": _A["debtors"],
    },
    {
        "relationIdentificationServiceData": {
            "relationKey": {"id": DEMO.relations["bol_supplier"]},
            "externalRelationId": 0,
        },
        "name": "bol.com B.V.",
        "client": False,
        "supplier": True,
        "active": True,
        "streetAndNr": "Marktplein 1",
        "postalCode": "3500 AA",
        "city": "Utrecht",
        "country": "NL",
        "vatNr": "NL123456789B01",
        "vatType": 4,
        "currencyCode": "EUR",
        "defaultBookingAccountSupplier": _A["creditors"],
    },
)

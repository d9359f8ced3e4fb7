"""The demo identity (`DEMO`): keys, the two demo administrations and their data.

- `DEMO.main`: "Koppel Demo Webshop B.V." — a Dutch webshop, foreign VAT (OSS) **off**.
- `DEMO.oss`: "Koppel Demo Grensloos B.V." — the same chart, `factureerBuitenlandsBtw` **on**.

Both share one chart of accounts (`DEMO.accounts`: number, kind, grootboekfunctie, allowed
`btwSoort`, `vatRateCode`) but, as in SnelStart, every administration has its own ids
(`DEMO.main.grootboeken["revenue_hoog"]`). All ids are fixed (uuid5), so tests and demo
scripts can name them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from .refdata import LAND_BY_CODE, stable_id

ALL_SCOPES: tuple[str, ...] = (
    "artikelen:read",
    "artikelen:write",
    "bankieren:read",
    "bankieren:write",
    "boekhouden:read",
    "boekhouden:write",
    "btwaangiftes:read",
    "btwaangiftes:write",
    "documenten:read",
    "documenten:write",
    "kas:read",
    "kas:write",
    "memoriaal:read",
    "memoriaal:write",
    "orders:read",
    "orders:write",
    "rapportage",
    "relaties:read",
    "relaties:write",
    "settings:read",
    "settings:write",
)


@dataclass(frozen=True)
class DemoAccount:
    """One ledger account of the demo chart. `kind` is the plain label a mapping uses."""

    key: str
    nummer: int
    omschrijving: str
    kind: str  # hoog | laag | geen | shipping | icp | export | oss | foreign_vat | ...
    grootboekfunctie: str
    btw_soorten: tuple[str, ...]
    rekening_code: str = "WinstEnVerlies"
    vat_rate_code: str | None = None
    nonactief: bool = False
    rubriek: str = "Omzet"


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("revenue_hoog", 8000, "Omzet hoog", "hoog", "VerkopenOmzetHoog", ("Hoog",)),
    DemoAccount("revenue_laag", 8010, "Omzet laag", "laag", "VerkopenOmzetLaag", ("Laag",)),
    DemoAccount("revenue_geen", 8020, "Omzet btw-vrij", "geen", "VerkopenBtwVrij", ("Geen",)),
    DemoAccount(
        "shipping", 8050, "Verzendkosten", "shipping", "Diversen", ("Geen", "Laag", "Hoog")
    ),
    DemoAccount(
        "revenue_icp", 8100, "Omzet ICP binnen EU", "icp", "VerkopenExportBinnenEU", ("Geen",)
    ),
    DemoAccount(
        "revenue_export", 8110, "Omzet export buiten EU", "export", "VerkopenExportBuitenEU",
        ("Geen",),
    ),
    DemoAccount(
        "oss_sr", 8200, "Omzet OSS standaardtarief", "oss", "InstallatieTeleverkoopBinnenEUgeen",
        ("Geen",), vat_rate_code="SR",
    ),
    DemoAccount(
        "oss_rrh", 8201, "Omzet OSS verlaagd hoog", "oss", "InstallatieTeleverkoopBinnenEUgeen",
        ("Geen",), vat_rate_code="RRH",
    ),
    DemoAccount(
        "oss_rrl", 8202, "Omzet OSS verlaagd laag", "oss", "InstallatieTeleverkoopBinnenEUgeen",
        ("Geen",), vat_rate_code="RRL",
    ),
    DemoAccount(
        "foreign_vat", 1650, "Af te dragen buitenlandse btw (OSS)", "foreign_vat", "Diversen",
        ("Geen",), rekening_code="Balans", rubriek="Btw",
    ),
    DemoAccount(
        "vat_payable_hoog", 1600, "Btw af te dragen hoog", "vat_payable", "BtwAfTeDragenHoog",
        ("Geen",), rekening_code="Balans", rubriek="Btw",
    ),
    DemoAccount(
        "revenue_old", 8090, "Omzet oud (niet meer gebruiken)", "inactive", "VerkopenOmzetHoog",
        ("Hoog",), nonactief=True,
    ),
    DemoAccount(
        "memoriaal", 2000, "Memoriaal", "journal", "DagboekMemoriaal", ("Geen",),
        rekening_code="Balans", rubriek="Dagboeken",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class DemoArtikel:
    key: str
    artikelcode: str
    omschrijving: str
    omzetgroep: str  # key of OMZETGROEPEN
    verkoopprijs: Decimal


# key -> (nummer, omschrijving, verkoopNederlandBtwSoort, revenue account key)
OMZETGROEPEN: dict[str, tuple[int, str, str, str]] = {
    "hoog": (1, "Artikelen btw hoog", "Hoog", "revenue_hoog"),
    "laag": (2, "Artikelen btw laag", "Laag", "revenue_laag"),
    "geen": (3, "Artikelen btw-vrij", "Geen", "revenue_geen"),
    "verzending": (4, "Verzendkosten", "Hoog", "shipping"),
}
ARTIKELEN: tuple[DemoArtikel, ...] = (
    DemoArtikel("opzetborstel", "1001", "Opzetborstels (2 st.)", "hoog", Decimal("12.39")),
    DemoArtikel("kookboek", "1002", "Kookboek Hollandse Pot", "laag", Decimal("18.31")),
    DemoArtikel("cadeaubon", "1003", "Cadeaubon", "geen", Decimal("25.00")),
    DemoArtikel("verzendkosten", "9000", "Verzendkosten", "verzending", Decimal("4.95")),
)

# key -> fields of the seeded RelatieModel (ids and relatiecode are added per administration)
SEED_RELATIES: dict[str, dict[str, Any]] = {
    "webshop_klanten": {"relatiesoort": ["Klant"], "naam": "Webshop klanten"},
    "hoekje": {
        "relatiesoort": ["Klant"],
        "naam": "Café Het Hoekje V.O.F.",
        "vestigingsAdres": {"straat": "Dorpsstraat 1", "postcode": "1811 AB", "plaats": "Alkmaar"},
        "email": "inkoop@hethoekje.nl",
        "btwNummer": "NL123456789B01",
        "kvkNummer": "12345678",
        "krediettermijn": 30,
    },
    "mueller": {
        "relatiesoort": ["Klant"],
        "naam": "Müller Handel GmbH",
        "vestigingsAdres": {
            "straat": "Königsallee 12",
            "postcode": "40212",
            "plaats": "Düsseldorf",
            "land": "DE",
        },
        "email": "einkauf@mueller-handel.de",
        "btwNummer": "DE123456789",
    },
    "schmidt": {
        "relatiesoort": ["Klant"],
        "naam": "Anna Schmidt",
        "vestigingsAdres": {
            "straat": "Hauptstraße 5",
            "postcode": "10115",
            "plaats": "Berlin",
            "land": "DE",
        },
        "email": "anna.schmidt@example.de",
    },
    "jansen": {"relatiesoort": ["Leverancier"], "naam": "Groothandel Jansen B.V."},
    "oud": {"relatiesoort": ["Klant"], "naam": "Oude Klant B.V.", "nonactief": True},
}


@dataclass(frozen=True)
class DemoAdministration:
    key: str
    naam: str
    administratie_id: str
    koppelsleutel: str
    factureer_buitenlands_btw: bool
    grootboeken: Mapping[str, str]  # account key -> grootboek id
    relaties: Mapping[str, str]  # relatie key -> relatie id
    relatiecodes: Mapping[str, int]
    omzetgroepen: Mapping[str, str]
    artikelen: Mapping[str, str]

    def grootboek(self, key: str) -> dict[str, str]:
        """`{"id": ...}` reference to an account, ready for a booking line."""
        return {"id": self.grootboeken[key]}


def _koppelsleutel(user: str, password: str) -> str:
    """A koppelsleutel is base64 of `user:password` (notes §2.1, legacy password grant)."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _administration(key: str, naam: str, user: str, secret: str, oss: bool) -> DemoAdministration:
    def ids(kind: str, keys: Any) -> Mapping[str, str]:
        return MappingProxyType({k: stable_id(key, kind, k) for k in keys})

    return DemoAdministration(
        key=key,
        naam=naam,
        administratie_id=stable_id(key, "administratie"),
        koppelsleutel=_koppelsleutel(user, secret),
        factureer_buitenlands_btw=oss,
        grootboeken=ids("grootboek", [a.key for a in ACCOUNTS]),
        relaties=ids("relatie", SEED_RELATIES),
        relatiecodes=MappingProxyType({k: i + 1 for i, k in enumerate(SEED_RELATIES)}),
        omzetgroepen=ids("omzetgroep", OMZETGROEPEN),
        artikelen=ids("artikel", [a.key for a in ARTIKELEN]),
    )


@dataclass(frozen=True)
class DemoIdentity:
    subscription_key: str  # primary key of the partner's APIM subscription
    secondary_subscription_key: str
    main: DemoAdministration
    oss: DemoAdministration
    accounts: Mapping[str, DemoAccount]  # the chart both administrations share
    landen: Mapping[str, str]  # ISO alpha-2 -> land id
    scopes: tuple[str, ...]

    @property
    def koppelsleutel(self) -> str:
        return self.main.koppelsleutel

    @property
    def administratie_id(self) -> str:
        return self.main.administratie_id

    @property
    def administrations(self) -> tuple[DemoAdministration, ...]:
        return (self.main, self.oss)


DEMO = DemoIdentity(
    subscription_key="5f3c9a1e7b2d4c6f8a0b1c2d3e4f5a6b",
    secondary_subscription_key="a1b2c3d4e5f60718293a4b5c6d7e8f90",
    main=_administration(
        "main", "Koppel Demo Webshop B.V.", "koppel-demo-webshop", "kS-demo-webshop-01", False
    ),
    oss=_administration(
        "oss", "Koppel Demo Grensloos B.V.", "koppel-demo-grensloos", "kS-demo-grensloos-01", True
    ),
    accounts=MappingProxyType({a.key: a for a in ACCOUNTS}),
    landen=MappingProxyType({code: land.id for code, land in LAND_BY_CODE.items()}),
    scopes=ALL_SCOPES,
)


def demo_identity_json() -> dict[str, Any]:
    """DEMO as plain JSON (printed by `python -m koppel_sandbox_snelstart`, served by
    `GET /_control/identity`)."""

    def admin(a: DemoAdministration) -> dict[str, Any]:
        return {
            "naam": a.naam,
            "administratie_id": a.administratie_id,
            "koppelsleutel": a.koppelsleutel,
            "factureer_buitenlands_btw": a.factureer_buitenlands_btw,
            "grootboeken": dict(a.grootboeken),
            "relaties": dict(a.relaties),
            "artikelen": dict(a.artikelen),
        }

    return {
        "subscription_key": DEMO.subscription_key,
        "secondary_subscription_key": DEMO.secondary_subscription_key,
        "main": admin(DEMO.main),
        "oss": admin(DEMO.oss),
        "accounts": {
            a.key: {
                "nummer": a.nummer,
                "kind": a.kind,
                "grootboekfunctie": a.grootboekfunctie,
                "btwSoort": list(a.btw_soorten),
                "vatRateCode": a.vat_rate_code,
                "nonactief": a.nonactief,
            }
            for a in ACCOUNTS
        },
        "landen": dict(DEMO.landen),
    }

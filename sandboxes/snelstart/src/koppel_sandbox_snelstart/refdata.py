"""Reference data every administration shares: countries, the Dutch VAT-rate history
(`/btwtarieven`), foreign (OSS) VAT rates (`/vatrates`) and their definitions.

Country ids are global in SnelStart (`GET /landen` gives the same list to everyone), so
they are fixed uuid5 values here. Foreign rates are real published rates but the exact
rows SnelStart serves are UNCONFIRMED; the OSS checks only need them to be date-based.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

NAMESPACE = uuid.UUID("7a1c2e9d-3b4f-4e5a-9c6d-1f2e3d4c5b6a")


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Land:
    landcode: str  # ISO 3166 alpha-2 (SnelStart's `landcode`)
    landcode_iso: str  # alpha-3 (`landcodeISO`)
    naam: str
    eu: bool

    @property
    def id(self) -> str:
        return stable_id("land", self.landcode)


LANDEN: tuple[Land, ...] = (
    Land("NL", "NLD", "Nederland", True),
    Land("BE", "BEL", "België", True),
    Land("DE", "DEU", "Duitsland", True),
    Land("FR", "FRA", "Frankrijk", True),
    Land("LU", "LUX", "Luxemburg", True),
    Land("AT", "AUT", "Oostenrijk", True),
    Land("ES", "ESP", "Spanje", True),
    Land("IT", "ITA", "Italië", True),
    Land("IE", "IRL", "Ierland", True),
    Land("DK", "DNK", "Denemarken", True),
    Land("SE", "SWE", "Zweden", True),
    Land("FI", "FIN", "Finland", True),
    Land("PL", "POL", "Polen", True),
    Land("PT", "PRT", "Portugal", True),
    Land("GR", "GRC", "Griekenland", True),
    Land("CZ", "CZE", "Tsjechië", True),
    Land("SK", "SVK", "Slowakije", True),
    Land("SI", "SVN", "Slovenië", True),
    Land("HU", "HUN", "Hongarije", True),
    Land("RO", "ROU", "Roemenië", True),
    Land("BG", "BGR", "Bulgarije", True),
    Land("HR", "HRV", "Kroatië", True),
    Land("EE", "EST", "Estland", True),
    Land("LV", "LVA", "Letland", True),
    Land("LT", "LTU", "Litouwen", True),
    Land("CY", "CYP", "Cyprus", True),
    Land("MT", "MLT", "Malta", True),
    Land("GB", "GBR", "Verenigd Koninkrijk", False),
    Land("US", "USA", "Verenigde Staten", False),
    Land("CH", "CHE", "Zwitserland", False),
    Land("NO", "NOR", "Noorwegen", False),
)
LAND_BY_ID = {land.id: land for land in LANDEN}
LAND_BY_CODE = {land.landcode: land for land in LANDEN}
NEDERLAND = LAND_BY_CODE["NL"]


@dataclass(frozen=True)
class BtwTarief:
    btw_soort: str  # Geen | Laag | Hoog | Overig
    percentage: Decimal
    vanaf: date
    tot_en_met: date


FAR_FUTURE = date(2400, 12, 31)
BTW_TARIEVEN: tuple[BtwTarief, ...] = (
    BtwTarief("Geen", Decimal("0.0"), date(1900, 1, 1), FAR_FUTURE),
    BtwTarief("Laag", Decimal("6.0"), date(1986, 10, 1), date(2018, 12, 31)),
    BtwTarief("Laag", Decimal("9.0"), date(2019, 1, 1), FAR_FUTURE),
    BtwTarief("Hoog", Decimal("19.0"), date(2001, 1, 1), date(2012, 9, 30)),
    BtwTarief("Hoog", Decimal("21.0"), date(2012, 10, 1), FAR_FUTURE),
    BtwTarief("Overig", Decimal("0.0"), date(1968, 1, 1), FAR_FUTURE),
)


def btw_percentage(btw_soort: str, on: date) -> Decimal | None:
    """The Dutch rate of a VAT kind on a date, from the history (notes §8)."""
    for tarief in BTW_TARIEVEN:
        if tarief.btw_soort == btw_soort and tarief.vanaf <= on <= tarief.tot_en_met:
            return tarief.percentage
    return None


@dataclass(frozen=True)
class VatRate:
    rate_code: str  # SR | RRH | RRL | PR | SRR
    rate: Decimal
    valid_from: date


def _rates(valid_from: date, **codes: str) -> tuple[VatRate, ...]:
    return tuple(VatRate(code, Decimal(rate), valid_from) for code, rate in codes.items())


OSS_START = date(2021, 7, 1)
_START = date(2021, 1, 1)
# ISO alpha-3 -> rows (a row applies from valid_from until a later row of the same code)
VAT_RATES: dict[str, tuple[VatRate, ...]] = {
    "NLD": _rates(date(2019, 1, 1), SR="21", RRL="9"),
    "BEL": _rates(_START, SR="21", RRH="12", RRL="6"),
    "DEU": _rates(date(2020, 7, 1), SR="16", RRL="5") + _rates(_START, SR="19", RRL="7"),
    "FRA": _rates(_START, SR="20", RRH="10", RRL="5.5", SRR="2.1"),
    "AUT": _rates(_START, SR="20", RRH="13", RRL="10"),
    "ESP": _rates(_START, SR="21", RRL="10", SRR="4"),
    "ITA": _rates(_START, SR="22", RRH="10", RRL="5", SRR="4"),
    "LUX": _rates(_START, SR="17", PR="14", RRL="8", SRR="3")
    + _rates(date(2023, 1, 1), SR="16", PR="13", RRL="7", SRR="3")
    + _rates(date(2024, 1, 1), SR="17", PR="14", RRL="8", SRR="3"),
    "IRL": _rates(_START, SR="23", RRH="13.5", RRL="9", SRR="4.8", PR="13.5"),
    "DNK": _rates(_START, SR="25"),
    "SWE": _rates(_START, SR="25", RRH="12", RRL="6"),
    "POL": _rates(_START, SR="23", RRH="8", RRL="5"),
}

VAT_RATE_DEFINITIONS: tuple[tuple[str, str, str], ...] = (  # rateCode, shortName, name
    ("SR", "Standaard", "Standaardtarief"),
    ("RRH", "Verlaagd hoog", "Verlaagd tarief (hoog)"),
    ("RRL", "Verlaagd laag", "Verlaagd tarief (laag)"),
    ("PR", "Parkeer", "Parkeertarief"),
    ("SRR", "Super verlaagd", "Superverlaagd tarief"),
)


def foreign_rate(country_iso3: str, rate_code: str, on: date) -> Decimal | None:
    """The rate of `rate_code` in a country on a date, or None when it has none."""
    rows = [
        r
        for r in VAT_RATES.get(country_iso3, ())
        if r.rate_code == rate_code and r.valid_from <= on
    ]
    return max(rows, key=lambda r: r.valid_from).rate if rows else None


def as_snelstart_datetime(day: date | datetime) -> str:
    """`yyyy-MM-ddTHH:mm:ss`, naive (notes §3)."""
    if isinstance(day, datetime):
        return day.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{day.isoformat()}T00:00:00"

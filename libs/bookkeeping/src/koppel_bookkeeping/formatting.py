"""Rates, amounts and countries written the way a merchant reads them (Dutch or English)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from koppel_contracts import Language, VatTreatment, round_cents

_COUNTRY_NAMES: dict[str, tuple[str, str]] = {
    # code: (Dutch, English)
    "AT": ("Oostenrijk", "Austria"),
    "BE": ("België", "Belgium"),
    "BG": ("Bulgarije", "Bulgaria"),
    "CY": ("Cyprus", "Cyprus"),
    "CZ": ("Tsjechië", "Czechia"),
    "DE": ("Duitsland", "Germany"),
    "DK": ("Denemarken", "Denmark"),
    "EE": ("Estland", "Estonia"),
    "ES": ("Spanje", "Spain"),
    "FI": ("Finland", "Finland"),
    "FR": ("Frankrijk", "France"),
    "GR": ("Griekenland", "Greece"),
    "HR": ("Kroatië", "Croatia"),
    "HU": ("Hongarije", "Hungary"),
    "IE": ("Ierland", "Ireland"),
    "IT": ("Italië", "Italy"),
    "LT": ("Litouwen", "Lithuania"),
    "LU": ("Luxemburg", "Luxembourg"),
    "LV": ("Letland", "Latvia"),
    "MT": ("Malta", "Malta"),
    "NL": ("Nederland", "the Netherlands"),
    "PL": ("Polen", "Poland"),
    "PT": ("Portugal", "Portugal"),
    "RO": ("Roemenië", "Romania"),
    "SE": ("Zweden", "Sweden"),
    "SI": ("Slovenië", "Slovenia"),
    "SK": ("Slowakije", "Slovakia"),
    "GB": ("het Verenigd Koninkrijk", "the United Kingdom"),
    "CH": ("Zwitserland", "Switzerland"),
    "NO": ("Noorwegen", "Norway"),
    "US": ("de Verenigde Staten", "the United States"),
}


def country_name(code: str, language: Language) -> str:
    names = _COUNTRY_NAMES.get(code)
    if names is None:
        return code  # an ISO code is still unambiguous for an unusual destination
    return names[0] if language is Language.NL else names[1]


def rate_text(rate: Decimal, language: Language) -> str:
    """21 -> "21%", 5.5 -> "5,5%" (nl) / "5.5%" (en)."""
    if rate == rate.to_integral_value():
        text = str(rate.quantize(Decimal(1)))
    else:
        text = format(rate.normalize(), "f")
    if language is Language.NL:
        text = text.replace(".", ",")
    return f"{text}%"


def money_text(amount: Decimal, language: Language) -> str:
    """12345.5 -> "€ 12.345,50" (nl) / "€12,345.50" (en)."""
    cents = round_cents(amount)
    sign = "-" if cents < 0 else ""
    grouped = f"{abs(cents):,.2f}"  # Decimal formatting: exact, no float involved
    if language is Language.NL:
        grouped = grouped.replace(",", "_").replace(".", ",").replace("_", ".")
        return f"{sign}€ {grouped}"
    return f"{sign}€{grouped}"


def date_text(day: date, language: Language) -> str:
    return day.strftime("%d-%m-%Y") if language is Language.NL else day.isoformat()


def treatment_text(treatment: VatTreatment, country: str | None, language: Language) -> str:
    """How a merchant recognises a VAT treatment in their settings."""
    nl = language is Language.NL
    if treatment is VatTreatment.DOMESTIC:
        return "binnenland" if nl else "domestic"
    if treatment is VatTreatment.OSS:
        where = country_name(country, language) if country else ("EU" if nl else "the EU")
        return f"OSS {where}"
    if treatment is VatTreatment.ICP:
        return "intracommunautaire levering" if nl else "intra-Community supply"
    return "export buiten de EU" if nl else "export outside the EU"

"""Merchant texts of the runtime's own failures, Dutch by default, English on request.

Adapters add their own codes (`LedgerAdapter.texts`), which win over these. `{ledger}`
is the ledger's name ("Octopus", "SnelStart"), `{message}` the ledger's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from koppel_contracts import Language

from .adapter import Texts

RUNTIME_TEXTS: Texts = {
    "ledger_refused": {
        "nl": (
            "{ledger} weigert de boeking: {message}",
            "Controleer de instellingen van de koppeling en de gegevens in {ledger} en sla de "
            "koppeling opnieuw op om de order opnieuw te boeken; neem contact op met support "
            "als de melding onduidelijk is.",
        ),
        "en": (
            "{ledger} refused the booking: {message}",
            "Check the connection settings and the data in {ledger}, then save the connection "
            "again to book the order again; contact support if the message is unclear.",
        ),
    },
    "credentials_refused": {
        "nl": (
            "{ledger} weigert de inloggegevens van de koppeling: {message}",
            "Controleer de inloggegevens in de koppeling en sla ze opnieuw op; de wachtende "
            "orders worden dan automatisch geboekt.",
        ),
        "en": (
            "{ledger} refuses the connection's credentials: {message}",
            "Check the credentials in the connection and save them again; the held orders "
            "are then booked automatically.",
        ),
    },
    "connection_restored": {
        "nl": (
            "{ledger} accepteert de inloggegevens van de koppeling weer.",
            "Niets te doen: de vastgehouden orders worden nu geboekt.",
        ),
        "en": (
            "{ledger} accepts the connection's credentials again.",
            "Nothing to do: the held orders are being booked now.",
        ),
    },
    "transient_limit": {
        "nl": (
            "{ledger} was {hours} uur lang niet bereikbaar of overbelast ({message}).",
            "Controleer de status van {ledger}; sla de koppeling opnieuw op om de order "
            "opnieuw te proberen.",
        ),
        "en": (
            "{ledger} was unreachable or overloaded for {hours} hours ({message}).",
            "Check {ledger}'s status; save the connection again to retry the order.",
        ),
    },
    "settings_incomplete": {
        "nl": (
            "De {ledger}-instellingen van de koppeling zijn onvolledig: {detail}.",
            "Vul de ontbrekende gegevens in de koppeling in en sla haar opnieuw op.",
        ),
        "en": (
            "The connection's {ledger} settings are incomplete: {detail}.",
            "Fill in what is missing in the connection and save it again.",
        ),
    },
    "vat_code_rate_mismatch": {
        "nl": (
            "Het btw-tarief {rate}% is in de koppeling gekoppeld aan btw-code {vat_code}, maar "
            "{ledger} zegt dat die code {percentage}% is.",
            "Kies in de koppeling voor {rate}% btw een btw-code die in {ledger} {rate}% is; er "
            "is niets geboekt. Sla de koppeling daarna opnieuw op.",
        ),
        "en": (
            "The {rate}% VAT rate is mapped to VAT code {vat_code}, but {ledger} says that code "
            "is {percentage}%.",
            "Map {rate}% VAT to a VAT code that is {rate}% in {ledger}; nothing was booked. "
            "Then save the connection again.",
        ),
    },
    "no_debtor": {
        "nl": (
            "De order heeft geen e-mailadres en er is geen vaste debiteur ingesteld.",
            "Stel in de koppeling een vaste debiteur in voor betaalmethode {payment_method}.",
        ),
        "en": (
            "The order has no e-mail address and no fixed debtor is configured.",
            "Configure a fixed debtor for payment method {payment_method} in the connection.",
        ),
    },
    "number_taken": {
        "nl": (
            "Factuurnummer {number} bestaat al in {ledger} voor een andere boeking.",
            "Controleer in {ledger} de boeking met nummer {number}; verwijder of hernummer "
            "haar als ze niet bij deze order hoort, en sla de koppeling opnieuw op.",
        ),
        "en": (
            "Invoice number {number} already exists in {ledger} for another booking.",
            "Check the booking numbered {number} in {ledger}; remove or renumber it if it "
            "does not belong to this order, then save the connection again.",
        ),
    },
    "ledger_unreachable": {
        "nl": (
            "{ledger} is niet bereikbaar of antwoordt niet: {message}",
            "Controleer het adres van {ledger} in de koppeling; antwoordt {ledger} wel in de "
            "browser, probeer het dan over een paar minuten opnieuw.",
        ),
        "en": (
            "{ledger} cannot be reached or does not answer: {message}",
            "Check {ledger}'s address in the connection; if {ledger} answers in the browser, "
            "try again in a few minutes.",
        ),
    },
    "account_missing": {
        "nl": (
            "Grootboekrekening {account} (voor {rate}% btw) bestaat niet in {ledger}.",
            "Kies voor {rate}% btw een omzetrekening die in {ledger} bestaat.",
        ),
        "en": (
            "Ledger account {account} (for {rate}% VAT) does not exist in {ledger}.",
            "Map {rate}% VAT to a revenue account that exists in {ledger}.",
        ),
    },
    "vat_code_missing": {
        "nl": (
            "Btw-code {vat_code} (voor {rate}% btw) bestaat niet in {ledger}.",
            "Kies voor {rate}% btw een btw-code die in {ledger} bestaat en {rate}% is.",
        ),
        "en": (
            "VAT code {vat_code} (for {rate}% VAT) does not exist in {ledger}.",
            "Map {rate}% VAT to a VAT code that exists in {ledger} and is {rate}%.",
        ),
    },
}

# Failures new settings may fix, whatever the ledger (adapters add their own).
RUNTIME_FIXABLE = frozenset(
    {
        "settings_incomplete",
        "ledger_refused",
        "ledger_unavailable",
        "credentials_refused",
        "unmapped_vat_rate",
        "unknown_vat_code",
        "unknown_ledger_account",
        "vat_code_rate_mismatch",
        "no_debtor",
        "bad_fixed_debtor",
        "number_taken",
    }
)


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def refusal_text(
    texts: Texts, reason_code: str, params: Mapping[str, Any], language: Language
) -> tuple[str, str]:
    """Reason and suggestion for `reason_code` (an unknown code reads as a refusal)."""
    entry = texts.get(reason_code) or texts["ledger_refused"]
    reason, suggestion = entry.get(language.value) or entry["nl"]
    values = _Defaulting({k: v for k, v in params.items() if v is not None})
    return reason.format_map(values), suggestion.format_map(values)


def merged(*layers: Texts) -> dict[str, Mapping[str, tuple[str, str]]]:
    """Later layers win (the adapter's texts over the runtime's)."""
    result: dict[str, Mapping[str, tuple[str, str]]] = {}
    for layer in layers:
        result.update(layer)
    return result

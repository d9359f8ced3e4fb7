"""Merchant texts of the runtime's alerts, Dutch by default, English on request.

Adapters add or replace codes (`ShopAdapter.texts`). Placeholders: `{shop}` the shop's
name ("CCV Shop"), `{number}` the order number, `{detail}` the technical reason,
`{count}` refused deliveries, `{minutes}` the poll interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from koppel_contracts import Language

from .adapter import Texts

ORDER_UNREADABLE = "order_unreadable"
WEBHOOK_SIGNATURE = "webhook_signature_unverified"

RUNTIME_TEXTS: Texts = {
    "shop_credentials_refused": {
        "nl": (
            "{shop} weigert de API-sleutel van deze koppeling. Koppel haalt geen bestellingen"
            " meer op.",
            "Maak in {shop} een nieuwe API-sleutel aan en werk de koppeling ermee bij."
            " Bestellingen die intussen betaald zijn, worden daarna alsnog opgehaald.",
        ),
        "en": (
            "{shop} refuses this connection's API key. Koppel no longer fetches orders.",
            "Create a new API key in {shop} and update the connection with it. Orders paid in"
            " the meantime are fetched afterwards.",
        ),
    },
    "shop_credentials_missing": {
        "nl": (
            "De koppeling heeft geen volledige API-sleutel voor {shop}.",
            "Vul de API-sleutel van {shop} in bij de koppeling.",
        ),
        "en": (
            "The connection has no complete API key for {shop}.",
            "Enter the {shop} API key in the connection.",
        ),
    },
    "shop_secret_unreadable": {
        "nl": (
            "Het opgeslagen geheim van de {shop}-koppeling kan niet worden ontsleuteld.",
            "Voer de API-sleutel van {shop} opnieuw in bij de koppeling. Blijft dit gebeuren,"
            " neem dan contact op met Koppel.",
        ),
        "en": (
            "The stored secret of the {shop} connection cannot be decrypted.",
            "Enter the {shop} API key in the connection again. If this keeps happening,"
            " contact Koppel.",
        ),
    },
    ORDER_UNREADABLE: {
        "nl": (
            "Bestelling {number} uit {shop} kan niet worden ingelezen (technische melding:"
            " {detail}).",
            "Controleer de bestelling in {shop}: orderregels, btw-percentages, bedragen en het"
            " factuuradres met land. Na een correctie wordt de bestelling vanzelf opnieuw"
            " ingelezen.",
        ),
        "en": (
            "Order {number} from {shop} cannot be read (technical reason: {detail}).",
            "Check the order in {shop}: lines, VAT rates, amounts and the billing address with"
            " its country. Once corrected, the order is read again by itself.",
        ),
    },
    WEBHOOK_SIGNATURE: {
        "nl": (
            "Webhooks van {shop} voor deze koppeling komen aan met een handtekening die Koppel"
            " niet kan controleren, terwijl de bestellingen die ze melden wel bestaan ({count}"
            " keer): {shop} ondertekent webhooks waarschijnlijk op een andere manier dan Koppel"
            " verwacht. Bestellingen komen nog binnen via de periodieke controle, tot"
            " {minutes} minuten later.",
            "Niets te doen voor de winkel. Koppel-beheer: vergelijk de x-hash van de geweigerde"
            " webhooks met de ondertekening in de code (het schema is niet gedocumenteerd).",
        ),
        "en": (
            "Webhooks from {shop} for this connection arrive with a signature Koppel cannot"
            " verify, while the orders they announce do exist ({count} times): {shop}"
            " probably signs webhooks differently from what Koppel expects. Orders still"
            " arrive through the periodic check, up to {minutes} minutes later.",
            "Nothing to do for the shop. Koppel operators: compare the x-hash of the refused"
            " webhooks with the signing in the code (the scheme is undocumented).",
        ),
    },
}


def merged(base: Texts, extra: Texts) -> dict[str, dict[str, tuple[str, str]]]:
    result = {code: dict(by_language) for code, by_language in base.items()}
    for code, by_language in extra.items():
        result.setdefault(code, {}).update(by_language)
    return result


def text_for(
    texts: Mapping[str, Mapping[str, tuple[str, str]]],
    code: str,
    language: Language,
    **params: Any,
) -> tuple[str, str]:
    """(reason, suggestion) for `code` in `language` (Dutch when there is none)."""
    by_language = texts[code]
    reason, suggestion = by_language.get(language.value) or by_language["nl"]
    return reason.format(**params), suggestion.format(**params)

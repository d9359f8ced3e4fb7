"""The merchant's texts of this service's own refusals (Dutch first, English on request).
They are merged over the runtime's (`koppel_ledger.texts`), which already cover
`settings_incomplete`, `vat_code_rate_mismatch` and `ledger_refused`."""

from __future__ import annotations

from koppel_ledger import Texts

ASPERION_TEXTS: Texts = {
    "ubl_invalid": {
        "nl": (
            "Het UBL-document {number} voldoet niet aan de officiële regels ({rules}): {message}",
            "Controleer de verkopersgegevens in de koppeling (naam, adres, btw-nummer, "
            "KvK-nummer, IBAN) en de btw-categorieën, en sla de koppeling opnieuw op; er is "
            "niets aangemaakt. Neem contact op met support als de regel over de bestelling "
            "zelf gaat.",
        ),
        "en": (
            "The UBL document {number} does not meet the official rules ({rules}): {message}",
            "Check the seller details in the connection (name, address, VAT number, Chamber "
            "of Commerce number, IBAN) and the VAT categories, then save the connection "
            "again; nothing was created. Contact support if the rule is about the order itself.",
        ),
    },
    "unknown_vat_category": {
        "nl": (
            "Btw-code {vat_code} voor {rate}% btw is geen UBL-btw-categorie.",
            "Kies in de koppeling voor {rate}% btw een UBL-categorie: S (21%, 9%, OSS), Z (0% "
            "in Nederland), K (intracommunautaire levering), G (export), E (vrijgesteld) of AE "
            "(verlegd), en sla de koppeling opnieuw op.",
        ),
        "en": (
            "VAT code {vat_code} for {rate}% VAT is not a UBL VAT category.",
            "Choose a UBL category for {rate}% VAT in the connection: S (21%, 9%, OSS), Z (0% "
            "in the Netherlands), K (intra-Community supply), G (export), E (exempt) or AE "
            "(reverse charge), then save the connection again.",
        ),
    },
    "vat_category_treatment": {
        "nl": (
            "Een {treatment}-bestelling met {rate}% btw staat in de koppeling op btw-categorie "
            "{vat_code}; volgens de btw-regels is dat {expected}.",
            "Zet in de koppeling de btw-categorie voor {treatment} met {rate}% op {expected} en "
            "sla de koppeling opnieuw op.",
        ),
        "en": (
            "A {treatment} order with {rate}% VAT is mapped to VAT category {vat_code} in the "
            "connection; the VAT rules make it {expected}.",
            "Map {treatment} at {rate}% to VAT category {expected} in the connection, then save "
            "the connection again.",
        ),
    },
    "buyer_address_incomplete": {
        "nl": (
            "Bestelling {order_number} heeft geen volledig factuuradres (straat, postcode en "
            "plaats); een UBL-factuur heeft dat nodig.",
            "Vul het factuuradres van de bestelling in de webshop aan; de gewijzigde bestelling "
            "wordt dan opnieuw verwerkt.",
        ),
        "en": (
            "Order {order_number} has no complete billing address (street, postal code and "
            "city); a UBL invoice needs one.",
            "Complete the order's billing address in the shop; the changed order is then "
            "processed again.",
        ),
    },
}

# Reason codes that new connection settings may fix (the runtime retries them then).
FIXABLE = frozenset({"ubl_invalid", "unknown_vat_category", "vat_category_treatment"})

"""Texts of the refusals this adapter understands, and what SnelStart's documented error
codes mean (notes §10). Dutch by default, English when the merchant's language is `en`.

Codes SnelStart documents and Koppel recognises map to a reason code with a text the
merchant can act on; any other refusal is shown in SnelStart's own words (the runtime's
`ledger_refused`).
"""

from __future__ import annotations

from koppel_ledger import Texts

# Documented codes → Koppel's reason codes (notes §10).
CODE_MEANINGS: dict[str, str] = {
    "BOE-0008": "inactive_ledger_account",
    "BOE-0037": "unknown_ledger_account",
    "BOE-0089": "unknown_ledger_account",
    "BOE-0082": "vat_kind_not_allowed",
    "BOE-0042": "period_blocked",
    "BOE-0051": "period_blocked",
    "BOE-0054": "debtor_inactive",
    "BOE-0060": "debtor_not_a_customer",
    "BOE-0080": "icp_not_allowed",
    "BOE-0069": "vat_not_accepted",
    "BOE-0062": "reverse_charge_mixed",
    "REL-0087": "customer_vat_number_invalid",
    "REL-0088": "customer_vat_number_invalid",
}

SNELSTART_TEXTS: Texts = {
    "unknown_ledger_account": {
        "nl": (
            "Grootboekrekening {account} bestaat niet in de SnelStart-administratie.",
            "Maak grootboekrekening {account} aan in SnelStart of kies in de koppeling een "
            "bestaande omzetrekening voor {rate}% btw, en sla de koppeling opnieuw op.",
        ),
        "en": (
            "Ledger account {account} does not exist in the SnelStart administration.",
            "Create ledger account {account} in SnelStart or map {rate}% VAT to an existing "
            "revenue account, then save the connection again.",
        ),
    },
    "inactive_ledger_account": {
        "nl": (
            "Grootboekrekening {account} staat op non-actief in SnelStart.",
            "Activeer rekening {account} in SnelStart of kies in de koppeling een andere "
            "omzetrekening voor {rate}% btw.",
        ),
        "en": (
            "Ledger account {account} is inactive in SnelStart.",
            "Activate account {account} in SnelStart or map {rate}% VAT to another revenue "
            "account.",
        ),
    },
    "vat_kind_not_allowed": {
        "nl": (
            "Op grootboekrekening {account} mag in SnelStart niet met btw-soort {kind} geboekt "
            "worden (toegestaan: {allowed}).",
            "Kies in de koppeling voor {rate}% btw een omzetrekening die btw-soort {kind} "
            "toestaat, of pas de rekening aan in SnelStart.",
        ),
        "en": (
            "SnelStart does not allow VAT kind {kind} on ledger account {account} (allowed: "
            "{allowed}).",
            "Map {rate}% VAT to a revenue account that allows VAT kind {kind}, or change the "
            "account in SnelStart.",
        ),
    },
    "unknown_vat_code": {
        "nl": (
            "'{vat_code}' is geen btw-soort van SnelStart.",
            "Kies in de koppeling voor {rate}% btw de btw-soort Hoog, Laag, Overig of Geen.",
        ),
        "en": (
            "'{vat_code}' is not a SnelStart VAT kind.",
            "Map {rate}% VAT to the VAT kind Hoog, Laag, Overig or Geen.",
        ),
    },
    "foreign_vat_off": {
        "nl": (
            "Deze order aan een consument in {country} valt onder de OSS-regeling, maar de "
            "SnelStart-administratie boekt geen buitenlandse btw.",
            "Zet 'buitenlandse btw factureren' aan in SnelStart, of kies in de koppeling voor "
            "btw van het eigen land; sla de koppeling daarna opnieuw op.",
        ),
        "en": (
            "This order to a consumer in {country} falls under OSS, but the SnelStart "
            "administration does not book foreign VAT.",
            "Switch on foreign VAT invoicing in SnelStart, or choose the shop country's VAT in "
            "the connection; then save the connection again.",
        ),
    },
    "invoice_number_too_long": {
        "nl": (
            "Factuurnummer {number} is langer dan de {limit} tekens die SnelStart toestaat.",
            "Zet in de koppeling 'jaar in factuurnummer' uit of gebruik kortere ordernummers.",
        ),
        "en": (
            "Invoice number {number} is longer than the {limit} characters SnelStart allows.",
            "Switch off 'year in invoice number' or use shorter order numbers.",
        ),
    },
    "period_blocked": {
        "nl": (
            "De boekdatum valt in een periode die in SnelStart geblokkeerd is ({code}).",
            "Vraag uw accountant de periode te openen en sla de koppeling daarna opnieuw op.",
        ),
        "en": (
            "The booking date falls in a period that is blocked in SnelStart ({code}).",
            "Ask your accountant to open the period, then save the connection again.",
        ),
    },
    "debtor_inactive": {
        "nl": (
            "De klant van deze order staat op non-actief in SnelStart.",
            "Activeer de relatie in SnelStart of kies in de koppeling een andere vaste debiteur.",
        ),
        "en": (
            "This order's customer is inactive in SnelStart.",
            "Activate the relation in SnelStart or choose another fixed debtor.",
        ),
    },
    "debtor_not_a_customer": {
        "nl": (
            "De relatie waarop geboekt wordt is in SnelStart geen klant.",
            "Maak de relatie klant in SnelStart of kies in de koppeling een andere debiteur.",
        ),
        "en": (
            "The relation booked on is not a customer in SnelStart.",
            "Make the relation a customer in SnelStart or choose another debtor.",
        ),
    },
    "icp_not_allowed": {
        "nl": (
            "SnelStart staat een intracommunautaire levering aan deze klant niet toe: de "
            "klant heeft geen btw-nummer of zit niet in een ander EU-land.",
            "Controleer het btw-nummer en land van de klant in SnelStart.",
        ),
        "en": (
            "SnelStart does not allow an intra-Community supply to this customer: no VAT "
            "number, or not in another EU country.",
            "Check the customer's VAT number and country in SnelStart.",
        ),
    },
    "vat_not_accepted": {
        "nl": (
            "SnelStart accepteert de btw van de order niet ({message}).",
            "Controleer de btw-instellingen in de koppeling; neem contact op met support als "
            "de btw van de webwinkel klopt.",
        ),
        "en": (
            "SnelStart does not accept the order's VAT ({message}).",
            "Check the VAT settings of the connection; contact support if the shop's VAT is right.",
        ),
    },
    "reverse_charge_mixed": {
        "nl": (
            "SnelStart boekt verlegde btw niet samen met andere btw-soorten in één boeking.",
            "Splits de order in de webwinkel of boek haar met de hand.",
        ),
        "en": (
            "SnelStart does not book reverse-charged VAT together with other VAT kinds.",
            "Split the order in the shop or book it by hand.",
        ),
    },
    "customer_vat_number_invalid": {
        "nl": (
            "SnelStart weigert het btw-nummer van de klant ({message}).",
            "Controleer het btw-nummer van de klant in de webwinkel.",
        ),
        "en": (
            "SnelStart refuses the customer's VAT number ({message}).",
            "Check the customer's VAT number in the shop.",
        ),
    },
    "order_article_missing": {
        "nl": (
            "Voor btw-soort {kind} ({rate}%) is in de koppeling geen SnelStart-artikel gekozen "
            "om verkooporderregels op te zetten.",
            "Kies in de koppeling bij 'order_articles' een artikel met btw-soort {kind}, of zet "
            "de SnelStart-modus op 'booking'; sla de koppeling daarna opnieuw op.",
        ),
        "en": (
            "No SnelStart article is chosen for VAT kind {kind} ({rate}%) to put order lines on.",
            "Choose an article with VAT kind {kind} under 'order_articles', or set the SnelStart "
            "mode to 'booking'; then save the connection again.",
        ),
    },
    "order_article_unknown": {
        "nl": (
            "Artikel {article} (voor btw-soort {kind}) bestaat niet in SnelStart.",
            "Maak het artikel aan in SnelStart of kies in de koppeling een bestaand artikel.",
        ),
        "en": (
            "Article {article} (for VAT kind {kind}) does not exist in SnelStart.",
            "Create the article in SnelStart or choose an existing one in the connection.",
        ),
    },
    "order_article_kind": {
        "nl": (
            "Artikel {article} heeft in SnelStart btw-soort {has}, maar staat in de koppeling "
            "voor btw-soort {kind}.",
            "Kies voor btw-soort {kind} een artikel met die btw-soort (de omzetgroep van het "
            "artikel bepaalt de btw).",
        ),
        "en": (
            "Article {article} has VAT kind {has} in SnelStart but is chosen for VAT kind {kind}.",
            "Choose an article of VAT kind {kind} (its turnover group decides the VAT).",
        ),
    },
    "order_mode_no_oss": {
        "nl": (
            "Een verkooporder kan geen buitenlandse btw (OSS, {country}) bevatten: SnelStart "
            "neemt de btw uit het artikel.",
            "Boek OSS-orders als verkoopboeking: zet de SnelStart-modus op 'booking'.",
        ),
        "en": (
            "A sales order cannot carry foreign VAT (OSS, {country}): SnelStart takes the VAT "
            "from the article.",
            "Book OSS orders as sales bookings: set the SnelStart mode to 'booking'.",
        ),
    },
    "missing_right": {
        "nl": (
            "De koppelsleutel geeft Koppel niet alle benodigde rechten in SnelStart.",
            "Maak in SnelStart een nieuwe koppelsleutel met de rechten voor boekhouden, "
            "relaties en instellingen, en sla haar op in de koppeling.",
        ),
        "en": (
            "The koppelsleutel does not give Koppel every right it needs in SnelStart.",
            "Create a new koppelsleutel in SnelStart with the bookkeeping, relations and "
            "settings rights and save it in the connection.",
        ),
    },
    "bad_fixed_debtor": {
        "nl": (
            "De vaste debiteur '{debtor}' is geen relatiecode of relatie-id in SnelStart.",
            "Vul in de koppeling de relatiecode (een getal) van een bestaande klant in.",
        ),
        "en": (
            "The fixed debtor '{debtor}' is no relation code or relation id in SnelStart.",
            "Enter the relation code (a number) of an existing customer in the connection.",
        ),
    },
    "credentials_refused": {
        "nl": (
            "SnelStart weigert de koppelsleutel van de koppeling: {message}",
            "Maak in SnelStart Web (Koppelingen) een nieuwe koppelsleutel en sla die op in de "
            "koppeling; de wachtende orders worden dan automatisch geboekt.",
        ),
        "en": (
            "SnelStart refuses the connection's koppelsleutel: {message}",
            "Create a new koppelsleutel in SnelStart Web (Koppelingen) and save it in the "
            "connection; the held orders are then booked automatically.",
        ),
    },
}

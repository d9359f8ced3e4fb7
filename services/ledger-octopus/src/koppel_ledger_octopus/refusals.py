"""Texts of the refusals this adapter understands, for a merchant to act on.

VAT refusals come from `koppel_bookkeeping`; the runtime has the ledger-neutral ones
(credentials, unavailable, refused with the ledger's own words, VAT code percentage).
These are Octopus' own: the mapping names an account, VAT code or journal the dossier
does not have, no open book year, the invoicing module off. Dutch by default, English
when the merchant's language is `en`.
"""

from __future__ import annotations

from koppel_ledger import Texts

OCTOPUS_TEXTS: Texts = {
    "unknown_ledger_account": {
        "nl": (
            "Grootboekrekening {account} bestaat niet in Octopus-dossier {dossier}.",
            "Maak rekening {account} aan in Octopus of kies in de koppeling een bestaande "
            "omzetrekening voor {rate}% btw.",
        ),
        "en": (
            "Ledger account {account} does not exist in Octopus dossier {dossier}.",
            "Create account {account} in Octopus or map the {rate}% VAT rate to an existing "
            "revenue account in the connection settings.",
        ),
    },
    "unknown_vat_code": {
        "nl": (
            "Btw-code {vat_code} bestaat niet in Octopus-dossier {dossier}.",
            "Kies in de koppeling voor {rate}% btw een btw-code die in Octopus bestaat.",
        ),
        "en": (
            "VAT code {vat_code} does not exist in Octopus dossier {dossier}.",
            "Map the {rate}% VAT rate to a VAT code that exists in Octopus.",
        ),
    },
    "unknown_journal": {
        "nl": (
            "Dagboek {journal} bestaat niet in boekjaar {bookyear} van Octopus, of is geen "
            "{kind}dagboek.",
            "Kies in de koppeling een bestaand {kind}dagboek (bijvoorbeeld {example}).",
        ),
        "en": (
            "Journal {journal} does not exist in Octopus book year {bookyear}, or is not a "
            "{kind_en} journal.",
            "Choose an existing {kind_en} journal (for example {example}) in the connection "
            "settings.",
        ),
    },
    "journal_closed": {
        "nl": (
            "Dagboek {journal} is afgesloten in Octopus.",
            "Heropen het dagboek in Octopus of kies een ander dagboek in de koppeling.",
        ),
        "en": (
            "Journal {journal} is closed in Octopus.",
            "Reopen the journal in Octopus or choose another journal in the connection settings.",
        ),
    },
    "no_open_bookyear": {
        "nl": (
            "Octopus heeft geen open boekjaar of periode voor {date}.",
            "Maak het boekjaar aan of heropen de periode in Octopus; de order wordt daarna "
            "opnieuw aangeboden als u de koppeling opnieuw opslaat.",
        ),
        "en": (
            "Octopus has no open book year or period for {date}.",
            "Create the book year or reopen the period in Octopus, then save the connection "
            "again to retry the order.",
        ),
    },
    "bad_fixed_debtor": {
        "nl": (
            "De vaste debiteur '{debtor}' is geen Octopus-relatienummer.",
            "Vul in de koppeling het relatienummer (een getal) van de vaste debiteur in.",
        ),
        "en": (
            "The fixed debtor '{debtor}' is not an Octopus relation number.",
            "Enter the relation number (a number) of the fixed debtor in the connection.",
        ),
    },
    "settings_incomplete": {
        "nl": (
            "De Octopus-instellingen van de koppeling zijn onvolledig: {detail}.",
            "Vul dossiernummer, gebruikersnaam, wachtwoord en software house id in.",
        ),
        "en": (
            "The connection's Octopus settings are incomplete: {detail}.",
            "Fill in dossier id, user name, password and software house id.",
        ),
    },
    "invoice_module_off": {
        "nl": (
            "De facturatiemodule van Octopus staat niet aan voor dossier {dossier}, dus "
            "Koppel kan geen conceptfactuur maken.",
            "Zet de facturatiemodule aan in Octopus, of kies in de koppeling voor boeken als "
            "financiële mutatie; sla daarna de koppeling opnieuw op.",
        ),
        "en": (
            "Octopus' invoicing module is off for dossier {dossier}, so Koppel cannot create "
            "a concept invoice.",
            "Switch the invoicing module on in Octopus, or choose financial bookings in the "
            "connection; then save the connection again.",
        ),
    },
    "credentials_refused": {
        "nl": (
            "Octopus weigert de inloggegevens van de koppeling: {message}",
            "Controleer gebruikersnaam, wachtwoord, software house id en dossiertoegang en sla "
            "de koppeling opnieuw op; de wachtende orders worden dan automatisch geboekt.",
        ),
        "en": (
            "Octopus refuses the connection's credentials: {message}",
            "Check user name, password, software house id and dossier access and save the "
            "connection again; the held orders are then booked automatically.",
        ),
    },
}

"""Every text of the dashboard in Dutch (the default) and English: one template set, one
table. `t("key", name=...)` formats with `str.format`; a missing key is an error in tests
(`test_every_template_key_has_both_languages`), and shows as the key itself in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LANGUAGES = ("nl", "en")

TEXTS: dict[str, tuple[str, str]] = {
    # --- frame, navigation -------------------------------------------------------
    "app.title": ("Koppel", "Koppel"),
    "nav.connections": ("Koppelingen", "Connections"),
    "nav.failures": ("Fouten", "Failures"),
    "nav.report": ("Rapportage", "Reports"),
    "nav.settings": ("Configuratie", "Settings"),
    "nav.migration": ("Migratie", "Migration"),
    "nav.support": ("Meldingen", "Support cases"),
    "nav.logout": ("Uitloggen", "Log out"),
    "nav.language": ("English", "Nederlands"),
    "nav.logged_in_as": ("Ingelogd als {email}", "Logged in as {email}"),
    # --- login ----------------------------------------------------------------------
    "login.title": ("Inloggen", "Log in"),
    "login.email": ("E-mailadres", "E-mail address"),
    "login.password": ("Wachtwoord", "Password"),
    "login.submit": ("Inloggen", "Log in"),
    "login.wrong": ("E-mailadres of wachtwoord klopt niet.", "Wrong e-mail address or password."),
    "login.blocked": (
        "Te veel mislukte pogingen. Probeer het over een kwartier opnieuw.",
        "Too many failed attempts. Try again in a quarter of an hour.",
    ),
    # --- errors ---------------------------------------------------------------------
    "error.title": ("Er ging iets mis", "Something went wrong"),
    "error.not_found": (
        "Deze pagina bestaat niet, of u heeft er geen toegang toe.",
        "This page does not exist, or you have no access to it.",
    ),
    "error.csrf": (
        "Het formulier is verlopen of kwam niet van deze site. Laad de pagina opnieuw en "
        "probeer het nog eens.",
        "The form expired or did not come from this site. Reload the page and try again.",
    ),
    "error.back": ("Terug naar de koppelingen", "Back to the connections"),
    # --- connections ------------------------------------------------------------------
    "connections.title": ("Koppelingen", "Connections"),
    "connections.none": ("Er zijn nog geen koppelingen.", "There are no connections yet."),
    "connections.merchant": ("Klant", "Merchant"),
    "connections.shop": ("Webshop", "Shop"),
    "connections.ledger": ("Boekhouding", "Ledger"),
    "connections.attention": ("Aandacht nodig", "Needs attention"),
    "connections.inactive": ("uitgeschakeld", "inactive"),
    "connections.broken": (
        "De verbinding is verbroken: {reason}",
        "The connection is broken: {reason}",
    ),
    # --- order states ---------------------------------------------------------------
    "state.waiting": ("Wacht", "Waiting"),
    "state.booked": ("Geboekt", "Booked"),
    "state.failed": ("Mislukt", "Failed"),
    "state.held": ("Gepauzeerd", "Held"),
    "state.credited": ("Gecrediteerd", "Credited"),
    "state.cancelled": ("Geannuleerd", "Cancelled"),
    "waiting.reason": (
        "De bestelling is ontvangen en wacht op de boekhouding.",
        "The order was received and waits for the ledger.",
    ),
    "waiting.suggestion": (
        "Meestal is dit binnen een minuut geboekt. Blijft het wachten, druk dan op Verwerk.",
        "Usually it is booked within a minute. If it keeps waiting, press Process.",
    ),
    # --- failures page ----------------------------------------------------------------
    "failures.title": ("Fouten", "Failures"),
    "failures.intro": (
        "Bestellingen die mislukt zijn, gepauzeerd of nog wachten, met de reden en wat u "
        "kunt doen.",
        "Orders that failed, are held or still wait, with the reason and what you can do.",
    ),
    "failures.none": ("Niets te doen: alles is geboekt.", "Nothing to do: everything is booked."),
    "failures.order": ("Bestelling", "Order"),
    "failures.placed": ("Datum", "Date"),
    "failures.amount": ("Bedrag", "Amount"),
    "failures.state": ("Status", "State"),
    "failures.reason": ("Reden", "Reason"),
    "failures.suggestion": ("Wat u kunt doen", "What you can do"),
    "failures.retry": ("Verwerk", "Process"),
    "failures.retry_all": ("Verwerk alle", "Process all"),
    "failures.filter_states": ("Welke", "Which"),
    "failures.filter_since": ("Sinds", "Since"),
    "failures.filter": ("Filter", "Filter"),
    "failures.requested": (
        "Verwerk gevraagd op {when}.",
        "Processing requested at {when}.",
    ),
    "failures.retry_sent": (
        "Verwerk is gevraagd voor bestelling {order}. De boekhouding pakt hem nu op.",
        "Processing was requested for order {order}. The ledger picks it up now.",
    ),
    "failures.retry_all_sent": (
        "Verwerk is gevraagd voor alle bestellingen die {states} zijn{since}.",
        "Processing was requested for all orders that are {states}{since}.",
    ),
    "failures.since_text": (" sinds {day}", " since {day}"),
    # --- order timeline ----------------------------------------------------------------
    "order.title": ("Bestelling {number}", "Order {number}"),
    "order.timeline": ("Tijdlijn", "Timeline"),
    "order.in_shop": ("Bekijk in de webshop", "View in the shop"),
    "order.in_ledger": ("Bekijk in de boekhouding", "View in the ledger"),
    "order.document": ("Document", "Document"),
    "order.customer": ("Klant", "Customer"),
    "order.payload": ("Bericht", "Message"),
    "order.report": ("Meld probleem", "Report a problem"),
    "order.report_text": (
        "Wat gaat er mis? Support krijgt uw bericht met de hele tijdlijn van deze bestelling.",
        "What is wrong? Support receives your message with this order's whole timeline.",
    ),
    "order.report_sent": (
        "Uw melding {case} is verstuurd naar support.",
        "Your report {case} was sent to support.",
    ),
    "order.shop_vat": ("Btw volgens de webshop", "VAT according to the shop"),
    "order.ledger_vat": ("Btw in de boekhouding", "VAT in the ledger"),
    "order.mismatch": (
        "De boeking wijkt af van de bestelling.",
        "The booking differs from the order.",
    ),
    "event.order_created": (
        "Bestelling ontvangen (revisie {revision})",
        "Order received (revision {revision})",
    ),
    "event.order_amended": (
        "Wijziging ontvangen (revisie {revision})",
        "Change received (revision {revision})",
    ),
    "event.order_cancelled": (
        "Annulering ontvangen (revisie {revision})",
        "Cancellation received (revision {revision})",
    ),
    "event.booking_booked": ("Geboekt (revisie {revision})", "Booked (revision {revision})"),
    "event.booking_replaced": (
        "Opnieuw geboekt (revisie {revision})",
        "Booked again (revision {revision})",
    ),
    "event.booking_credited": (
        "Gecrediteerd (revisie {revision})",
        "Credited (revision {revision})",
    ),
    "event.booking_failed": (
        "Boeking mislukt (revisie {revision})",
        "Booking failed (revision {revision})",
    ),
    "event.booking_held": ("Gepauzeerd: inloggegevens geweigerd", "Held: credentials refused"),
    "event.check_matched": ("Gecontroleerd: klopt", "Checked: matches"),
    "event.check_mismatch": ("Gecontroleerd: wijkt af", "Checked: differs"),
    "event.alert_persistent_failure": ("Melding: blijvende fout", "Alert: persistent failure"),
    "event.alert_ingest_failure": ("Melding: bestelling onleesbaar", "Alert: order unreadable"),
    "event.alert_connection_broken": ("Melding: verbinding verbroken", "Alert: connection broken"),
    "event.alert_connection_restored": (
        "Melding: verbinding hersteld",
        "Alert: connection restored",
    ),
    "event.action_retry": ("Verwerk gevraagd door {by}", "Processing requested by {by}"),
    "event.action_report": ("Probleem gemeld door {by}", "Problem reported by {by}"),
    # --- report ----------------------------------------------------------------------
    "report.title": ("Rapportage", "Reports"),
    "report.period": ("Per", "Per"),
    "report.day": ("dag", "day"),
    "report.week": ("week", "week"),
    "report.month": ("maand", "month"),
    "report.from": ("Van", "From"),
    "report.to": ("Tot en met", "To"),
    "report.show": ("Toon", "Show"),
    "report.csv": ("Download CSV", "Download CSV"),
    "report.csv_orders": ("Bestellingen als CSV", "Orders as CSV"),
    "report.received": ("Ontvangen", "Received"),
    "report.booked": ("Geboekt", "Booked"),
    "report.waiting": ("Wacht", "Waiting"),
    "report.failed": ("Mislukt", "Failed"),
    "report.shop_total": ("Totaal webshop", "Shop total"),
    "report.ledger_total": ("Totaal boekhouding", "Ledger total"),
    "report.vat_shop": ("Btw {rate} webshop", "VAT {rate} shop"),
    "report.vat_ledger": ("Btw {rate} boekhouding", "VAT {rate} ledger"),
    "report.total": ("Totaal", "Total"),
    "report.completeness": ("Volledigheid per dag", "Completeness per day"),
    "report.completeness_intro": (
        "Elke betaalde bestelling telt mee: geboekt, wachtend, mislukt, gecrediteerd of "
        "geannuleerd. Hieronder staan de bestellingen die nog niet geboekt zijn.",
        "Every paid order is accounted for: booked, waiting, failed, credited or cancelled. "
        "Below are the orders that are not booked yet.",
    ),
    "report.accounted": (
        "{accounted} van {received} verantwoord",
        "{accounted} of {received} accounted for",
    ),
    "report.all_booked": ("alles geboekt", "everything booked"),
    "report.unchecked": (
        "{count} geboekt maar nog niet gecontroleerd",
        "{count} booked but not checked yet",
    ),
    # --- settings --------------------------------------------------------------------
    "settings.title": ("Configuratie", "Settings"),
    "settings.version": ("Versie {version}", "Version {version}"),
    "settings.merchant": ("Klant", "Merchant"),
    "settings.name": ("Naam", "Name"),
    "settings.contact_email": ("E-mail voor meldingen", "E-mail for notifications"),
    "settings.language": ("Taal", "Language"),
    "settings.active": ("Koppeling actief", "Connection active"),
    "settings.shop": ("Webshop", "Shop"),
    "settings.ledger": ("Boekhouding", "Ledger"),
    "settings.base_url": ("Adres (URL)", "Address (URL)"),
    "settings.account_id": ("Account / public key", "Account / public key"),
    "settings.dossier_id": ("Administratie", "Administration"),
    "settings.triggers": ("Boeken bij status", "Book at status"),
    "settings.triggers_other": ("Andere statussen (komma's)", "Other states (commas)"),
    "settings.default_vat_rate": ("Standaard btw-tarief", "Default VAT rate"),
    "settings.vat_by_ean": (
        "Btw per EAN (Bol.com), één per regel: EAN = tarief",
        "VAT per EAN (Bol.com), one per line: EAN = rate",
    ),
    "settings.vat_by_offer_reference": (
        "Btw per aanbodreferentie (Bol.com): referentie = tarief",
        "VAT per offer reference (Bol.com): reference = rate",
    ),
    "settings.vat_accounts": (
        "Btw-tarief → grootboekrekening en btw-code",
        "VAT rate → ledger account and VAT code",
    ),
    "settings.rate": ("Tarief", "Rate"),
    "settings.treatment": ("Soort", "Kind"),
    "settings.country": ("Land (OSS)", "Country (OSS)"),
    "settings.account": ("Grootboekrekening", "Ledger account"),
    "settings.vat_code": ("Btw-code", "VAT code"),
    "settings.remove": ("Weg", "Remove"),
    "settings.debtors": ("Betaalmethode → vaste debiteur", "Payment method → fixed debtor"),
    "settings.method": ("Betaalmethode", "Payment method"),
    "settings.debtor": ("Debiteur", "Debtor"),
    "settings.booking": ("Boeken", "Booking"),
    "settings.tolerance": ("Toegestaan verschil", "Allowed difference"),
    "settings.charge_vat": ("Btw op verzendkosten", "VAT on shipping"),
    "settings.charge_vat.as_charged": ("zoals de webshop rekende", "as the shop charged"),
    "settings.charge_vat.resplit": ("verdeeld over de tarieven", "split over the rates"),
    "settings.debtor_matching": ("Debiteur zoeken op e-mail", "Find the debtor by e-mail"),
    "settings.shipping_account": ("Aparte rekening verzendkosten", "Separate shipping account"),
    "settings.oss_vat": ("Consumenten in de EU", "EU consumers"),
    "settings.oss_vat.auto": ("volgens de tabel", "as the table says"),
    "settings.oss_vat.destination": ("btw van het land (OSS)", "destination VAT (OSS)"),
    "settings.oss_vat.shop_country": ("Nederlandse btw", "Dutch VAT"),
    "settings.journal": ("Dagboek", "Journal"),
    "settings.booking_mode": ("Boeken als", "Book as"),
    "settings.mode": ("Soort boeking", "Booking kind"),
    "settings.year_in_invoice_number": ("Jaar in factuurnummer", "Year in invoice number"),
    "settings.payment_term_days": ("Betaaltermijn (dagen)", "Payment term (days)"),
    "settings.bookkeeping_email": ("E-mail van de boekhouding", "Bookkeeping e-mail"),
    "settings.delivery_time": ("Levertijd (uu:mm)", "Delivery time (hh:mm)"),
    "settings.credentials": ("Inloggegevens", "Credentials"),
    "settings.credentials_intro": (
        "Laat leeg om te houden wat er is. Ingevulde gegevens worden meteen versleuteld en "
        "nooit meer getoond.",
        "Leave empty to keep what is there. What you enter is encrypted at once and never "
        "shown again.",
    ),
    "settings.credential_set": ("ingesteld", "set"),
    "settings.credential_unset": ("niet ingesteld", "not set"),
    "settings.save": ("Opslaan", "Save"),
    "settings.test_shop": ("Test verbinding webshop", "Test shop connection"),
    "settings.test_ledger": ("Test verbinding boekhouding", "Test ledger connection"),
    "settings.saved": (
        "Opgeslagen als versie {version}. Hieronder ziet u wanneer elke dienst hem heeft.",
        "Saved as version {version}. Below you see when each service has it.",
    ),
    "settings.not_saved": ("Niet opgeslagen:", "Not saved:"),
    "settings.changed_meanwhile": (
        "Iemand anders heeft de instellingen intussen gewijzigd (versie {version}). Laad de "
        "pagina opnieuw.",
        "Someone else changed the settings meanwhile (version {version}). Reload the page.",
    ),
    "settings.invalid": ("{message}", "{message}"),
    "settings.table_line": (
        "regel {line} is geen 'sleutel = tarief'",
        "line {line} is not 'key = rate'",
    ),
    "settings.unknown_account": (
        "Grootboekrekening {account} (btw {rate}%) bestaat niet in de boekhouding.",
        "Ledger account {account} (VAT {rate}%) does not exist in the ledger.",
    ),
    "settings.unknown_vat_code": (
        "Btw-code {code} (btw {rate}%) bestaat niet in de boekhouding.",
        "VAT code {code} (VAT {rate}%) does not exist in the ledger.",
    ),
    "settings.vat_code_rate": (
        "Btw-code {code} is {percentage}%, maar staat bij tarief {rate}%.",
        "VAT code {code} is {percentage}%, but is set for rate {rate}%.",
    ),
    "settings.unknown_status": (
        "De webshop kent status {status} niet.",
        "The shop does not know status {status}.",
    ),
    "settings.not_checked": (
        "Nog niet gecontroleerd tegen de boekhouding: druk op 'Test verbinding boekhouding' "
        "om rekeningen en btw-codes op te halen.",
        "Not checked against the ledger yet: press 'Test ledger connection' to fetch its "
        "accounts and VAT codes.",
    ),
    "settings.checked_at": (
        "Gecontroleerd tegen wat {component} meldde op {when}.",
        "Checked against what {component} reported at {when}.",
    ),
    "settings.applied": ("Overgenomen door de diensten", "Taken by the services"),
    "settings.component": ("Dienst", "Service"),
    "settings.applied_at": ("Sinds", "Since"),
    "settings.applied_current": ("heeft de huidige versie", "has the current version"),
    "settings.applied_old": ("nog een oudere versie", "still an older version"),
    "settings.applied_none": (
        "Nog geen dienst heeft een versie gemeld.",
        "No service has reported a version yet.",
    ),
    # --- requests and answers ---------------------------------------------------------
    "request.title_test_shop": ("Test verbinding webshop", "Shop connection test"),
    "request.title_test_ledger": ("Test verbinding boekhouding", "Ledger connection test"),
    "request.title_migrate": ("Import", "Import"),
    "request.waiting_for": (
        "Wacht op antwoord van {component}…",
        "Waiting for {component} to answer…",
    ),
    "request.state.ok": ("Werkt", "Works"),
    "request.state.failed": ("Werkt niet", "Does not work"),
    "request.state.running": ("Bezig", "Running"),
    "request.state.done": ("Klaar", "Done"),
    "request.order_states": ("Statussen van de webshop", "The shop's order states"),
    "request.accounts": ("Grootboekrekeningen", "Ledger accounts"),
    "request.vat_codes": ("Btw-codes", "VAT codes"),
    "request.back": ("Terug naar de configuratie", "Back to the settings"),
    # --- migration -------------------------------------------------------------------
    "migration.title": ("Migratie", "Migration"),
    "migration.intro": (
        "Haal oude bestellingen op over een periode. Doe eerst een proefrun: die telt de "
        "bestellingen en bedragen per btw-tarief en boekt niets.",
        "Import historic orders over a period. Do a dry run first: it counts the orders and "
        "the amounts per VAT rate and books nothing.",
    ),
    "migration.since": ("Van", "From"),
    "migration.until": ("Tot en met", "To"),
    "migration.dry_run": ("Proefrun (niets boeken)", "Dry run (book nothing)"),
    "migration.start": ("Start", "Start"),
    "migration.history": ("Eerdere imports", "Earlier imports"),
    "migration.none": ("Nog geen imports.", "No imports yet."),
    "migration.orders": ("Bestellingen", "Orders"),
    "migration.published": ("Doorgestuurd", "Sent on"),
    "migration.skipped": ("Overgeslagen", "Skipped"),
    "migration.failed": ("Onleesbaar", "Unreadable"),
    "migration.total": ("Totaal incl. btw", "Total incl. VAT"),
    "migration.range": ("{since} t/m {until}", "{since} to {until}"),
    "migration.dry": ("proefrun", "dry run"),
    "migration.real": ("echt", "real"),
    "migration.need_since": ("Kies een begindatum.", "Choose a start date."),
    # --- support ---------------------------------------------------------------------
    "support.title": ("Meldingen", "Support cases"),
    "support.none": ("Geen meldingen.", "No cases."),
    "support.case": ("Melding {case}", "Case {case}"),
    "support.by": ("Van", "From"),
    "support.when": ("Wanneer", "When"),
    "support.message": ("Bericht", "Message"),
    "support.mail": ("Mail", "Mail"),
    "support.mail.sent": ("verstuurd", "sent"),
    "support.mail.pending": ("nog niet verstuurd", "not sent yet"),
}


def translate(lang: str, key: str, **params: Any) -> str:
    pair = TEXTS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**params) if params else text


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **params: Any) -> str:
        return translate(lang, key, **params)

    return t

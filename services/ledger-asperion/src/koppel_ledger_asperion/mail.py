"""The delivery mail: the sealed ZIP as an attachment to the merchant's bookkeeping address,
sent like every Koppel mail (`koppel_chassis.mail`: the same SMTP settings and TLS modes).

Texts are the merchant's language (Dutch by default). The Message-ID is derived from the
delivery and the send round, so a retry after an unknown outcome carries the same id
(receiving systems that de-duplicate on it show the mail once), while a re-send on
request is a new mail with the very same attachment.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from koppel_chassis.mail import message_id
from koppel_contracts import ConnectionSettings, make_event_id

from .archive import Delivery
from .settings import LedgerAsperionSettings

_TEXTS = {
    "nl": {
        "subject": "Facturen voor Asperion: {name}",
        "body": (
            "Beste {merchant},\n\n"
            "In de bijlage staan {count} {what} van {day} als UBL-bestanden (UBL 2.1, "
            "EN 16931), klaar om in Asperion in te lezen (Financieel > Extra > Im-/Export "
            "basis, of Elektronisch factureren).\n\n"
            "Bestand: {name}\nNummers: {numbers}\nControlegetal (SHA-256): {sha256}\n\n"
            "Elk document is gecontroleerd met de officiële regels (UBL 2.1 XSD, EN 16931 en, "
            "waar het document dat aangeeft, NLCIUS) en komt tot op de cent overeen met de "
            "bestelling.\n\n"
            "Met vriendelijke groet,\nKoppel\n"
        ),
        "one": "document",
        "many": "documenten",
    },
    "en": {
        "subject": "Invoices for Asperion: {name}",
        "body": (
            "Dear {merchant},\n\n"
            "Attached are {count} {what} of {day} as UBL files (UBL 2.1, EN 16931), ready "
            "to import into Asperion.\n\n"
            "File: {name}\nNumbers: {numbers}\nChecksum (SHA-256): {sha256}\n\n"
            "Every document was checked with the official rules (UBL 2.1 XSD, EN 16931 and, "
            "where the document claims it, NLCIUS) and matches the order to the cent.\n\n"
            "Kind regards,\nKoppel\n"
        ),
        "one": "document",
        "many": "documents",
    },
}


def delivery_message_id(delivery: Delivery, round_: int, from_address: str) -> str:
    return message_id(make_event_id("asperion-delivery", delivery.id, str(round_)), from_address)


def build_mail(
    *,
    delivery: Delivery,
    data: bytes,
    connection: ConnectionSettings,
    to: str,
    settings: LedgerAsperionSettings,
    round_: int,
    date: datetime,
) -> EmailMessage:
    language = connection.merchant.language.value
    texts = _TEXTS[language]
    numbers = ", ".join(delivery.numbers[:50]) + (" …" if delivery.count > 50 else "")
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = formataddr((connection.merchant.name, to))
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = texts["subject"].format(name=delivery.name)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = delivery_message_id(delivery, round_, settings.from_address)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Koppel-Connection"] = delivery.connection_id
    message["X-Koppel-Delivery"] = delivery.id
    message.set_content(
        texts["body"].format(
            merchant=connection.merchant.name,
            count=delivery.count,
            what=texts["one"] if delivery.count == 1 else texts["many"],
            day=delivery.day.strftime("%d-%m-%Y"),
            name=delivery.name,
            numbers=numbers,
            sha256=delivery.sha256,
        )
    )
    message["Content-Language"] = language  # after set_content, which clears it
    message.add_attachment(data, maintype="application", subtype="zip", filename=delivery.name)
    return message

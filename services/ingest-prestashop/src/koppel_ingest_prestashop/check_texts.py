"""The connection test's answers, in the merchant's language (Dutch by default, English).
Each variant names one thing a merchant can fix; `PROBLEMS` says which of the runtime's
problem codes it is. Placeholders: {url}, {detail}, {location}, {landing}, {version}."""

from __future__ import annotations

WEBSERVICE_NL = "Geavanceerde parameters > Webservice"
WEBSERVICE_EN = "Advanced parameters > Webservice"

PROBLEMS: dict[str, str | None] = {
    "ok": None,
    "key_missing": "settings_incomplete",
    "key_unreadable": "settings_incomplete",
    "key_format": "settings_incomplete",
    "dns": "unreachable",
    "unreachable": "unreachable",
    "tls": "tls",
    "tls_self_signed": "tls",
    "tls_expired": "tls",
    "tls_hostname": "tls",
    "redirected": "redirected",
    "not_the_shop_api": "not_the_shop_api",
    "password_protected": "not_the_shop_api",
    "webservice_disabled": "webservice_disabled",
    "credentials_refused": "credentials_refused",
    "key_not_received": "credentials_refused",
    "permission_missing": "permission_missing",
    "shop_error": "shop_error",
}

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "ok": {
        "nl": ("De koppeling met PrestaShop werkt ({url}, PrestaShop {version}).", ""),
        "en": ("The connection with PrestaShop works ({url}, PrestaShop {version}).", ""),
    },
    "key_missing": {
        "nl": (
            "Er is geen webservice-sleutel ingevuld.",
            f"Maak in PrestaShop onder {WEBSERVICE_NL} een sleutel aan en vul die in.",
        ),
        "en": (
            "No webservice key was entered.",
            f"Create a key in PrestaShop under {WEBSERVICE_EN} and enter it.",
        ),
    },
    "key_unreadable": {
        "nl": (
            "De opgeslagen webservice-sleutel kan niet worden ontsleuteld.",
            "Voer de webservice-sleutel opnieuw in.",
        ),
        "en": ("The stored webservice key cannot be decrypted.", "Enter the webservice key again."),
    },
    "key_format": {
        "nl": (
            "De webservice-sleutel heeft {detail} tekens; een PrestaShop-sleutel heeft er 32.",
            f"Kopieer de sleutel opnieuw uit PrestaShop ({WEBSERVICE_NL}), zonder spaties.",
        ),
        "en": (
            "The webservice key has {detail} characters; a PrestaShop key has 32.",
            f"Copy the key again from PrestaShop ({WEBSERVICE_EN}), without spaces.",
        ),
    },
    "dns": {
        "nl": (
            "De servernaam in {url} bestaat niet.",
            "Controleer het adres van de webwinkel op typefouten (bijvoorbeeld"
            " https://www.uwwinkel.nl).",
        ),
        "en": (
            "The server name in {url} does not exist.",
            "Check the shop's address for typos (e.g. https://www.yourshop.com).",
        ),
    },
    "unreachable": {
        "nl": (
            "Koppel kan {url} niet bereiken ({detail}).",
            "Controleer het adres van de webwinkel (typefout, http of https, poort) en of de"
            " winkel online is.",
        ),
        "en": (
            "Koppel cannot reach {url} ({detail}).",
            "Check the shop's address (typos, http or https, port) and whether the shop is online.",
        ),
    },
    "tls": {
        "nl": (
            "Het certificaat van {url} wordt niet vertrouwd: {detail}.",
            "Vraag uw hostingpartij om een geldig certificaat (bijvoorbeeld Let's Encrypt) voor"
            " dit adres; een zelfondertekend of verlopen certificaat accepteert Koppel niet.",
        ),
        "en": (
            "The certificate of {url} is not trusted: {detail}.",
            "Ask your hosting provider for a valid certificate (e.g. Let's Encrypt) for this"
            " address; Koppel does not accept a self-signed or expired certificate.",
        ),
    },
    "tls_self_signed": {
        "nl": (
            "Het certificaat van {url} is zelfondertekend of uitgegeven door een partij die"
            " niet algemeen vertrouwd wordt.",
            "Vraag uw hostingpartij om een certificaat van een erkende uitgever (bijvoorbeeld"
            " Let's Encrypt, vaak gratis) voor dit adres.",
        ),
        "en": (
            "The certificate of {url} is self-signed or issued by an authority that is not"
            " generally trusted.",
            "Ask your hosting provider for a certificate from a recognised authority (e.g."
            " Let's Encrypt, often free) for this address.",
        ),
    },
    "tls_expired": {
        "nl": (
            "Het certificaat van {url} is verlopen.",
            "Vraag uw hostingpartij het certificaat te vernieuwen.",
        ),
        "en": (
            "The certificate of {url} has expired.",
            "Ask your hosting provider to renew the certificate.",
        ),
    },
    "tls_hostname": {
        "nl": (
            "Het certificaat van {url} is voor een andere naam uitgegeven.",
            "Gebruik het adres waarvoor het certificaat geldt (bijvoorbeeld met of zonder"
            " www.), of vraag uw hostingpartij om een certificaat voor dit adres.",
        ),
        "en": (
            "The certificate of {url} was issued for another name.",
            "Use the address the certificate is valid for (e.g. with or without www.), or ask"
            " your hosting provider for a certificate for this address.",
        ),
    },
    "redirected": {
        "nl": (
            "{url} stuurt door naar {location}{landing}: daar staat de webservice van"
            " PrestaShop niet.",
            "Vul het adres van de winkel in zoals de browser het toont (met https:// en, als de"
            " winkel in een submap staat, die map), bijvoorbeeld https://www.uwwinkel.nl.",
        ),
        "en": (
            "{url} redirects to {location}{landing}: the PrestaShop webservice is not there.",
            "Enter the shop's address as the browser shows it (with https:// and, if the shop"
            " lives in a subfolder, that folder), e.g. https://www.yourshop.com.",
        ),
    },
    "not_the_shop_api": {
        "nl": (
            "Op {url} antwoordt geen PrestaShop-webservice ({detail}).",
            "Controleer of dit het adres van uw PrestaShop-winkel is.",
        ),
        "en": (
            "No PrestaShop webservice answers at {url} ({detail}).",
            "Check that this is the address of your PrestaShop shop.",
        ),
    },
    "password_protected": {
        "nl": (
            "De webserver van {url} vraagt om een eigen wachtwoord (HTTP 401 buiten PrestaShop).",
            "Haal de wachtwoordbeveiliging van de map /api weg, of gebruik het adres van de"
            " live-winkel.",
        ),
        "en": (
            "The web server of {url} asks for a password of its own (HTTP 401 outside PrestaShop).",
            "Remove the password protection from the /api folder, or use the live shop's address.",
        ),
    },
    "webservice_disabled": {
        "nl": (
            "De webservice van PrestaShop staat uit op {url}.",
            f"Zet in PrestaShop onder {WEBSERVICE_NL} 'Webservice van PrestaShop inschakelen'"
            " aan en sla op.",
        ),
        "en": (
            "PrestaShop's webservice is switched off at {url}.",
            f"In PrestaShop, {WEBSERVICE_EN}, switch 'Enable PrestaShop's webservice' on and save.",
        ),
    },
    "credentials_refused": {
        "nl": (
            "PrestaShop weigert de webservice-sleutel ({detail}).",
            f"Controleer in PrestaShop onder {WEBSERVICE_NL} of de sleutel bestaat en actief"
            " is, of maak een nieuwe aan.",
        ),
        "en": (
            "PrestaShop refuses the webservice key ({detail}).",
            f"In PrestaShop, {WEBSERVICE_EN}, check that the key exists and is active, or"
            " create a new one.",
        ),
    },
    "key_not_received": {
        "nl": (
            "PrestaShop op {url} ontvangt de sleutel niet: de webserver geeft de"
            " inloggegevens (Authorization-header) niet door.",
            "Vraag uw hostingpartij de Authorization-header door te geven aan PHP (Apache:"
            " 'CGIPassAuth On' in .htaccess).",
        ),
        "en": (
            "PrestaShop at {url} does not receive the key: the web server drops the"
            " credentials (Authorization header).",
            "Ask your hosting provider to pass the Authorization header to PHP (Apache:"
            " 'CGIPassAuth On' in .htaccess).",
        ),
    },
    "permission_missing": {
        "nl": (
            "De webservice-sleutel mag niet lezen (recht Bekijken/GET ontbreekt): {detail}.",
            f"Vink in PrestaShop onder {WEBSERVICE_NL} bij deze sleutel 'Bekijken (GET)' aan"
            " voor: {{detail}}.",
        ),
        "en": (
            "The webservice key may not read (the View/GET right is missing): {detail}.",
            f"In PrestaShop, {WEBSERVICE_EN}, tick 'View (GET)' for this key on: {{detail}}.",
        ),
    },
    "shop_error": {
        "nl": (
            "PrestaShop gaf een fout: {detail}.",
            "Probeer het over een paar minuten opnieuw; blijft het, neem dan contact op met uw"
            " hostingpartij.",
        ),
        "en": (
            "PrestaShop answered with an error: {detail}.",
            "Try again in a few minutes; if it persists, contact your hosting provider.",
        ),
    },
}

"""The connection test for CCV Shop: one signed `GET /api/rest/v1/` (the root lists the
resources the key may use, ccvshop.md §1), read for what a merchant can fix.

In order: the settings (key and secret present and readable), the address (reachable,
a certificate we trust, no redirect), that the answer is CCV's API (JSON, signed with
the key's secret), the key (not refused, allowed to read orders and manage webhooks).
On success it lists the order states a connection can choose as trigger: CCV's paid
flag and its status ids (§6; fixed ids — their names can be edited per shop, but
`/webshops/{id}/settings`, which has them, is not needed for anything else).
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
from koppel_chassis import SecretBox
from koppel_contracts import ConnectionSettings, Language
from koppel_ingest import ConnectionCheck, ShopState

from .client import API_PREFIX, CcvAuth, api_root, parse_json

SECRET_NAME = "api_secret"
NEEDED_RESOURCES = ("orders", "orderrows", "webhooks")

# (code, Dutch name, English name, paid by default)
STATES: tuple[tuple[str, str, str, bool], ...] = (
    ("paid", "Betaald (vinkje 'betaald')", "Paid (the paid flag)", True),
    ("1", "Nieuw", "New", False),
    ("2", "In behandeling", "In process", False),
    ("3", "Wacht op fabrikant", "Waiting for manufacturer", False),
    ("4", "Wacht op betaling", "Waiting for payment", False),
    ("5", "Verzonden", "Sent", False),
    ("6", "Afgeleverd", "Delivered", False),
    ("7", "Afgerond", "Completed", False),
    ("8", "Geannuleerd", "Cancelled", False),
    ("9", "Wacht op leverancier", "Waiting for supplier", False),
    ("10", "Wordt ingepakt", "Being packaged", False),
    ("11", "Klaar om op te halen", "Ready to be collected", False),
    ("12", "Wordt samengesteld", "Being assembled", False),
    ("13", "Backorder", "Backorder", False),
    ("14", "Gereserveerd", "Reserved", False),
)

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "ok": {
        "nl": ("De koppeling met CCV Shop werkt ({url}).", ""),
        "en": ("The connection with CCV Shop works ({url}).", ""),
    },
    "settings_incomplete": {
        "nl": (
            "De API-sleutel van CCV Shop is niet volledig: {detail}.",
            "Vul de public key en het secret van een CCV Shop API-sleutel in.",
        ),
        "en": (
            "The CCV Shop API key is incomplete: {detail}.",
            "Enter the public key and the secret of a CCV Shop API key.",
        ),
    },
    "unreachable": {
        "nl": (
            "Koppel kan {url} niet bereiken ({detail}).",
            "Controleer het adres van de webwinkel: staat er geen typefout in, en is de"
            " winkel online?",
        ),
        "en": (
            "Koppel cannot reach {url} ({detail}).",
            "Check the shop's address for typos, and whether the shop is online.",
        ),
    },
    "tls": {
        "nl": (
            "Het certificaat van {url} wordt niet vertrouwd ({detail}).",
            "Vraag uw hostingpartij om een geldig certificaat (bijvoorbeeld Let's Encrypt)"
            " voor dit adres, of gebruik het adres waarop de winkel een geldig certificaat heeft.",
        ),
        "en": (
            "The certificate of {url} is not trusted ({detail}).",
            "Ask your hosting provider for a valid certificate (e.g. Let's Encrypt) for this"
            " address, or use the address where the shop has a valid certificate.",
        ),
    },
    "redirected": {
        "nl": (
            "{url} stuurt door naar {location}: daar staat de API van CCV Shop niet.",
            "Vul het adres van de winkel in zoals het in de adresbalk staat (met https:// en"
            " zonder extra pad), bijvoorbeeld https://www.uwwinkel.nl.",
        ),
        "en": (
            "{url} redirects to {location}: that is not the CCV Shop API.",
            "Enter the shop's address as the browser shows it (with https:// and no extra"
            " path), e.g. https://www.yourshop.com.",
        ),
    },
    "not_the_shop_api": {
        "nl": (
            "Op {url} antwoordt geen CCV Shop-API ({detail}).",
            "Controleer of dit het adres van uw CCV-webwinkel is.",
        ),
        "en": (
            "No CCV Shop API answers at {url} ({detail}).",
            "Check that this is the address of your CCV web shop.",
        ),
    },
    "credentials_refused": {
        "nl": (
            "CCV Shop weigert de API-sleutel ({detail}).",
            "Controleer de public key en het secret, of maak in de backoffice van CCV Shop een"
            " nieuwe API-sleutel aan.",
        ),
        "en": (
            "CCV Shop refuses the API key ({detail}).",
            "Check the public key and secret, or create a new API key in the CCV Shop back office.",
        ),
    },
    "permission_missing": {
        "nl": (
            "De API-sleutel mag niet bij: {detail}.",
            "Geef de API-sleutel in de backoffice van CCV Shop rechten op bestellingen,"
            " orderregels en webhooks.",
        ),
        "en": (
            "The API key may not use: {detail}.",
            "Give the API key rights on orders, order rows and webhooks in the CCV Shop back"
            " office.",
        ),
    },
    "shop_error": {
        "nl": (
            "CCV Shop gaf een fout: {detail}.",
            "Probeer het over een paar minuten opnieuw; blijft het, neem dan contact op met CCV.",
        ),
        "en": (
            "CCV Shop answered with an error: {detail}.",
            "Try again in a few minutes; if it persists, contact CCV.",
        ),
    },
}


def states(language: Language) -> tuple[ShopState, ...]:
    dutch = language == Language.NL
    return tuple(ShopState(code, nl if dutch else en, paid) for code, nl, en, paid in STATES)


def _answer(problem: str, language: Language, url: str, **params: str) -> ConnectionCheck:
    by_language = TEXTS[problem]
    message, suggestion = by_language.get(language.value) or by_language["nl"]
    fields = {"url": url, "detail": "", "location": "", **params}
    return ConnectionCheck(
        problem=None if problem == "ok" else problem,
        message=message.format(**fields),
        suggestion=suggestion.format(**fields),
        states=states(language) if problem == "ok" else (),
        details={k: v for k, v in fields.items() if v},
    )


def _is_tls(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _json(response: httpx.Response) -> Any:
    try:
        return parse_json(response.content)
    except ValueError:
        return None


async def check_connection(
    settings: ConnectionSettings,
    box: SecretBox,
    language: Language,
    *,
    timeout_seconds: float = 10.0,
) -> ConnectionCheck:
    shop = settings.shop
    url = api_root(str(shop.base_url)) + "/"
    if not shop.account_id or SECRET_NAME not in shop.credentials:
        return _answer("settings_incomplete", language, url, detail="public key or secret missing")
    try:
        secret = box.decrypt(shop.credentials[SECRET_NAME])
    except ValueError:
        return _answer("settings_incomplete", language, url, detail="the secret is unreadable")
    auth = CcvAuth(shop.account_id, secret)
    async with httpx.AsyncClient(
        auth=auth, timeout=timeout_seconds, headers={"accept": "application/json"}
    ) as http:
        try:
            response = await http.get(url)
        except httpx.HTTPError as error:
            problem = "tls" if _is_tls(error) else "unreachable"
            return _answer(problem, language, url, detail=type(error).__name__)
    return _judge(response, auth, language, url)


def _judge(
    response: httpx.Response, auth: CcvAuth, language: Language, url: str
) -> ConnectionCheck:
    if response.is_redirect:
        location = response.headers.get("location", "?")
        return _answer("redirected", language, url, location=location)
    body = _json(response)
    status = response.status_code
    ccv_error = isinstance(body, dict) and "developermessage" in body
    if ccv_error and status in (401, 403):
        detail = f"HTTP {status} {body.get('code', '')} {body['developermessage']}".strip()
        return _answer("credentials_refused", language, url, detail=detail)
    if ccv_error and status >= 500:
        return _answer("shop_error", language, url, detail=str(body["developermessage"]))
    kind = response.headers.get("content-type", "?").split(";")[0]
    if not isinstance(body, dict) or "items" not in body:
        return _answer("not_the_shop_api", language, url, detail=f"HTTP {status}, {kind}")
    if not auth.response_is_signed(response):
        return _answer("not_the_shop_api", language, url, detail="the answer is not signed")
    names = {str(item.get("name")) for item in body["items"] if isinstance(item, dict)}
    missing = [name for name in NEEDED_RESOURCES if name not in names]
    if missing:
        return _answer("permission_missing", language, url, detail=", ".join(missing))
    return _answer("ok", language, url.removesuffix(API_PREFIX + "/"))

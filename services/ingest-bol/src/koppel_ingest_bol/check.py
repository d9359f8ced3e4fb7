"""The connection test for bol.com: a token (the login host), then one page of open orders
(the API), read for what a merchant can fix.

In order: the settings (client id and secret present and readable), the token server
(reachable, a certificate we trust, no redirect, bol's OAuth answer, the pair not
refused), the API (the same, the v10 media type, the account active). On success it
lists the triggers a connection can choose (`mapping.Trigger`): bol has no order states
of its own (bol.md §5), only these moments — nothing else to choose.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx
from koppel_chassis import SecretBox
from koppel_contracts import ConnectionSettings, Language
from koppel_ingest import ConnectionCheck, ShopState

from .client import api_root, parse_json, problem_text, token_url

SECRET_NAME = "client_secret"

# (code, Dutch name, English name, bookable by default)
STATES: tuple[tuple[str, str, str, bool], ...] = (
    (
        "paid",
        "Geplaatst (de klant heeft bol.com betaald)",
        "Placed (the buyer has paid bol.com)",
        True,
    ),
    (
        "shipped",
        "Verzonden (alles verzonden of geannuleerd)",
        "Shipped (everything shipped or cancelled)",
        False,
    ),
)

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "ok": {
        "nl": ("De koppeling met bol.com werkt (client id {client_id}).", ""),
        "en": ("The connection with bol.com works (client id {client_id}).", ""),
    },
    "settings_incomplete": {
        "nl": (
            "De API-gegevens van bol.com zijn niet volledig: {detail}.",
            "Vul de client id en het secret in van de API-gegevens uit het verkopersdashboard"
            " van bol.com (Instellingen > Diensten > API-instellingen).",
        ),
        "en": (
            "The bol.com API credentials are incomplete: {detail}.",
            "Enter the client id and secret of the API credentials from the bol.com seller"
            " dashboard (Settings > Services > API settings).",
        ),
    },
    "unreachable": {
        "nl": (
            "Koppel kan {url} niet bereiken ({detail}).",
            "Controleer het adres van de bol.com API (https://api.bol.com) op typefouten.",
        ),
        "en": (
            "Koppel cannot reach {url} ({detail}).",
            "Check the address of the bol.com API (https://api.bol.com) for typos.",
        ),
    },
    "tls": {
        "nl": (
            "Het certificaat van {url} wordt niet vertrouwd ({detail}).",
            "Gebruik het adres https://api.bol.com; een ander adres (een proxy) heeft een"
            " geldig certificaat nodig.",
        ),
        "en": (
            "The certificate of {url} is not trusted ({detail}).",
            "Use the address https://api.bol.com; another address (a proxy) needs a valid"
            " certificate.",
        ),
    },
    "redirected": {
        "nl": (
            "{url} stuurt door naar {location}: daar staat de bol.com API niet.",
            "Vul als adres https://api.bol.com in.",
        ),
        "en": (
            "{url} redirects to {location}: that is not the bol.com API.",
            "Enter https://api.bol.com as the address.",
        ),
    },
    "not_the_shop_api": {
        "nl": (
            "Op {url} antwoordt geen bol.com Retailer API ({detail}).",
            "Vul als adres https://api.bol.com in.",
        ),
        "en": (
            "No bol.com Retailer API answers at {url} ({detail}).",
            "Enter https://api.bol.com as the address.",
        ),
    },
    "credentials_refused": {
        "nl": (
            "bol.com weigert de API-gegevens ({detail}).",
            "Controleer de client id en het secret, of maak in het verkopersdashboard van"
            " bol.com nieuwe API-gegevens aan.",
        ),
        "en": (
            "bol.com refuses the API credentials ({detail}).",
            "Check the client id and secret, or create new API credentials in the bol.com"
            " seller dashboard.",
        ),
    },
    "permission_missing": {
        "nl": (
            "bol.com geeft deze API-gegevens geen toegang tot de bestellingen ({detail}).",
            "Controleer in het verkopersdashboard van bol.com of het verkopersaccount actief"
            " is en of de API-gegevens voor de Retailer API zijn.",
        ),
        "en": (
            "bol.com gives these API credentials no access to the orders ({detail}).",
            "Check in the bol.com seller dashboard that the seller account is active and the"
            " credentials are for the Retailer API.",
        ),
    },
    "shop_error": {
        "nl": (
            "bol.com gaf een fout: {detail}.",
            "Probeer het over een paar minuten opnieuw; blijft het, kijk dan op de"
            " statuspagina van bol.com.",
        ),
        "en": (
            "bol.com answered with an error: {detail}.",
            "Try again in a few minutes; if it persists, check bol.com's status page.",
        ),
    },
}


def states(language: Language) -> tuple[ShopState, ...]:
    dutch = language == Language.NL
    return tuple(ShopState(code, nl if dutch else en, on) for code, nl, en, on in STATES)


def _answer(problem: str, language: Language, url: str, **params: str) -> ConnectionCheck:
    by_language = TEXTS[problem]
    message, suggestion = by_language.get(language.value) or by_language["nl"]
    fields = {"url": url, "detail": "", "location": "", "client_id": "", **params}
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
        return parse_json(response.content) if response.content else None
    except ValueError:
        return None


class _Verdict(Exception):
    def __init__(self, answer: ConnectionCheck) -> None:
        self.answer = answer


async def _send(
    http: httpx.AsyncClient, language: Language, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        problem = "tls" if _is_tls(error) else "unreachable"
        raise _Verdict(_answer(problem, language, url, detail=type(error).__name__)) from None
    if response.is_redirect:
        location = response.headers.get("location", "?")
        raise _Verdict(_answer("redirected", language, url, location=location))
    return response


def _judge_token(response: httpx.Response, language: Language, url: str) -> str:
    body, status = _json(response), response.status_code
    if isinstance(body, dict) and "error" in body and status in (400, 401):
        raise _Verdict(_answer("credentials_refused", language, url, detail=problem_text(body)))
    if status >= 500:
        raise _Verdict(_answer("shop_error", language, url, detail=f"HTTP {status}"))
    if status != 200 or not isinstance(body, dict) or not body.get("access_token"):
        kind = response.headers.get("content-type", "?").split(";")[0]
        raise _Verdict(_answer("not_the_shop_api", language, url, detail=f"HTTP {status}, {kind}"))
    return str(body["access_token"])


def _judge_api(response: httpx.Response, language: Language, url: str) -> None:
    body, status = _json(response), response.status_code
    if status == 401:
        raise _Verdict(_answer("credentials_refused", language, url, detail=problem_text(body)))
    if status == 403:
        raise _Verdict(_answer("permission_missing", language, url, detail=problem_text(body)))
    if status == 429 or status >= 500:
        raise _Verdict(_answer("shop_error", language, url, detail=f"HTTP {status}"))
    if status != 200 or not isinstance(body, dict):
        kind = response.headers.get("content-type", "?").split(";")[0]
        detail = problem_text(body) if isinstance(body, dict) else f"HTTP {status}, {kind}"
        raise _Verdict(_answer("not_the_shop_api", language, url, detail=detail))


async def check_connection(
    settings: ConnectionSettings,
    box: SecretBox,
    language: Language,
    *,
    login_url: str | None = None,
    media_type: str = "application/vnd.retailer.v10+json",
    timeout_seconds: float = 10.0,
) -> ConnectionCheck:
    shop = settings.shop
    base = str(shop.base_url)
    orders_url = api_root(base) + "/retailer/orders"
    if not shop.account_id or SECRET_NAME not in shop.credentials:
        return _answer("settings_incomplete", language, base, detail="client id or secret missing")
    try:
        secret = box.decrypt(shop.credentials[SECRET_NAME])
    except ValueError:
        return _answer("settings_incomplete", language, base, detail="the secret is unreadable")
    tokens = token_url(base, login_url)
    async with httpx.AsyncClient(timeout=timeout_seconds) as http:
        try:
            response = await _send(
                http,
                language,
                "POST",
                tokens,
                auth=httpx.BasicAuth(shop.account_id, secret.get_secret_value()),
                data={"grant_type": "client_credentials"},
                headers={"accept": "application/json"},
            )
            token = _judge_token(response, language, tokens)
            response = await _send(
                http,
                language,
                "GET",
                orders_url,
                params={"status": "OPEN", "fulfilment-method": "ALL", "page": 1},
                headers={"accept": media_type, "authorization": f"Bearer {token}"},
            )
            _judge_api(response, language, orders_url)
        except _Verdict as verdict:
            return verdict.answer
    return _answer("ok", language, api_root(base), client_id=shop.account_id)

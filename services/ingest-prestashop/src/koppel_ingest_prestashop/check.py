"""The connection test for PrestaShop: one `GET /api/` with the key (no redirects
followed), read for what a merchant can fix (prestashop.md §1, §2, §5).

In order: the key (present, readable, 32 characters); the address (the server name
exists, it answers, a certificate we trust, no redirect — where one lands is told); that
the answer is PrestaShop's webservice; the switch (503 code 22); the key (401 with
PrestaShop's codes, or a plain 401 when the web server drops the Authorization header);
the View (GET) right on every resource the adapter reads — the root listing has a `get`
attribute per resource (§1). On success it lists the shop's own order states, named in
the merchant's language, with their flags, to choose the trigger from.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import httpx
from koppel_chassis import SecretBox
from koppel_contracts import ConnectionSettings, Language
from koppel_ingest import ConnectionCheck, ShopState
from lxml import etree

from . import records
from .check_texts import PROBLEMS, TEXTS
from .orders import cancels
from .webservice import api_root, error_codes, items, parse_json

KEY_NAME = "webservice_key"
# What the adapter reads (§6); each needs the View (GET) right.
NEEDED_RESOURCES = (
    "orders",
    "order_details",
    "order_states",
    "order_cart_rules",
    "order_slip",
    "customers",
    "addresses",
    "countries",
    "currencies",
    "taxes",
    "carriers",
)
# Untrusted XML: no entities, no DTDs, no network.
XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def answer(
    variant: str,
    language: Language,
    url: str,
    states: tuple[ShopState, ...] = (),
    **params: str,
) -> ConnectionCheck:
    by_language = TEXTS[variant]
    message, suggestion = by_language.get(language.value) or by_language["nl"]
    given = {"url": url, **params}
    fields = {"detail": "", "location": "", "landing": "", "version": "?", **given}
    return ConnectionCheck(
        problem=PROBLEMS[variant],
        message=message.format(**fields),
        suggestion=suggestion.format(**fields),
        states=states,
        details={k: v.strip() for k, v in given.items() if v},
    )


def _unreachable(error: httpx.HTTPError) -> tuple[str, str]:
    """(variant, detail) of a request that got no answer."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for link in chain:
        if isinstance(link, ssl.SSLCertVerificationError):
            return _tls_variant(link.verify_message or ""), link.verify_message or str(link)
    for link in chain:
        if isinstance(link, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(link):
            return _tls_variant(str(link)), str(link)[:160]
    text = str(error)
    if (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or "getaddrinfo" in text
    ):
        return "dns", text
    if isinstance(error, httpx.TimeoutException):
        return "unreachable", "no answer within the time limit"
    return "unreachable", text or type(error).__name__


def _tls_variant(reason: str) -> str:
    """Which certificate problem: untrusted (self-signed, unknown issuer), expired, or
    issued for another name."""
    lowered = reason.lower()
    if "expired" in lowered:
        return "tls_expired"
    if "hostname" in lowered or "match" in lowered:
        return "tls_hostname"
    if "self-signed" in lowered or "self signed" in lowered or "issuer" in lowered:
        return "tls_self_signed"
    return "tls"


def _xml(response: httpx.Response) -> Any:
    try:
        return etree.fromstring(response.content, XML)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _codes(response: httpx.Response) -> list[int]:
    """PrestaShop error codes of an XML or JSON error document."""
    root = _xml(response)
    if root is not None and root.tag == "prestashop":
        return [int(c.text) for c in root.iter("code") if c.text and c.text.strip().isdigit()]
    try:
        return error_codes(parse_json(response.content))
    except ValueError:
        return []


async def _landing(response: httpx.Response, timeout: float) -> tuple[str, str]:
    """Where a redirect points, and what answers there (asked without the key)."""
    location = response.headers.get("location", "?")
    target = response.url.join(location)
    try:
        async with httpx.AsyncClient(timeout=timeout) as plain:
            landed = await plain.get(target, follow_redirects=True)
    except httpx.HTTPError:
        return str(target), ""
    return str(target), f" (HTTP {landed.status_code})"


def judge(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """(variant, params) for the root listing's answer; "ok" with the shop's details."""
    status = response.status_code
    kind = response.headers.get("content-type", "?").split(";")[0]
    codes = _codes(response)
    if status == 503 and 22 in codes:
        return "webservice_disabled", {}
    if status in (401, 403):
        if codes:
            return "credentials_refused", {"detail": f"HTTP {status}, code {codes[0]}"}
        if "prestashop" in response.headers.get("www-authenticate", "").lower():
            return "key_not_received", {}
        return "password_protected", {}
    if status >= 500:
        return "shop_error", {"detail": f"HTTP {status}" + (f", code {codes[0]}" if codes else "")}
    root = _xml(response)
    api = root.find("api") if root is not None and root.tag == "prestashop" else None
    if status != 200 or api is None:
        return "not_the_shop_api", {"detail": f"HTTP {status}, {kind}"}
    readable = {child.tag for child in api if child.get("get") == "true"}
    missing = [name for name in NEEDED_RESOURCES if name not in readable]
    if missing:
        return "permission_missing", {"detail": ", ".join(missing)}
    return "ok", {
        "version": response.headers.get("psws-version", "?"),
        "shop_name": api.get("shop_name", ""),
        "languages": "1" if "languages" in readable else "",
    }


async def check_connection(
    settings: ConnectionSettings,
    box: SecretBox,
    language: Language,
    *,
    timeout_seconds: float = 15.0,
) -> ConnectionCheck:
    shop = settings.shop
    root = api_root(str(shop.base_url))
    url = root + "/"
    if KEY_NAME not in shop.credentials:
        return answer("key_missing", language, url)
    try:
        key = box.decrypt(shop.credentials[KEY_NAME]).get_secret_value()
    except ValueError:
        return answer("key_unreadable", language, url)
    if len(key) != 32:
        return answer("key_format", language, url, detail=str(len(key)))
    auth = httpx.BasicAuth(key, "")
    async with httpx.AsyncClient(auth=auth, timeout=timeout_seconds) as http:
        try:
            response = await http.get(url)
        except httpx.HTTPError as error:
            variant, detail = _unreachable(error)
            return answer(variant, language, url, detail=detail)
        if response.is_redirect:
            location, landing = await _landing(response, timeout_seconds)
            return answer("redirected", language, url, location=location, landing=landing)
        variant, params = judge(response)
        if variant != "ok":
            return answer(variant, language, url, **params)
        try:
            states = await _states(http, root, language, bool(params.pop("languages")))
        except (httpx.HTTPError, ValueError) as error:
            return answer("shop_error", language, url, detail=f"order_states: {error}"[:200])
    return answer("ok", language, root.removesuffix("/api"), states, **params)


async def _states(
    http: httpx.AsyncClient, root: str, language: Language, has_languages: bool
) -> tuple[ShopState, ...]:
    language_id = await _language_id(http, root, language) if has_languages else None
    body = await _json(http, f"{root}/order_states", {"display": "full", "sort": "[id_ASC]"})
    found = []
    for state in map(records.state, items(body, "order_states")):
        flags = tuple(
            name
            for name, on in (
                ("paid", state.paid),
                ("shipped", state.shipped),
                ("delivery", state.delivery),
                ("cancelled", cancels(state)),
            )
            if on
        )
        found.append(ShopState(str(state.id), state.name(language_id), state.paid, flags=flags))
    return tuple(found)


async def _language_id(http: httpx.AsyncClient, root: str, language: Language) -> str | None:
    body = await _json(http, f"{root}/languages", {"display": "[id,iso_code]"})
    for found in items(body, "languages"):
        if str(found.get("iso_code", "")).lower() == language.value:
            return str(found.get("id"))
    return None


async def _json(http: httpx.AsyncClient, url: str, params: Mapping[str, str]) -> Any:
    response = await http.get(url, params={**params, "output_format": "JSON"})
    if response.status_code != 200:
        raise ValueError(f"HTTP {response.status_code}")
    return parse_json(response.content)

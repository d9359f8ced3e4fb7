"""The webservice under /api/ (and /webservice/dispatcher.php?url=…), checked in
PrestaShop's order (dispatcher.php, WebserviceRequest::fetch):

1. no key at all (neither Basic user nor `ws_key`) → plain-text 401 before anything else;
2. output format (`Io-Format` > `Output-Format` header > `output_format` > `io_format`);
3. webservice disabled → 503 code 22; then the key: empty 17, not 32 long 18,
   unknown/inactive 20 + 21, no permissions 21 (401 + WWW-Authenticate);
4. shop context (`id_shop`, `id_shop_group`), `language`;
5. resource: unknown 400 code 27, not granted 401 code 26; method: unknown 405 code
   23, not granted to the key 405 code 25;
6. the action; every refusal is an error document in the requested format.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from base64 import b64decode
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from . import render_json, render_xml
from .catalogue import PRESTASHOP_RESOURCES
from .errors import REALM, WebserviceError, did_you_mean
from .query import php_params
from .state import PrestaShopState
from .writes import get_action, post_action

KNOWN_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD")
XML_TYPE = "text/xml;charset=utf-8"
JSON_TYPE = "application/json"
TOO_MANY = (
    "<html><head><title>429 Too Many Requests</title></head>"
    "<body><h1>Too Many Requests</h1></body></html>"
)


def basic_user(header: str | None) -> str | None:
    """The key from `Authorization: Basic base64(key:)`, as PHP_AUTH_USER."""
    match = re.match(r"^Basic\s+(.*)$", header or "", re.I)
    if not match:
        return None
    try:
        decoded = b64decode(match.group(1).strip() + "===").decode("utf-8", "replace")
    except ValueError:
        return None
    return decoded.split(":", 1)[0]


def output_format(request: Request, params: dict[str, Any]) -> str:
    for value in (
        request.headers.get("io-format"),
        request.headers.get("output-format"),
        params.get("output_format"),
        params.get("io_format"),
    ):
        if value is not None:
            return "json" if value == "JSON" else "xml"
    return "xml"


@dataclass
class Answer:
    status: int
    body: bytes | None  # None: output disabled (no body, no Content-Type)
    headers: dict[str, str]


class Api:
    def __init__(self, state: PrestaShopState) -> None:
        self.state = state

    async def handle(self, request: Request) -> Response:
        state = self.state
        state.counters.requests += 1
        state.base_url = str(request.base_url).rstrip("/")
        if state.limiter is not None:
            verdict = state.limiter.hit(request.client.host if request.client else "unknown")
            if not verdict.allowed:
                state.counters.rate_limited += 1
                retry = str(max(1, math.ceil(verdict.reset_seconds)))
                return Response(TOO_MANY, 429, {"Retry-After": retry}, media_type="text/html")
        params = php_params(request.query_params.multi_items())
        if request.url.path.startswith("/webservice/"):
            url = str(params.pop("url", ""))
        else:
            url = request.path_params.get("rest", "")
        key = basic_user(request.headers.get("authorization"))
        if key is None and isinstance(params.get("ws_key"), str):
            key = params["ws_key"]
        if key is None:
            state.counters.auth_refused += 1
            return PlainTextResponse(
                "401 Unauthorized", 401, {"WWW-Authenticate": REALM}, media_type="text/html"
            )
        method = str(params.get("ps_method") or request.method).upper()
        started = time.perf_counter()
        fmt = output_format(request, params)
        answer = await self._answer(request, key, method, url, params, fmt)
        headers = {
            "Access-Time": str(int(time.time())),
            "X-Powered-By": "PrestaShop Webservice",
            "Execution-Time": f"{time.perf_counter() - started:.3f}",
            **answer.headers,
        }
        if answer.body is None:
            return Response(b"", answer.status, headers)
        headers["Content-Type"] = JSON_TYPE if fmt == "json" else XML_TYPE
        body = b"" if method == "HEAD" else answer.body
        return Response(body, answer.status, headers)

    async def _answer(
        self, request: Request, key: str, method: str, url: str, params: dict[str, Any], fmt: str
    ) -> Answer:
        authenticated = False
        headers: dict[str, str] = {}
        try:
            permissions = self._authenticate(key, headers)
            authenticated = True
            headers["PSWS-Version"] = self.state.config.ps_version
            self._check_shop(params)
            injected = self.state.take_error(url)
            if injected is not None:
                raise WebserviceError.one(injected.status, injected.code, injected.message)
            languages = self._languages(params)
            segments = url.split("/")
            resource = segments[0]
            self._check_resource(resource, permissions)
            self._check_method(resource, method, permissions)
            ws = self.state.base_url + "/api/"
            if resource == "":
                return Answer(200, self._root(permissions, fmt, ws), headers)
            if method in ("GET", "HEAD"):
                status, body = get_action(
                    self.state, resource, segments, params, fmt, languages, ws
                )
            else:
                status, body = await post_action(
                    self.state, request, resource, method, segments, fmt, languages, ws
                )
            if body is not None:
                headers["Content-Sha1"] = hashlib.sha1(body).hexdigest()
            return Answer(status, body, headers)
        except WebserviceError as error:
            if not authenticated:
                headers.pop("PSWS-Version", None)
            renderer = render_json if fmt == "json" else render_xml
            return Answer(error.status, renderer.errors(error.errors), headers)

    def _authenticate(self, raw_key: str, headers: dict[str, str]) -> dict[str, set[str]]:
        state = self.state
        if not state.config.webservice_enabled:
            raise WebserviceError.one(
                503,
                22,
                "The PrestaShop webservice is disabled. "
                "Please activate it in the PrestaShop Back Office",
            )
        key = raw_key.strip()
        errors: list[tuple[int, str]] = []
        permissions: dict[str, set[str]] = {}
        if key == "":
            errors.append((17, "Authentication key is empty"))
        elif len(key) != 32:
            errors.append((18, "Invalid authentication key format"))
        else:
            account = state.keys.get(key)
            if account is not None and account.active:
                permissions = {
                    res: methods for res, methods in account.permissions.items() if methods
                }
            else:
                errors.append((20, "Authentification key is not active"))
            if not permissions:
                errors.append((21, "No permission for this authentication key"))
        if errors:
            state.counters.auth_refused += 1
            headers["WWW-Authenticate"] = REALM
            raise WebserviceError(401, errors)
        return permissions

    @staticmethod
    def _check_shop(params: dict[str, Any]) -> None:
        group = params.get("id_shop_group", params.get("id_group_shop"))
        if isinstance(group, str) and group.isdigit() and int(group) != 1:
            raise WebserviceError.one(500, 999, "This shop group doesn't have shops")
        shop = params.get("id_shop")
        if shop is None or shop == "all":
            return
        if isinstance(shop, str) and re.match(r"^\s*\d+(\.\d+)?\s*$", shop):
            if float(shop) != 1:
                raise WebserviceError.one(403, 132, "No permission for this key on this shop")
            return
        raise WebserviceError.one(404, 999, "This shop id does not exist")

    def _languages(self, params: dict[str, Any]) -> list[int]:
        active = sorted(lang.id for lang in self.state.languages.values() if lang.active)
        raw = params.get("language")
        if raw is None:
            return active
        raw = str(raw)
        wanted: list[str]
        if raw.isdigit():
            wanted = [raw]
        elif raw.startswith("[") and raw.endswith("]"):
            inner = raw[1:-1]
            if ("|" in inner) != ("," in inner):
                if "|" in inner:
                    wanted = inner.split("|")
                else:
                    bounds = inner.split(",")
                    if len(bounds) != 2:
                        raise WebserviceError.one(
                            400, 78, "A range value for a language must contains only 2 values"
                        )
                    if not all(b.strip().isdigit() for b in bounds):
                        raise WebserviceError.one(400, 80, "Language ID must be numeric")
                    wanted = [str(n) for n in range(int(bounds[0]), int(bounds[1]) + 1)]
            else:
                wanted = [inner] if inner.isdigit() else []
        else:
            raise WebserviceError.one(400, 79, "language value is wrong")
        if not all(w.strip().isdigit() for w in wanted):
            raise WebserviceError.one(400, 80, "Language ID must be numeric")
        chosen = [int(w) for w in wanted if int(w) in self.state.languages]
        if not chosen:
            raise WebserviceError.one(400, 81, "language is not available")
        return chosen

    @staticmethod
    def _check_resource(resource: str, permissions: dict[str, set[str]]) -> None:
        if resource == "":
            return
        if resource not in PRESTASHOP_RESOURCES:
            raise did_you_mean(
                400,
                f'Resource of type "{resource}" does not exists',
                resource,
                sorted(PRESTASHOP_RESOURCES),
                27,
            )
        if resource not in permissions:
            raise WebserviceError.one(
                401,
                26,
                f'Resource of type "{resource}" is not allowed with this authentication key',
            )

    @staticmethod
    def _check_method(resource: str, method: str, permissions: dict[str, set[str]]) -> None:
        if method not in KNOWN_METHODS:
            raise WebserviceError.one(405, 23, f"Method {method} is not valid")
        if resource == "search" and method != "GET" and method != "HEAD":
            raise WebserviceError.one(
                405, 101, f"Method {method} is not allowed for the resource {resource}"
            )
        if resource and method not in permissions.get(resource, set()):
            raise WebserviceError.one(
                405,
                25,
                f"Method {method} is not allowed for the resource {resource} "
                "with this authentication key",
            )

    def _root(self, permissions: dict[str, set[str]], fmt: str, ws: str) -> bytes:
        if fmt == "json":
            return render_json.root_listing(permissions, PRESTASHOP_RESOURCES)
        config = self.state.config
        return render_xml.root_listing(
            permissions,
            PRESTASHOP_RESOURCES,
            config.shop_name,
            ws,
            with_patch=config.api_style == "8",
        )

"""Fixtures: a sandbox on a real socket with a manual clock, a minimal bol API client
that fetches tokens and sends the v10 media type, and a checker that holds every
request and response of the tests against bol's own OpenAPI files (spec/)."""

from __future__ import annotations

import base64
import copy
import json
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from koppel_sandbox_bol import (
    DEMO_PRODUCTS,
    VENDOR_TYPE,
    BolControl,
    BolState,
    Credentials,
    ManualClock,
    create_app,
)
from koppel_sandbox_kit import ServedSandbox, served_sandbox
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.protocols import Request as CoreRequest
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"
RETAILER_SPEC = json.loads((SPEC_DIR / "bol-retailer-v10.openapi.json").read_text())
SHARED_SPEC = json.loads((SPEC_DIR / "bol-shared-v10.openapi.json").read_text())
# A Monday morning in winter time: bol's timestamps carry +01:00.
START = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)

# Shapes of bol's answers that its spec does not describe, from the recorded
# answers in bol.md §2.2 / §7: `401 Expired JWT` and `429` (title, status,
# detail), `403` (plus host).
BARE_PROBLEM = {
    "type": "object",
    "required": ["title", "status", "detail"],
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "host": {"type": "string"},
    },
    "additionalProperties": False,
}


def strict(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with `additionalProperties: false` on every object schema: a field
    the sandbox invents (or misspells) fails validation instead of passing."""
    spec = copy.deepcopy(spec)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["components"])
    return spec


def _openapi(spec: dict[str, Any]) -> OpenAPI:
    from openapi_core import Config

    config = Config(
        # bol's own file does not pass the OpenAPI meta-schema (an `in` on an http
        # security scheme); the schemas themselves are what we check against.
        spec_validator_cls=None,
        extra_media_type_deserializers={
            VENDOR_TYPE: lambda value, **_: json.loads(value),
        },
    )
    return OpenAPI.from_dict(strict(spec), config=config)


@dataclass
class CoreReq:
    method: str
    path: str
    parameters: RequestParameters
    content_type: str
    body: bytes | None
    host_url: str = "https://api.bol.com"

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


@dataclass
class CoreResp:
    status_code: int
    data: bytes
    content_type: str
    headers: Headers


def _operation(method: str, path: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The spec operation serving `method path`; literal segments beat templates
    (`…/invoices/requests` is not `…/{shipment-id}`)."""
    given = path.strip("/").split("/")
    for spec in (RETAILER_SPEC, SHARED_SPEC):
        candidates = []
        for template, item in spec["paths"].items():
            parts = template.strip("/").split("/")
            if len(parts) != len(given) or method.lower() not in item:
                continue
            pairs = list(zip(parts, given, strict=True))
            if all(p == g or p.startswith("{") for p, g in pairs):
                literal = sum(p == g for p, g in pairs)
                candidates.append((literal, item[method.lower()]))
        if candidates:
            return max(candidates, key=lambda c: c[0])[1], spec
    return None


@dataclass
class SpecChecker:
    retailer: OpenAPI = field(default_factory=lambda: _openapi(RETAILER_SPEC))
    shared: OpenAPI = field(default_factory=lambda: _openapi(SHARED_SPEC))
    checked: Counter[str] = field(default_factory=Counter)
    deviations: Counter[str] = field(default_factory=Counter)

    def check(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        found = _operation(request.method, path)
        assert found is not None, f"{request.method} {path} is not in bol's spec"
        operation, spec = found
        api = self.shared if spec is SHARED_SPEC else self.retailer
        declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        sent = set(request.url.params.keys())
        assert sent <= declared, f"{path}: parameters {sent - declared} are not in the spec"
        content = request.read()
        core_request = CoreReq(
            method=request.method.lower(),
            path=path,
            parameters=RequestParameters(
                query=ImmutableMultiDict(list(request.url.params.multi_items())),
                header=Headers(list(request.headers.items())),
                cookie=ImmutableMultiDict(),
            ),
            content_type=request.headers.get("content-type", ""),
            body=content or None,
        )
        if response.is_success:
            api.validate_request(core_request)  # the sandbox accepted it: so must the spec
        content_type = response.headers.get("content-type", "")
        assert content_type.startswith(VENDOR_TYPE), content_type
        body = response.json() if response.content else None
        status = str(response.status_code)
        if status not in operation["responses"]:
            self._check_undocumented(response.status_code, body)
            return
        body = self._documented_deviations(operation, status, body)
        assert isinstance(core_request, CoreRequest)
        api.validate_response(
            core_request,
            CoreResp(
                response.status_code,
                json.dumps(body).encode(),
                content_type,
                Headers(list(response.headers.items())),
            ),
        )
        self.checked[f"{request.method} {status}"] += 1

    def _documented_deviations(self, operation: dict[str, Any], status: str, body: Any) -> Any:
        """Where bol's recorded answers differ from its own schema (bol.md §3.1, §8)."""
        schema = operation["responses"][status]["content"][VENDOR_TYPE]["schema"]
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name == "Problem" and isinstance(body, dict) and "violations" not in body:
            self.deviations["problem without violations"] += 1
            return {**body, "violations": []}
        if body == {} and status == "200":
            target = RETAILER_SPEC["components"]["schemas"].get(name) or SHARED_SPEC["components"][
                "schemas"
            ].get(name)
            (key,) = target["required"]
            assert target["properties"][key]["type"] == "array"
            self.deviations["empty list as {}"] += 1
            return {key: []}
        return body

    def _check_undocumented(self, status: int, body: Any) -> None:
        from jsonschema import validate

        assert isinstance(body, dict) and body.get("status") == status, body
        if "type" in body:  # the full problem shape
            problem = strict(RETAILER_SPEC)["components"]["schemas"]
            schema = {**problem["Problem"], "required": ["type", "title", "status", "detail"]}
            schema["properties"] = {**schema["properties"], "violations": {"type": "array"}}
            validate(body, schema)
        else:
            validate(body, BARE_PROBLEM)
        self.checked[f"undocumented {status}"] += 1


CHECKER = SpecChecker()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CHECKER.checked:
        checked = ", ".join(f"{k}: {v}" for k, v in sorted(CHECKER.checked.items()))
        deviations = ", ".join(f"{k}: {v}" for k, v in sorted(CHECKER.deviations.items()))
        terminalreporter.write_line(f"bol spec checks: {checked}")
        terminalreporter.write_line(f"bol documented deviations: {deviations or 'none'}")


def decoded(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal) if response.content else None


class BolApi:
    """A bare-bones Retailer API client for the tests: token, media type, Decimal
    JSON; every answer is checked against the spec unless `check=False`."""

    def __init__(self, http: httpx.AsyncClient, credentials: Credentials) -> None:
        self.http = http
        self.credentials = credentials
        self.token: str | None = None
        # Like bol's clients: on "JWT expired" fetch a new token and retry once.
        self.auto_refresh = True

    def basic(self, secret: str | None = None) -> str:
        pair = f"{self.credentials.client_id}:{secret or self.credentials.client_secret}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    async def login(self) -> httpx.Response:
        response = await self.http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": self.basic(), "Accept": "application/json"},
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return response

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        files: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        check: bool = True,
    ) -> httpx.Response:
        if self.token is None:
            await self.login()
        sent = {"Authorization": f"Bearer {self.token}", "Accept": VENDOR_TYPE}
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            sent["Content-Type"] = VENDOR_TYPE
        sent.update(headers or {})
        response = await self.http.request(
            method, path, params=params, content=content, files=files, headers=sent
        )
        if self.auto_refresh and response.status_code == 401 and "JWT expired" in response.text:
            await self.login()
            return await self.call(
                method, path, params=params, body=body, files=files, headers=headers, check=check
            )
        if check:
            CHECKER.check(response)
        return response

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.call("GET", path, params=params or None)

    async def orders(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.get("/retailer/orders", **params)
        assert response.status_code == 200, response.text
        return list(decoded(response).get("orders", []))


class Sandbox(ServedSandbox[BolState, BolControl]):
    """The kit's served sandbox, with a client of its first account and the spec checker."""

    clock: ManualClock  # the tests' clock: the fixture always gives one
    api: BolApi  # set by the fixture
    checker: SpecChecker = CHECKER

    @staticmethod
    def decoded(response: httpx.Response) -> Any:
        return decoded(response)

    def api_for(self, credentials: Credentials) -> BolApi:
        """A client of another retailer account on the same sandbox."""
        return BolApi(self.http, credentials)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def bol(clock: ManualClock) -> AsyncIterator[Sandbox]:
    state = BolState(clock)
    account = state.add_account(name="Testwinkel")
    account.products = {p.ean: p for p in DEMO_PRODUCTS}
    credentials = Credentials(account.retailer_id, account.client_id, account.client_secret)
    async with served_sandbox(state, create_app, BolControl, clock=clock, kind=Sandbox) as served:
        served.api = BolApi(served.http, credentials)
        yield served

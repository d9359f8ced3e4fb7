from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from koppel_sandbox_kit import ServedSandbox
from koppel_sandbox_kit.fixtures import sandbox_fixtures
from koppel_sandbox_snelstart import DEMO, SnelStartControl, SnelStartState, create_app
from koppel_sandbox_snelstart.jsonio import dumps, loads
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

SPEC_FILE = Path(__file__).parent.parent / "spec" / "snelstart-b2b-v2.openapi.yaml"
START = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)  # 10:30 in Amsterdam
D = Decimal
NAIVE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$")
GATEWAY_STATUSES = (401, 404, 429)  # APIM answers the spec does not describe


# ---------------------------------------------------------------------------- the spec
@cache
def spec() -> dict[str, Any]:
    with SPEC_FILE.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def lenient_components() -> dict[str, Any]:
    """The spec's schemas, with one documented leniency: an optional property whose .NET type
    is a reference type (a `$ref` object or a string) may be `null`. ASP.NET serialises unset
    references as null and the notes (§6.5) document "unused objects as null", but the
    Swashbuckle-made spec never says `nullable`."""
    components = copy.deepcopy(spec()["components"])
    for schema in components["schemas"].values():
        required = set(schema.get("required", ()))
        for name, prop in (schema.get("properties") or {}).items():
            if name in required:
                continue
            if "$ref" in prop:
                schema["properties"][name] = {"anyOf": [prop, {"enum": [None]}]}
            elif prop.get("type") == "string":
                prop["nullable"] = True
    return components


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("uuid", raises=ValueError)
    def is_uuid(value: object) -> bool:
        return not isinstance(value, str) or bool(uuid.UUID(value))

    @checker.checks("date-time")
    def is_naive_datetime(value: object) -> bool:
        # notes §3: `yyyy-MM-ddTHH:mm:ss` without a zone, not RFC 3339 as `date-time` says
        return not isinstance(value, str) or bool(NAIVE_DATETIME.match(value))

    return checker


FORMATS = _format_checker()


_VALIDATORS: dict[tuple[int, bool], Any] = {}


def validate(schema: dict[str, Any], instance: Any, *, write: bool = False) -> None:
    key = (id(schema), write)  # the spec's dicts live as long as the cached spec
    if key not in _VALIDATORS:
        root = {**schema, "components": lenient_components()}
        kind = OAS30WriteValidator if write else OAS30ReadValidator
        _VALIDATORS[key] = kind(root, format_checker=FORMATS)
    _VALIDATORS[key].validate(instance)


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    return [
        (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", path) + "$"), path)
        for path in spec()["paths"]
    ]


def spec_operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's template and operation for a concrete `/v2`-relative path."""
    for pattern, template in _templates():
        if pattern.match(path):
            operation = spec()["paths"][template].get(method.lower())
            assert operation is not None, f"{method} {template} is not in the spec"
            return template, operation
    raise AssertionError(f"{path} is not in the spec")


def json_schema(content: dict[str, Any] | None) -> dict[str, Any] | None:
    return ((content or {}).get("application/json") or {}).get("schema")


def check_response(method: str, path: str, response: httpx.Response) -> None:
    """Every answer the tests see: declared status → its schema; otherwise a gateway answer."""
    body = loads(response.content) if response.content else None
    assert response.headers.get("content-type", "").startswith("application/json")
    try:
        _, operation = spec_operation(method, path)
    except AssertionError:
        assert response.status_code == 404 and body == {
            "statusCode": 404,
            "message": "Resource not found",
        }
        return
    declared = operation["responses"].get(str(response.status_code))
    if declared is not None:
        schema = json_schema(declared.get("content"))
        if schema is not None:
            validate(schema, body)
        return
    if response.status_code == 400 and _is_odata(operation):
        # notes §9: a bad query is a 400 even though the spec lists only 200/403 for it
        assert body == {"Message": body.get("Message")} if isinstance(body, dict) else body
        return
    assert response.status_code in GATEWAY_STATUSES or response.status_code >= 500, (
        f"{method} {path}: status {response.status_code} is not in the spec: {body}"
    )
    assert set(body) == {"statusCode", "message"} or set(body) == {"Message"}, body


def _is_odata(operation: dict[str, Any]) -> bool:
    return any(p["name"] == "$filter" for p in operation.get("parameters", ()))


def check_request(method: str, path: str, body: Any) -> None:
    _, operation = spec_operation(method, path)
    schema = json_schema((operation.get("requestBody") or {}).get("content"))
    assert schema is not None, f"{method} {path} takes no JSON body"
    validate(schema, loads(dumps(body)), write=True)


# ---------------------------------------------------------------------------- a bare client
@dataclass
class Api:
    """A minimal SnelStart client for the tests: token, both headers, Decimal JSON. Every
    answer is checked against the spec; `conform=True` also checks the request body."""

    http: httpx.AsyncClient
    koppelsleutel: str = DEMO.koppelsleutel
    subscription_key: str = DEMO.subscription_key
    token: str = ""
    seen: list[tuple[str, str, int]] = field(default_factory=list)

    async def fetch_token(self, koppelsleutel: str | None = None) -> httpx.Response:
        response = await self.http.post(
            "/b2b/token",
            data={"grant_type": "clientkey", "clientkey": koppelsleutel or self.koppelsleutel},
        )
        if response.status_code == 200:
            self.token = response.json()["access_token"]
        return response

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        conform: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        if not self.token:
            assert (await self.fetch_token()).status_code == 200
        sent = {
            "Authorization": f"Bearer {self.token}",
            "Ocp-Apim-Subscription-Key": self.subscription_key,
        }
        content = None
        if body is not None:
            if conform:
                check_request(method, path, body)
            content = dumps(body)
            sent["Content-Type"] = "application/json; charset=utf-8"
        sent.update(headers or {})
        response = await self.http.request(
            method, f"/v2{path}", params=params, content=content, headers=sent
        )
        check_response(method, path.split("?")[0], response)
        self.seen.append((method, path, response.status_code))
        return response

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.call("GET", path, params=params or None)
        assert response.status_code == 200, response.text
        return loads(response.content)

    async def post(self, path: str, body: Any, status: int = 201) -> Any:
        response = await self.call("POST", path, body, conform=True)
        assert response.status_code == status, response.text
        return loads(response.content)


def error_codes(response: httpx.Response, status: int = 400) -> list[str]:
    """The error codes of a business-validation answer (asserting its shape)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, list) and body, body
    for item in body:
        assert set(item) == {"errorCode", "message", "details"} and item["message"], item
    return [item["errorCode"] for item in body]


class Sandbox(ServedSandbox[SnelStartState, SnelStartControl]):
    @cached_property
    def api(self) -> Api:
        return Api(self.http)


clock, sandbox = sandbox_fixtures(SnelStartState.demo, create_app, SnelStartControl, START, Sandbox)


@pytest.fixture
def api(sandbox: Sandbox) -> Api:
    return sandbox.api


def _booking(number: str = "WS-1042", **overrides: Any) -> dict[str, Any]:
    """The worked example of vat-nl-eu.md §6: goods 49.90 @21 % + 13.50 @9 %, shipping 4.95
    split 3.90 / 1.05; VAT 11.30 + 1.31; total 80.96. Money as JSON numbers (Decimal)."""
    g = DEMO.main.grootboek
    body: dict[str, Any] = {
        "factuurnummer": number,
        "klant": {"id": DEMO.main.relaties["webshop_klanten"]},
        "factuurdatum": "2026-03-14T00:00:00",
        "omschrijving": "Order 1042 (CCV Shop)",
        "factuurbedrag": D("80.96"),
        "betalingstermijn": 14,
        "boekingsregels": [
            {"grootboek": g("revenue_hoog"), "bedrag": D("49.90"), "btwSoort": "Hoog"},
            {"grootboek": g("revenue_laag"), "bedrag": D("13.50"), "btwSoort": "Laag"},
            {"grootboek": g("shipping"), "bedrag": D("3.90"), "btwSoort": "Hoog"},
            {"grootboek": g("shipping"), "bedrag": D("1.05"), "btwSoort": "Laag"},
        ],
        "btw": [
            {"btwSoort": "VerkopenHoog", "btwBedrag": D("11.30")},
            {"btwSoort": "VerkopenLaag", "btwBedrag": D("1.31")},
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def openapi() -> SimpleNamespace:
    """The vendor spec and the checks the Api client applies to every call."""
    return SimpleNamespace(
        spec=spec(),
        validate=validate,
        check_request=check_request,
        check_response=check_response,
        operation=spec_operation,
    )


@pytest.fixture
def codes() -> Callable[..., list[str]]:
    """codes(response, status=400): the errorCodes of a business-validation answer."""
    return error_codes


@pytest.fixture
def booking() -> Callable[..., dict[str, Any]]:
    """booking(number="WS-1042", **overrides): a balanced domestic verkoopboeking body."""
    return _booking

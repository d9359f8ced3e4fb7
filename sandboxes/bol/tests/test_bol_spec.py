"""The sandbox against bol's own OpenAPI files (spec/): every endpoint it serves
exists there with those parameters, its enums are the spec's, and the checker that
holds every test response against the schemas really rejects what is wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from koppel_sandbox_bol import VENDOR_TYPE, model
from koppel_sandbox_bol.handlers import ENDPOINTS

SPEC_DIR = Path(__file__).resolve().parents[1] / "spec"
RETAILER = json.loads((SPEC_DIR / "bol-retailer-v10.openapi.json").read_text())
SHARED = json.loads((SPEC_DIR / "bol-shared-v10.openapi.json").read_text())
SCHEMAS = RETAILER["components"]["schemas"]


def spec_operation(method: str, template: str) -> dict:
    spec = SHARED if template.startswith("/shared/") else RETAILER
    assert template in spec["paths"], template
    operation = spec["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not in the spec"
    return operation


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.key)
def test_every_served_endpoint_is_in_the_spec_with_its_path_parameters(endpoint) -> None:
    operation = spec_operation(endpoint.method, endpoint.template)
    in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
    assert in_path == set(re.findall(r"\{([^}]+)\}", endpoint.template))
    served_type = "multipart/form-data" if endpoint.body == "multipart" else VENDOR_TYPE
    if endpoint.body != "none":
        assert served_type in operation["requestBody"]["content"]
    for response in operation["responses"].values():
        assert set(response["content"]) <= {VENDOR_TYPE, "application/vnd.advertiser.v10+json"}


@pytest.mark.parametrize(
    ("ours", "schema", "prop"),
    [
        (model.CANCELLATION_REASONS, "OrderItemCancellation", "reasonCode"),
        (model.HANDLING_RESULTS, "ReturnRequest", "handlingResult"),
        (model.INVOICE_STATUSES, "StatusTransitions", "status"),
        (model.TRANSPORT_EVENTS, "TransportEvent", "eventCode"),
        (model.TIME_FRAME_TYPES, "OrderFulfilment", "timeFrameType"),
        (model.FULFILMENT_METHODS, "ReducedOrderItem", "fulfilmentMethod"),
    ],
)
def test_model_enums_are_the_specs(ours, schema, prop) -> None:
    assert list(ours) == SCHEMAS[schema]["properties"][prop]["enum"]


QUERY_ENUMS = [
    (e.template, p["name"], p["schema"]["enum"])
    for e in ENDPOINTS
    if e.method == "GET"
    for p in spec_operation(e.method, e.template).get("parameters", [])
    if p["in"] == "query" and "enum" in p["schema"]
]


@pytest.mark.parametrize(("template", "name", "allowed"), QUERY_ENUMS)
async def test_query_enums_accept_exactly_the_specs_values(bol, template, name, allowed) -> None:
    for value in allowed:
        ok = await bol.api.get(template, **{name: value})
        assert ok.status_code == 200, (name, value, ok.text)
    refused = await bol.api.get(template, **{name: "NOPE"})
    assert refused.status_code == 400
    assert refused.json()["violations"] == [
        {
            "name": name,
            "reason": f"Request contains invalid value(s): 'NOPE', allowed values: "
            f"{', '.join(allowed)}.",
        }
    ]


def fake_response(path: str, body: dict, status: int = 200) -> httpx.Response:
    request = httpx.Request("GET", f"http://sandbox{path}", headers={"Authorization": "Bearer t"})
    return httpx.Response(status, json=body, request=request, headers={"content-type": VENDOR_TYPE})


def test_the_checker_rejects_invented_fields_and_wrong_types(bol) -> None:
    good = {
        "shipmentId": "1",
        "shipmentReference": "",
        "order": {"orderId": "2"},
        "shipmentItems": [],
    }
    bol.checker.check(fake_response("/retailer/shipments/1", good))
    for bad in (
        {**good, "totalPrice": 12.5},  # not a field of Shipment
        {**good, "shipmentId": 1},  # ids are strings
        {k: v for k, v in good.items() if k != "order"},  # required
    ):
        with pytest.raises(Exception):  # noqa: B017 - openapi-core's validation errors
            bol.checker.check(fake_response("/retailer/shipments/1", bad))


def test_the_checker_rejects_paths_and_parameters_not_in_the_spec(bol) -> None:
    with pytest.raises(AssertionError, match="not in bol's spec"):
        bol.checker.check(fake_response("/retailer/nothing", {}))
    with pytest.raises(AssertionError, match="not in the spec"):
        bol.checker.check(fake_response("/retailer/orders?size=100", {}))


async def test_strict_shapes_need_no_documented_deviation(bol) -> None:
    """With the spec's shapes switched on, every answer validates as it is."""
    await bol.control.configure(empty_list_shape="array", problem_violations_always=True)
    before = sum(bol.checker.deviations.values())
    assert (await bol.api.get("/retailer/orders")).json() == {"orders": []}
    assert (await bol.api.get("/retailer/shipments")).json() == {"shipments": []}
    assert (await bol.api.get("/retailer/returns")).json() == {"returns": []}
    missing = await bol.api.get("/retailer/orders/1")
    assert missing.json()["violations"] == []
    assert sum(bol.checker.deviations.values()) == before

"""The sandbox against the vendor's OpenAPI file (spec/snelstart-b2b-v2.openapi.yaml).

Besides these tests, every API answer any test in this folder receives is validated against
the spec's schema for its status (conftest `Api.call`). Where the spec and the notes
disagree the sandbox follows the notes; those tests say so in their names.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal

import jsonschema
import pytest
from koppel_sandbox_snelstart import DEMO, models
from koppel_sandbox_snelstart.api import ENDPOINTS
from koppel_sandbox_snelstart.binding import Enum, ListOf, Model
from koppel_sandbox_snelstart.refdata import BTW_TARIEVEN

NS = "SnelStart.B2B.Api.V2.Models."


def schema(openapi, name: str) -> dict:
    return openapi.spec["components"]["schemas"][NS + name]


def enum_of(openapi, model: str, prop: str) -> tuple[str, ...]:
    definition = schema(openapi, model)["properties"][prop]
    return tuple(definition.get("items", definition)["enum"])


def test_every_operation_the_sandbox_serves_is_in_the_spec(openapi) -> None:
    paths = openapi.spec["paths"]
    for endpoint in ENDPOINTS:
        assert endpoint.method.lower() in paths.get(endpoint.path, {}), endpoint.operation


def test_scopes_are_the_ones_the_spec_lists_per_operation(openapi) -> None:
    for endpoint in ENDPOINTS:
        description = openapi.spec["paths"][endpoint.path][endpoint.method.lower()]["description"]
        listed = re.findall(r"- ([a-z]+(?::[a-z]+)?)", description.split("scopes benodigd")[1])
        assert tuple(listed) == endpoint.scopes, endpoint.operation


def test_the_spec_has_no_list_operation_on_verkoopboekingen(openapi) -> None:
    assert "get" not in openapi.spec["paths"]["/verkoopboekingen"]
    assert "/verkoopboekingen" not in {e.path for e in ENDPOINTS if e.method == "GET"}


def test_enums_are_exactly_the_specs(openapi) -> None:
    assert models.LINE_BTW_SOORTEN == enum_of(
        openapi, "VerkoopBoekingen.VerkoopBoekingRegelModel", "btwSoort"
    )
    assert models.BTW_REGEL_SOORTEN == enum_of(
        openapi, "VerkoopBoekingen.VerkoopBoekingBtwRegelModel", "btwSoort"
    )
    assert models.PROCES_STATUSSEN == enum_of(
        openapi, "Verkooporders.VerkoopOrderModel", "procesStatus"
    )
    assert models.BTW_INGAVE == enum_of(
        openapi, "Verkooporders.VerkoopOrderModel", "verkooporderBtwIngaveModel"
    )
    assert models.VERKOOPORDER_STATUSSEN == enum_of(
        openapi, "Verkooporders.VerkoopOrderModel", "verkoopOrderStatus"
    )
    assert models.AANMANINGSOORTEN == enum_of(
        openapi, "Relaties.RelatieWriteModel", "aanmaningsoort"
    )
    assert models.INCASSOSOORTEN == enum_of(openapi, "Relaties.RelatieWriteModel", "incassoSoort")
    assert models.REKENING_CODES == enum_of(openapi, "Grootboeken.GrootboekModel", "rekeningCode")
    # relatiesoort has no enum in the spec, only "Toegestane waarden: Klant Leverancier"
    description = schema(openapi, "Relaties.RelatieWriteModel")["properties"]["relatiesoort"]
    allowed = description["description"].split("Toegestane waarden:")[1].split()
    assert models.RELATIESOORTEN == tuple(allowed)


def _enums(model: Model) -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for name, kind in model.fields.items():
        kind = kind.item if isinstance(kind, ListOf) else kind
        if isinstance(kind, Enum):
            found.append((name, kind.values))
        elif isinstance(kind, Model):
            found += _enums(kind)
    return found


@pytest.mark.parametrize(
    ("model", "spec_name"),
    [
        (models.VERKOOPBOEKING, "VerkoopBoekingen.VerkoopBoekingModel"),
        (models.RELATIE_WRITE, "Relaties.RelatieWriteModel"),
        (models.VERKOOPORDER, "Verkooporders.VerkoopOrderModel"),
    ],
)
def test_binders_accept_exactly_the_spec_enums_and_known_properties(openapi, model, spec_name):
    properties = schema(openapi, spec_name)["properties"]
    assert set(model.fields) <= set(properties), set(model.fields) - set(properties)
    spec_enums = set()

    def collect(node):
        if isinstance(node, dict):
            if "enum" in node:
                spec_enums.add(tuple(node["enum"]))
            if "$ref" in node:
                collect(openapi.spec["components"]["schemas"][node["$ref"].split("/")[-1]])
            for key, value in node.items():
                if key != "$ref":
                    collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(schema(openapi, spec_name))
    for name, values in _enums(model):
        assert values in spec_enums, name


def test_emitted_reference_values_are_in_the_spec_enums(openapi) -> None:
    functions = set(enum_of(openapi, "Grootboeken.GrootboekModel", "grootboekfunctie"))
    kinds = set(enum_of(openapi, "Grootboeken.GrootboekModel", "btwSoort"))
    for account in DEMO.accounts.values():
        assert account.grootboekfunctie in functions, account.key
        assert set(account.btw_soorten) <= kinds, account.key
        assert account.vat_rate_code in (None, "SR", "RRH", "RRL", "PR", "SRR")  # portal /oss-btw
    tarief_kinds = set(enum_of(openapi, "BtwTarieven.BtwTariefModel", "btwSoort"))
    assert {t.btw_soort for t in BTW_TARIEVEN} == tarief_kinds


def test_the_response_validator_catches_a_wrong_body(openapi) -> None:
    _, operation = openapi.operation("GET", "/verkoopboekingen/x")
    body_schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    good = {
        "factuurnummer": "A",
        "klant": {"id": DEMO.main.relaties["hoekje"]},
        "boekingsregels": [],
    }
    openapi.validate(body_schema, good)
    for broken in (
        {**good, "btw": [{"btwSoort": "Hoog", "btwBedrag": 1}]},  # line enum in the VAT array
        {**good, "factuurbedrag": "80.96"},  # money must be a number in answers
        {k: v for k, v in good.items() if k != "klant"},  # required
        {**good, "factuurdatum": "2026-03-14T00:00:00Z"},  # SnelStart's dates are naive
    ):
        with pytest.raises(jsonschema.ValidationError):
            openapi.validate(body_schema, broken)


def test_money_strings_break_the_spec_schema_but_the_sandbox_accepts_them_per_notes(
    openapi, booking
) -> None:
    as_numbers = booking()
    openapi.check_request("POST", "/verkoopboekingen", as_numbers)
    as_strings = copy.deepcopy(as_numbers)
    as_strings["factuurbedrag"] = "80.96"
    with pytest.raises(jsonschema.ValidationError):
        openapi.check_request("POST", "/verkoopboekingen", as_strings)
    # (test_snelstart_bookings: the sandbox books strings and answers numbers, notes §3)


def _drop(body: dict, path: tuple[str | int, ...]) -> dict:
    body = copy.deepcopy(body)
    node = body
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return body


def _required_paths(openapi, spec_name: str, prefix: tuple = ()) -> list[tuple]:
    definition = schema(openapi, spec_name)
    found = [(*prefix, name) for name in definition.get("required", ())]
    for name, prop in definition.get("properties", {}).items():
        items = prop.get("items", {})
        if prop.get("type") == "array" and "$ref" in items:
            found += _required_paths(openapi, items["$ref"].split(NS)[-1], (*prefix, name, 0))
    return found


async def test_every_required_field_of_the_spec_is_enforced(api, openapi, booking) -> None:
    order = {
        "relatie": {"id": DEMO.main.relaties["hoekje"]},
        "datum": "2026-03-14T00:00:00",
        "regels": [{"artikel": {"id": DEMO.main.artikelen["kookboek"]}, "aantal": Decimal(1)}],
    }
    cases = [
        ("/verkoopboekingen", booking(), "VerkoopBoekingen.VerkoopBoekingModel"),
        ("/verkooporders", order, "Verkooporders.VerkoopOrderModel"),
    ]
    checked = []
    for path, body, spec_name in cases:
        openapi.check_request("POST", path, body)
        for required in _required_paths(openapi, spec_name):
            response = await api.call("POST", path, _drop(body, required))
            assert response.status_code == 400, (path, required, response.text)
            checked.append(required)
    assert ("boekingsregels", 0, "grootboek") in checked and ("datum",) in checked
    # and the untouched bodies are fine
    assert (await api.call("POST", "/verkoopboekingen", booking())).status_code == 201


async def test_bad_odata_is_400_per_notes_although_the_spec_lists_only_200_and_403(
    api, openapi
) -> None:
    _, operation = openapi.operation("GET", "/relaties")
    assert set(operation["responses"]) == {"200", "403"}
    response = await api.call("GET", "/relaties", params={"$filter": "Naam eq"})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "ALG-0104"


async def test_unauthenticated_answers_are_apim_bodies_the_spec_does_not_describe(
    sandbox, openapi
) -> None:
    response = await sandbox.http.get("/v2/grootboeken")
    _, operation = openapi.operation("GET", "/grootboeken")
    assert "401" not in operation["responses"]
    assert response.status_code == 401 and set(response.json()) == {"statusCode", "message"}

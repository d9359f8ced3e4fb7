"""The OData v3 filter parser and query options, without a server."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from koppel_sandbox_snelstart.errors import ApiError
from koppel_sandbox_snelstart.models import RELATIE_TYPE
from koppel_sandbox_snelstart.odata import apply_query, run_filter
from koppel_sandbox_snelstart.odata_syntax import (
    Binary,
    FilterError,
    Lambda,
    Literal,
    Path,
    parse_filter,
)

HOEKJE = {
    "id": "5830cec3-8929-4703-80b4-bd695402a7b0",
    "naam": "Café 't Hoekje V.O.F.",
    "email": "inkoop@hethoekje.nl",
    "relatiecode": 1042,
    "relatiesoort": ["Klant"],
    "modifiedOn": "2026-02-01T10:00:00.000",
    "kvkNummer": None,
    "vestigingsAdres": {
        "plaats": "Alkmaar",
        "land": {"id": "966ec522-0eaf-5166-9349-d2524139e24e"},
    },
}
JANSEN = {
    "id": "1fa7bcae-02d4-4cdd-8a01-4414bf45abef",
    "naam": "Groothandel Jansen B.V.",
    "email": None,
    "relatiecode": 7,
    "relatiesoort": ["Leverancier"],
    "modifiedOn": "2025-12-31T23:59:59.999",
    "kvkNummer": "12345678",
    "vestigingsAdres": {
        "plaats": "Utrecht",
        "land": {"id": "966ec522-0eaf-5166-9349-d2524139e24e"},
    },
}
ROWS = [HOEKJE, JANSEN]


def names(text: str) -> list[str]:
    return [row["naam"] for row in run_filter(ROWS, text, RELATIE_TYPE)]


def test_parser_builds_typed_literals_and_precedence_and_over_or() -> None:
    tree = parse_filter("Naam eq 'a' or Email eq 'b' and Relatiecode gt 3")
    assert isinstance(tree, Binary) and tree.op == "or"
    assert isinstance(tree.right, Binary) and tree.right.op == "and"
    guid = parse_filter("Id eq guid'5830CEC3-8929-4703-80B4-BD695402A7B0'")
    assert guid.right == Literal("5830cec3-8929-4703-80b4-bd695402a7b0", "guid")
    moment = parse_filter("ModifiedOn gt datetime'2017-07-16T23:59:59.999'")
    assert moment.right == Literal(datetime(2017, 7, 16, 23, 59, 59, 999000), "datetime")
    lam = parse_filter("Relatiesoort/any(r:r eq 'Klant')")
    assert isinstance(lam, Lambda) and lam.collection == Path(("Relatiesoort",))


def test_doubled_apostrophes_are_one_quote() -> None:
    assert parse_filter("Naam eq '''t Hoekje'").right == Literal("'t Hoekje", "string")
    assert names("Naam eq 'Café ''t Hoekje V.O.F.'") == ["Café 't Hoekje V.O.F."]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Email eq 'inkoop@hethoekje.nl'", ["Café 't Hoekje V.O.F."]),
        ("Email ne 'inkoop@hethoekje.nl'", ["Groothandel Jansen B.V."]),
        ("Relatiecode eq 1042", ["Café 't Hoekje V.O.F."]),
        ("Relatiecode gt 7", ["Café 't Hoekje V.O.F."]),
        ("Relatiecode ge 7", ["Café 't Hoekje V.O.F.", "Groothandel Jansen B.V."]),
        ("Relatiecode lt 1042", ["Groothandel Jansen B.V."]),
        ("Relatiecode le 7", ["Groothandel Jansen B.V."]),
        ("Relatiesoort/any(r:r eq 'Klant')", ["Café 't Hoekje V.O.F."]),
        ("Relatiesoort/all(r:r eq 'Leverancier')", ["Groothandel Jansen B.V."]),
        ("startswith(Naam,'Groot') eq true", ["Groothandel Jansen B.V."]),
        ("startswith(Naam,'Groot')", ["Groothandel Jansen B.V."]),
        ("substringof('Hoekje', Naam) eq true", ["Café 't Hoekje V.O.F."]),
        ("endswith(Naam, 'B.V.') eq false", ["Café 't Hoekje V.O.F."]),
        ("ModifiedOn gt datetime'2026-01-01T00:00:00'", ["Café 't Hoekje V.O.F."]),
        ("ModifiedOn le datetime'2025-12-31T23:59:59.999'", ["Groothandel Jansen B.V."]),
        ("Id eq guid'1FA7BCAE-02D4-4CDD-8A01-4414BF45ABEF'", ["Groothandel Jansen B.V."]),
        ("KvkNummer eq null", ["Café 't Hoekje V.O.F."]),
        ("KvkNummer ne null", ["Groothandel Jansen B.V."]),
        ("VestigingsAdres/Plaats eq 'Utrecht'", ["Groothandel Jansen B.V."]),
        ("not (Relatiecode eq 7)", ["Café 't Hoekje V.O.F."]),
        (
            "(Relatiecode eq 7 or Relatiecode eq 1042) and Email eq null",
            ["Groothandel Jansen B.V."],
        ),
        ("tolower(Naam) eq 'groothandel jansen b.v.'", ["Groothandel Jansen B.V."]),
        ("year(ModifiedOn) eq 2025", ["Groothandel Jansen B.V."]),
    ],
)
def test_filter_operators_functions_and_lambdas(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_lowercase_property_names_are_accepted_too() -> None:
    assert names("email eq 'inkoop@hethoekje.nl'") == ["Café 't Hoekje V.O.F."]
    assert names("relatiesoort/any(s:s eq 'Leverancier')") == ["Groothandel Jansen B.V."]


def test_unknown_property_is_a_400_with_the_aspnet_message() -> None:
    with pytest.raises(ApiError) as caught:
        run_filter(ROWS, "Nonsense eq 'x'", RELATIE_TYPE)
    assert caught.value.status == 400
    assert caught.value.body == {
        "Message": "The query specified in the URI is not valid. Could not find a property "
        "named 'Nonsense' on type 'SnelStart.B2B.Api.V2.Models.Relaties.RelatieModel'."
    }
    with pytest.raises(ApiError):  # "niet beschikbaar voor Uri velden"
        run_filter(ROWS, "Uri eq '/relaties/x'", RELATIE_TYPE)
    with pytest.raises(ApiError):
        run_filter([], "VestigingsAdres/Huisnummer eq 1", RELATIE_TYPE)


@pytest.mark.parametrize(
    "text",
    [
        "Naam eq",
        "Naam EQ 'x'",  # keywords are case-sensitive lowerCamelCase
        "Naam eq 'unterminated",
        "Naam eq 'a' and",
        "contains(Naam, 'x')",  # v4 function, not in SnelStart's v3 OData
        "Id eq guid'not-a-guid'",
        "ModifiedOn gt datetime'yesterday'",
        "Naam eq 5",  # a string compared with a number
        "Naam",  # not a boolean
        "Relatiesoort/any(r:r eq 'Klant'",
    ],
)
def test_malformed_filters_are_alg_0104(text: str) -> None:
    with pytest.raises(ApiError) as caught:
        run_filter(ROWS, text, RELATIE_TYPE)
    assert caught.value.status == 400
    assert [e["errorCode"] for e in caught.value.body] == ["ALG-0104"]
    assert caught.value.body[0]["message"] == "Ongeldig OData filter"


def test_parser_errors_are_filter_errors() -> None:
    with pytest.raises(FilterError):
        parse_filter("Naam eq 'x' )")


def test_top_skip_defaults_limits_and_select() -> None:
    rows = [{"id": str(i), "naam": f"r{i}", "relatiecode": i} for i in range(600)]
    assert len(apply_query(rows, {}, RELATIE_TYPE)) == 500  # default $top is the max
    page = apply_query(rows, {"$skip": "498", "$top": "5"}, RELATIE_TYPE)
    assert [r["relatiecode"] for r in page] == [498, 499, 500, 501, 502]
    assert apply_query(rows, {"$skip": "600"}, RELATIE_TYPE) == []
    for bad in ({"$top": "501"}, {"$top": "0"}, {"$top": "x"}, {"$skip": "-1"}):
        with pytest.raises(ApiError) as caught:
            apply_query(rows, bad, RELATIE_TYPE)
        assert caught.value.status == 400 and "Message" in caught.value.body
    selected = apply_query(rows[:2], {"$select": "Id, Naam"}, RELATIE_TYPE)
    assert selected == [{"id": "0", "naam": "r0"}, {"id": "1", "naam": "r1"}]


def test_orderby_sorts_and_rejects_unknown_properties() -> None:
    rows = [{"naam": "b", "relatiecode": 2}, {"naam": "a", "relatiecode": 9}]
    ordered = apply_query(rows, {"$orderby": "Naam"}, RELATIE_TYPE)
    assert [r["naam"] for r in ordered] == ["a", "b"]
    descending = apply_query(rows, {"$orderby": "Relatiecode desc"}, RELATIE_TYPE)
    assert [r["relatiecode"] for r in descending] == [9, 2]
    with pytest.raises(ApiError):
        apply_query(rows, {"$orderby": "Bogus"}, RELATIE_TYPE)


def test_numbers_compare_as_decimals_without_float_drift() -> None:
    rows = [{"naam": "x", "factuurkorting": Decimal("0.30")}]
    assert run_filter(rows, "Factuurkorting eq 0.3", RELATIE_TYPE) == rows
    assert run_filter(rows, "Factuurkorting gt 0.1m", RELATIE_TYPE) == rows

"""Concept sales orders (`POST /verkooporders`, notes §7): the second way to book an order.

SnelStart computes the VAT itself from each article's artikelomzetgroep
(`verkoopNederlandBtwSoort`); the API cannot create status `Factuur` or `Contantbon`.
What the notes leave open is marked UNCONFIRMED in the README: lines need an `artikel`,
`aantal` defaults to 1, `stuksprijs` and `omschrijving` to the article's, `Exclusief` is the
default VAT entry mode, VAT is rounded per VAT kind and `factuurkorting` is stored only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import round_cents

from .binding import bind_body, require
from .errors import ApiError, Problems
from .models import VERKOOPORDER
from .refdata import LAND_BY_ID, as_snelstart_datetime, btw_percentage
from .relaties import ref, render_address
from .state import Administration

NOT_CREATABLE = ("Contantbon", "Factuur")
_ADDRESS_CODES = {
    "straat": ("VOR-0006", 50),
    "postcode": ("VOR-0007", 25),
    "plaats": ("VOR-0008", 50),
    "contactpersoon": ("VOR-0009", 50),
}


def create_order(admin: Administration, body: Any, now: datetime) -> dict[str, Any]:
    bound = bind_body(VERKOOPORDER, body)
    require(bound, VERKOOPORDER, ("relatie", "datum"))
    status = bound.get("procesStatus") or "Order"
    if status in NOT_CREATABLE:
        raise ApiError.model_state(
            {"model.procesStatus": [f"{status}: Contantbon en Factuur zijn niet beschikbaar."]}
        )
    termijn = bound.get("krediettermijn")
    if termijn is not None and not 0 <= termijn <= 100:
        raise ApiError.model_state(
            {"model.krediettermijn": ["The field Krediettermijn must be between 0 and 100."]}
        )
    problems = Problems()
    if bound.get("id") is not None:
        problems.add("ALG-0100", bound["id"])
    if bound.get("nummer") is not None:
        problems.add("VOR-0005", str(bound["nummer"]))
    relatie = admin.relaties.get(bound["relatie"].get("id") or "")
    if relatie is None or "Klant" not in (relatie.get("relatiesoort") or []):
        problems.add("VOR-0002", bound["relatie"].get("id"))
    if len(bound.get("orderreferentie") or "") > 50:
        problems.add("VOR-0011", None)
    for name in ("afleveradres", "factuuradres"):
        _address(bound.get(name), problems)
    lines = [_line(admin, i, line, problems) for i, line in enumerate(bound.get("regels") or [])]
    problems.raise_if_any()
    assert relatie is not None
    mode = bound.get("verkooporderBtwIngaveModel") or "Exclusief"
    excl, incl = _totals(lines, mode, bound["datum"])
    nummer = admin.next_order_nummer
    admin.next_order_nummer += 1
    default_address = relatie.get("vestigingsAdres")
    return {
        **bound,
        "id": str(uuid.uuid4()),
        "relatie": relatie["id"],
        "procesStatus": status,
        "nummer": nummer,
        "modifiedOn": now,
        "krediettermijn": termijn if termijn is not None else relatie.get("krediettermijn") or 0,
        "afleveradres": _flat(bound.get("afleveradres")) or default_address,
        "factuuradres": _flat(bound.get("factuuradres")) or default_address,
        "verkooporderBtwIngaveModel": mode,
        "verkoopOrderStatus": bound.get("verkoopOrderStatus") or "InBehandeling",
        "regels": lines,
        "totaalExclusiefBtw": excl,
        "totaalInclusiefBtw": incl,
    }


def _flat(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if not address:
        return None
    return {**address, "land": (address.get("land") or {}).get("id")}


def _address(address: dict[str, Any] | None, problems: Problems) -> None:
    if not address:
        return
    for part, (code, limit) in _ADDRESS_CODES.items():
        if len(address.get(part) or "") > limit:
            problems.add(code, None)
    land = (address.get("land") or {}).get("id")
    if land is not None and land not in LAND_BY_ID:
        problems.add("VOR-0010", land)


def _line(
    admin: Administration, index: int, line: dict[str, Any] | None, problems: Problems
) -> dict[str, Any]:
    line = line or {}
    artikel = admin.artikelen.get((line.get("artikel") or {}).get("id") or "")
    if artikel is None:
        problems.add("ART-0001", f"regels[{index}].artikel")
        return {}
    aantal = line["aantal"] if line.get("aantal") is not None else Decimal(1)
    prijs = line["stuksprijs"] if line.get("stuksprijs") is not None else artikel["verkoopprijs"]
    korting = line.get("kortingsPercentage") or Decimal(0)
    btw_soort = admin.omzetgroepen[artikel["omzetgroep"]]["verkoopNederlandBtwSoort"]
    return {
        "artikel": artikel["id"],
        "omschrijving": line.get("omschrijving") or artikel["omschrijving"],
        "stuksprijs": prijs,
        "aantal": aantal,
        "kortingsPercentage": korting,
        "totaal": round_cents(aantal * prijs * (100 - korting) / 100),
        "btwSoort": btw_soort,
    }


def _totals(lines: list[dict[str, Any]], mode: str, when: datetime) -> tuple[Decimal, Decimal]:
    per_kind: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines:
        per_kind[line["btwSoort"]] += line["totaal"]
    excl = incl = Decimal(0)
    for kind, amount in per_kind.items():
        rate = (btw_percentage(kind, when.date()) or Decimal(0)) / 100
        if mode == "Inclusief":
            incl += amount
            excl += round_cents(amount / (1 + rate))
        else:
            excl += amount
            incl += amount + round_cents(amount * rate)
    return excl, incl


def render_order(order: dict[str, Any]) -> dict[str, Any]:
    oid = order["id"]
    return {
        "relatie": ref("relaties", order["relatie"]),
        "procesStatus": order["procesStatus"],
        "nummer": order["nummer"],
        "modifiedOn": order["modifiedOn"].isoformat(timespec="milliseconds"),
        "datum": as_snelstart_datetime(order["datum"]),
        "krediettermijn": order["krediettermijn"],
        "geblokkeerd": bool(order.get("geblokkeerd")),
        "omschrijving": order.get("omschrijving"),
        "betalingskenmerk": order.get("betalingskenmerk"),
        "incassomachtiging": None,
        "afleveradres": render_address(order["afleveradres"]),
        "factuuradres": render_address(order["factuuradres"]),
        "verkooporderBtwIngaveModel": order["verkooporderBtwIngaveModel"],
        "kostenplaats": None,
        "regels": [
            {
                "artikel": ref("artikelen", line["artikel"]),
                "omschrijving": line["omschrijving"],
                "stuksprijs": line["stuksprijs"],
                "aantal": line["aantal"],
                "kortingsPercentage": line["kortingsPercentage"],
                "totaal": line["totaal"],
                "extraRegelVelden": [],
            }
            for line in order["regels"]
        ],
        "memo": order.get("memo"),
        "orderreferentie": order.get("orderreferentie"),
        "factuurkorting": order.get("factuurkorting") or 0,
        "verkoopfactuur": None,
        "verkoopordersjabloon": None,
        "verkoopOrderStatus": order["verkoopOrderStatus"],
        "totaalExclusiefBtw": order["totaalExclusiefBtw"],
        "totaalInclusiefBtw": order["totaalInclusiefBtw"],
        "extraHoofdVelden": [],
        "id": oid,
        "uri": f"/verkooporders/{oid}",
    }

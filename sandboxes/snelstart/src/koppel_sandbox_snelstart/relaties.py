"""Relaties (customers and suppliers): the REL rules of notes §5.2 and the read model."""

from __future__ import annotations

import re
import uuid
from typing import Any

from .binding import Enum, bind_body
from .errors import ApiError, Problems
from .models import EMAIL_SETTINGS, RELATIE_MAX_LENGTHS, RELATIE_WRITE, RELATIESOORTEN
from .refdata import LAND_BY_ID, NEDERLAND
from .state import Administration

_EMAIL = re.compile(r"^[^@\s;]+@[^@\s;]+\.[^@\s;]+$")
_KVK = re.compile(r"^\d{8}$")
# Country-specific VAT number shapes (REL-0088); other countries: 2 letters + 2..12 alnum.
_VAT_SHAPES = {
    "NL": r"NL\d{9}B\d{2}",
    "BE": r"BE[01]\d{9}",
    "DE": r"DE\d{9}",
    "FR": r"FR[0-9A-Z]{2}\d{9}",
    "AT": r"ATU\d{8}",
    "LU": r"LU\d{8}",
    "ES": r"ES[0-9A-Z]\d{7}[0-9A-Z]",
    "IT": r"IT\d{11}",
    "DK": r"DK\d{8}",
    "EL": r"EL\d{9}",
    "GB": r"GB\d{9}(\d{3})?",
}
_SOORT = Enum("SnelStart.B2B.Api.V2.Models.Relaties.RelatiesoortModel", RELATIESOORTEN)
_ADDRESS_FIELDS = ("straat", "postcode", "plaats")
_ADDRESS_LIMITS = {"straat": 50, "postcode": 25, "plaats": 50, "contactpersoon": 50}
_VESTIGING_CODES = {"straat": "REL-0020", "postcode": "REL-0021", "plaats": "REL-0022"}
_VESTIGING_CODES["contactpersoon"] = "REL-0023"
_CORRESPONDENTIE_CODES = {"straat": "REL-0025", "postcode": "REL-0026", "plaats": "REL-0027"}
_CORRESPONDENTIE_CODES["contactpersoon"] = "REL-0028"


def ref(kind: str, ident: str | None) -> dict[str, str] | None:
    return None if ident is None else {"id": ident, "uri": f"/{kind}/{ident}"}


def land_of(record: dict[str, Any]) -> str:
    """ISO alpha-2 of the relatie's vestigingsadres; Nederland when none is given."""
    address = record.get("vestigingsAdres") or {}
    land = LAND_BY_ID.get(address.get("land") or "")
    return (land or NEDERLAND).landcode


def render_address(address: dict[str, Any] | None) -> dict[str, Any]:
    address = address or {}
    return {
        "contactpersoon": address.get("contactpersoon"),
        "straat": address.get("straat"),
        "postcode": address.get("postcode"),
        "plaats": address.get("plaats"),
        "land": ref("landen", address.get("land") or NEDERLAND.id),
    }


def render_relatie(record: dict[str, Any]) -> dict[str, Any]:
    rid = record["id"]
    out: dict[str, Any] = {
        "relatiesoort": list(record.get("relatiesoort") or []),
        "modifiedOn": record["modifiedOn"].isoformat(timespec="milliseconds"),
        "relatiecode": record["relatiecode"],
        "naam": record.get("naam"),
        "vestigingsAdres": render_address(record.get("vestigingsAdres")),
        "correspondentieAdres": render_address(record.get("correspondentieAdres")),
        "telefoon": record.get("telefoon"),
        "mobieleTelefoon": record.get("mobieleTelefoon"),
        "fax": record.get("fax"),
        "email": record.get("email"),
        "btwNummer": record.get("btwNummer"),
        "factuurkorting": record.get("factuurkorting") or 0,
        "krediettermijn": record.get("krediettermijn") or 0,
        "bankieren": bool(record.get("bankieren")),
        "nonactief": bool(record.get("nonactief")),
        "kredietLimiet": record.get("kredietLimiet") or 0,
        "memo": record.get("memo"),
        "kvkNummer": record.get("kvkNummer"),
        "oin": record.get("oin"),
        "websiteUrl": record.get("websiteUrl"),
        "aanmaningsoort": record.get("aanmaningsoort") or "Nee",
    }
    for name in EMAIL_SETTINGS:
        setting = record.get(name) or {}
        out[name] = {
            "shouldSend": bool(setting.get("shouldSend")),
            "email": setting.get("email"),
            "ccEmail": setting.get("ccEmail"),
        }
    out.update(
        {
            "ublBestandAlsBijlage": bool(record.get("ublBestandAlsBijlage")),
            "iban": record.get("iban"),
            "bic": record.get("bic"),
            "incassoSoort": record.get("incassoSoort") or "Geen",
            "factuurRelatie": ref("relaties", record.get("factuurRelatie")),
            "inkoopBoekingenUri": f"/relaties/{rid}/inkoopboekingen",
            "verkoopBoekingenUri": f"/relaties/{rid}/verkoopboekingen",
            "documents": [],
            "id": rid,
            "uri": f"/relaties/{rid}",
            "extraVeldenKlant": [],
        }
    )
    return out


def _flatten(bound: dict[str, Any]) -> dict[str, Any]:
    """Identifier models are stored as their id only."""
    flat = dict(bound)
    for name in ("vestigingsAdres", "correspondentieAdres"):
        if isinstance(flat.get(name), dict):
            address = dict(flat[name])
            address["land"] = (address.get("land") or {}).get("id")
            flat[name] = address
    if isinstance(flat.get("factuurRelatie"), dict):
        flat["factuurRelatie"] = flat["factuurRelatie"].get("id")
    return flat


def write_relatie(
    admin: Administration, body: Any, now: Any, existing: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Validate a RelatieWriteModel (POST when `existing` is None, else PUT) and return the
    record to store. Raises the 400s of notes §5.2."""
    bound = _flatten(bind_body(RELATIE_WRITE, body))
    soorten = _relatiesoort(bound, existing)
    _max_lengths(bound)
    problems = Problems()
    ident = bound.get("id")
    if existing is None and ident is not None:
        problems.add("REL-0063", ident)
    if existing is not None and ident is not None and ident != existing["id"]:
        problems.add("REL-0047", ident)
    if not soorten or "Geen" in soorten:
        problems.add("REL-0001", None)
    if "Eigen" in soorten:
        problems.add("REL-0048", None)
    if {"Klant", "Leverancier"} <= set(soorten):
        problems.add("REL-0065", None)
    if existing is not None and bound.get("relatiesoort") is not None:
        if set(soorten) != set(existing.get("relatiesoort") or []):
            problems.add("REL-0064", None)
    if not (bound.get("naam") or "").strip():
        problems.add("REL-0007", None)
    code = bound.get("relatiecode")
    if code is not None and any(
        r["relatiecode"] == code and r["id"] != (existing or {}).get("id")
        for r in admin.relaties.values()
    ):
        problems.add("REL-0008", str(code))
    _addresses(bound, problems)
    _contact(bound, problems)
    _btw_nummer(bound, problems)
    termijn = bound.get("krediettermijn")
    if termijn is not None and not -365 <= termijn <= 1000:
        problems.add("REL-0003", str(termijn))
    problems.raise_if_any()
    record = {key: value for key, value in bound.items() if key != "id"}
    record["relatiesoort"] = soorten
    record["id"] = existing["id"] if existing else _new_id()
    record["relatiecode"] = code or (existing or {}).get("relatiecode") or admin.next_relatiecode()
    record["modifiedOn"] = now
    return record


def _new_id() -> str:
    return str(uuid.uuid4())


def _relatiesoort(bound: dict[str, Any], existing: dict[str, Any] | None) -> list[str]:
    raw = bound.get("relatiesoort")
    if raw is None:
        return list((existing or {}).get("relatiesoort") or [])
    soorten: list[str] = []
    errors: dict[str, list[str]] = {}
    for i, value in enumerate(raw):
        text = (value or "").strip()
        if text.lower() in ("geen", "eigen"):  # refused below with their own REL codes
            soorten.append(text.capitalize())
            continue
        try:
            soorten.append(_SOORT.convert(text))
        except ValueError:
            errors[f"model.relatiesoort[{i}]"] = [
                f"Error converting value \"{value}\" to type '{_SOORT.name}'."
            ]
    if errors:
        raise ApiError.model_state(errors)
    return soorten


def _max_lengths(bound: dict[str, Any]) -> None:
    errors = {
        f"model.{name}": [
            f"The field {name[:1].upper() + name[1:]} must be a string with a maximum length "
            f"of {limit}."
        ]
        for name, limit in RELATIE_MAX_LENGTHS.items()
        if len(bound.get(name) or "") > limit
    }
    if errors:
        raise ApiError.model_state(errors)


def _addresses(bound: dict[str, Any], problems: Problems) -> None:
    for name, codes, land_code in (
        ("vestigingsAdres", _VESTIGING_CODES, "REL-0056"),
        ("correspondentieAdres", _CORRESPONDENTIE_CODES, "REL-0055"),
    ):
        address = bound.get(name)
        if not address:
            continue
        for part, limit in _ADDRESS_LIMITS.items():
            if len(address.get(part) or "") > limit:
                problems.add(codes[part], None)
        land = address.get("land")
        if land is not None and land not in LAND_BY_ID:
            problems.add(land_code, land)
        if name == "vestigingsAdres":
            filled = [bool((address.get(p) or "").strip()) for p in _ADDRESS_FIELDS]
            if (any(filled) or land is not None) and not all(filled):
                problems.add("REL-0060", None)


def _valid_emails(text: str) -> bool:
    return all(_EMAIL.match(part.strip()) for part in text.split(";") if part.strip())


def _contact(bound: dict[str, Any], problems: Problems) -> None:
    email = bound.get("email")
    if email:
        if len(email) > 250:
            problems.add("REL-0085", None)
        elif not _valid_emails(email):
            problems.add("REL-0084" if ";" in email else "REL-0061", email)
    if len(bound.get("telefoon") or "") > 25:
        problems.add("REL-0013", None)
    if len(bound.get("mobieleTelefoon") or "") > 25:
        problems.add("REL-0012", None)
    kvk = bound.get("kvkNummer")
    if kvk and not _KVK.match(kvk.strip()):
        problems.add("REL-0006", kvk)
    invoice_mail = bound.get("factuurEmailVersturen") or {}
    if invoice_mail.get("shouldSend") and not (invoice_mail.get("email") or "").strip():
        problems.add("REL-0032", None)
    elif invoice_mail.get("email") and not _valid_emails(invoice_mail["email"]):
        problems.add("REL-0033", invoice_mail["email"])


def _btw_nummer(bound: dict[str, Any], problems: Problems) -> None:
    number = bound.get("btwNummer")
    if not number:
        return
    if len(number) > 50:
        problems.add("REL-0057", None)
        return
    if len(number) < 2:
        problems.add("REL-0058", None)
        return
    if not number.isalnum():
        problems.add("REL-0059", number)
        return
    number = number.upper()
    prefix = number[:2]
    country = land_of(bound)
    if prefix != ("EL" if country == "GR" else country):
        problems.add("REL-0087", f"{prefix} != {country}")
        return
    shape = _VAT_SHAPES.get(prefix, r"[A-Z]{2}[0-9A-Z]{2,12}")
    if not re.fullmatch(shape, number):
        problems.add("REL-0088", number)

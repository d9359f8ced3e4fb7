"""What Octopus checks and stores for relations, buy/sell bookings, invoices
(invoicing module) and financial/divers bookings.

Status codes follow the notes: input errors are `400`, a closed journal is
`403`, and malformed dates, amounts and VAT codes are `500` (Octopus answers
some input errors with a 500, notes §6.3/§11.12).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from koppel_sandbox_kit import round_cents

from . import errors as E
from .errors import OctopusError, bad, malformed
from .state import (
    Bookyear,
    DocKey,
    Dossier,
    Journal,
    OctopusState,
    Record,
    Tamper,
    parse_timestamp,
)

HUNDRED = Decimal(100)
VAT_TYPES = {0, 1, 4, 6, 7, 8, 9, 10}
ISO2 = re.compile(r"^[A-Z]{2}$")


# ---------------------------------------------------------------------------- field helpers
def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def need_int(data: dict[str, Any], name: str, *, where: str = "") -> int:
    value = data.get(name)
    if value is None:
        raise bad(E.FIELD_MISSING, f"Veld {name} ontbreekt", f"{where}{name} is required")
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad(E.BAD_REQUEST, f"Veld {name} moet een geheel getal zijn", f"{where}{name}")
    return value


def key_id(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if not isinstance(value, dict):
        raise bad(E.FIELD_MISSING, f"Veld {name} ontbreekt", f'{name} must be {{"id": <int>}}')
    return need_int(value, "id", where=f"{name}.")


def money(value: Any, name: str, *, required: bool = True) -> Decimal:
    """A JSON number with at most 2 decimals; anything else is malformed (500)."""
    if value is None and not required:
        return Decimal(0)
    if not _is_number(value):
        raise malformed(f"{name}: expected a number, got {value!r}")
    amount = Decimal(value)
    if amount != round_cents(amount):
        raise malformed(f"{name}: more than 2 decimals ({amount})")
    return amount


def number(value: Any, name: str, default: Decimal | None = None) -> Decimal:
    if value is None and default is not None:
        return default
    if not _is_number(value):
        raise malformed(f"{name}: expected a number, got {value!r}")
    return Decimal(value)


def need_date(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise malformed(f"{name}: expected a YYYY-MM-DD date, got {value!r}")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise malformed(f"{name}: {value!r} is not a valid YYYY-MM-DD date") from None
    if len(value) != 10:
        raise malformed(f"{name}: {value!r} is not a valid YYYY-MM-DD date")
    return value


def unwrap(body: Any, wrapper: str, *, required: bool) -> tuple[dict[str, Any], list[Any]]:
    if not isinstance(body, dict):
        raise bad(E.BAD_REQUEST, "Ongeldige aanvraag", "body must be a JSON object")
    if wrapper in body:
        data = body[wrapper]
        if not isinstance(data, dict):
            raise bad(E.WRAPPER_MISSING, f"{wrapper} ontbreekt", f"{wrapper} must be an object")
        attachments = body.get("attachments") or []
        if not isinstance(attachments, list):
            raise bad(E.BAD_REQUEST, "Ongeldige bijlagen", "attachments must be an array")
        return data, attachments
    if required:
        raise bad(
            E.WRAPPER_MISSING,
            f"{wrapper} ontbreekt",
            f'request body must be {{"{wrapper}": {{...}}, "attachments": [...]}}',
        )
    return body, []


# ---------------------------------------------------------------------------- reference checks
def bookyear(dossier: Dossier, data: dict[str, Any]) -> Bookyear:
    by_id = key_id(data, "bookyearKey")
    found = dossier.bookyears.get(by_id)
    if found is None:
        raise bad(E.BOOKYEAR_UNKNOWN, "Boekjaar bestaat niet", f"bookyearKey.id {by_id}")
    return found


def journal(dossier: Dossier, by: Bookyear, data: dict[str, Any], types: str) -> Journal:
    key = data.get("journalKey")
    if not isinstance(key, str) or not key:
        raise bad(E.FIELD_MISSING, "Veld journalKey ontbreekt", "journalKey must be a string")
    found = dossier.journals.get((by.id, key))
    if found is None:
        raise bad(E.JOURNAL_UNKNOWN, "Dagboek bestaat niet", f"journal {key!r} in bookyear {by.id}")
    if key[0] not in types:
        raise bad(
            E.JOURNAL_UNKNOWN,
            "Dagboek van een verkeerd type",
            f"journal {key!r} is not of type {'/'.join(types)}",
        )
    if found.closed:
        raise OctopusError(403, E.JOURNAL_CLOSED, "Dagboek is afgesloten", f"journal {key!r}")
    return found


def period(dossier: Dossier, by: Bookyear, data: dict[str, Any]) -> int:
    if data.get("bookyearPeriodeNr") is None or data.get("exchangeRate") is None:
        # Omitting either gave a (misleading) period error on the real service.
        raise bad(
            E.PERIOD_CLOSED,
            "Periode niet toegankelijk",
            "bookyearPeriodeNr and exchangeRate are required",
        )
    nr = need_int(data, "bookyearPeriodeNr")
    if by.period(nr) is None or by.closed or nr in dossier.closed_periods:
        raise bad(
            E.PERIOD_CLOSED,
            "Periode niet toegankelijk",
            f"bookyearPeriodeNr {nr} (YYYYPP) is not an open period of bookyear {by.id}",
        )
    return nr


def document_key(dossier: Dossier, by: Bookyear, jr: Journal, data: dict[str, Any]) -> DocKey:
    nr = need_int(data, "documentSequenceNr")
    if nr <= 0:
        raise bad(E.BAD_REQUEST, "Ongeldig documentnummer", "documentSequenceNr must be > 0")
    return (by.id, jr.key, nr)


def relation(dossier: Dossier, ident: Any) -> Record:
    if not isinstance(ident, dict):
        raise bad(
            E.FIELD_MISSING,
            "Relatie ontbreekt",
            "relationIdentificationServiceData {relationKey:{id}} or {externalRelationId} required",
        )
    key = ident.get("relationKey")
    rid = key.get("id") if isinstance(key, dict) else None
    if rid:
        record = dossier.relations.get(rid) if isinstance(rid, int) else None
        if record is None:
            raise bad(E.RELATION_UNKNOWN, "Relatie bestaat niet", f"relationKey.id {rid}")
        return record
    ext = ident.get("externalRelationId")
    record = dossier.relation_by_external(ext) if isinstance(ext, int) else None
    if record is None:
        raise bad(E.RELATION_UNKNOWN, "Relatie bestaat niet", f"externalRelationId {ext!r}")
    return record


def relation_ident(record: Record) -> dict[str, Any]:
    return copy.deepcopy(record.data["relationIdentificationServiceData"])


def vat_code(dossier: Dossier, code: Any, sales: bool | None, where: str):
    spec = dossier.vat_codes.get(code) if isinstance(code, str) else None
    if spec is None:
        raise malformed(f"{where}vatCodeKey {code!r} is not a VAT code of this dossier")
    if sales is not None and (spec.kind != "purchase") != sales:
        raise bad(
            E.VAT_CODE_UNKNOWN,
            "Btw-code past niet bij het dagboek",
            f"{where}vatCodeKey {code!r} is a {'purchase' if sales else 'sales'} code",
        )
    return spec


def account(dossier: Dossier, value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value not in dossier.accounts:
        raise bad(
            E.ACCOUNT_UNKNOWN, "Grootboekrekening bestaat niet", f"{where}account {value!r} unknown"
        )
    return value


def _needs_vat_number(spec, rel: Record, where: str) -> None:
    if spec.kind == "icp" and not (rel.data.get("vatNr") or "").strip():
        raise bad(
            E.VAT_NUMBER_REQUIRED,
            "Btw-nummer van de klant is verplicht voor een intracommunautaire levering",
            f"{where}vatCodeKey {spec.code!r} needs a relation with vatNr",
        )


# ---------------------------------------------------------------------------- relations
RELATION_STRINGS = (
    "name",
    "firstName",
    "streetAndNr",
    "postalCode",
    "city",
    "country",
    "deliveryStreetAndNr",
    "deliveryPostalCode",
    "deliveryCity",
    "deliveryCountry",
    "email",
    "vatNr",
)


def upsert_relation(state: OctopusState, dossier: Dossier, body: Any) -> tuple[Record, bool]:
    if not isinstance(body, dict):
        raise bad(E.BAD_REQUEST, "Ongeldige relatie", "body must be one relation object")
    if "relationServiceData" in body and isinstance(body["relationServiceData"], dict):
        raise bad(E.RELATION_INVALID, "Ongeldige relatie", "relations are sent without wrapper")
    for name in RELATION_STRINGS:
        if name in body and body[name] is not None and not isinstance(body[name], str):
            raise bad(E.RELATION_INVALID, f"Veld {name} is ongeldig", f"{name} must be a string")
    for name in ("country", "postalCode", "deliveryCountry", "deliveryPostalCode"):
        if body.get(name) == "":
            raise bad(
                E.EMPTY_FIELD,
                f"Veld {name} mag niet leeg zijn",
                f"{name} is optional but must not be an empty string when sent; omit it",
            )
    for name in ("country", "deliveryCountry"):
        if body.get(name) is not None and not ISO2.match(body[name]):
            raise bad(E.RELATION_INVALID, "Ongeldige landcode", f"{name} must be ISO-2 uppercase")
    if "vatType" in body and body["vatType"] not in VAT_TYPES:
        raise bad(E.RELATION_INVALID, "Ongeldig btw-type", f"vatType must be one of {VAT_TYPES}")

    ident = body.get("relationIdentificationServiceData") or {}
    if not isinstance(ident, dict):
        raise bad(E.RELATION_INVALID, "Ongeldige relatie", "bad relationIdentificationServiceData")
    key = ident.get("relationKey")
    rid = key.get("id") if isinstance(key, dict) else None
    ext = ident.get("externalRelationId") or 0
    if not isinstance(ext, int) or isinstance(ext, bool) or ext < 0:
        raise bad(E.RELATION_INVALID, "Ongeldig extern relatienummer", "externalRelationId")

    existing: Record | None = None
    if rid:
        existing = dossier.relations.get(rid) if isinstance(rid, int) else None
        if existing is None:
            raise bad(E.RELATION_UNKNOWN, "Relatie bestaat niet", f"relationKey.id {rid}")
        other = dossier.relation_by_external(ext)
        if other is not None and other is not existing:
            raise bad(
                E.RELATION_INVALID,
                "Extern relatienummer is al in gebruik",
                f"externalRelationId {ext} belongs to another relation",
            )
    elif ext:
        existing = dossier.relation_by_external(ext)

    now = state.now()
    fields = {
        k: copy.deepcopy(v) for k, v in body.items() if k != "relationIdentificationServiceData"
    }
    if existing is None:
        if not (fields.get("name") or "").strip():
            raise bad(E.FIELD_MISSING, "Naam van de relatie ontbreekt", "name is required")
        rid = dossier.next_relation_id
        dossier.next_relation_id += 1
        data = {
            "relationIdentificationServiceData": {
                "relationKey": {"id": rid},
                "externalRelationId": ext,
            },
            "active": True,
        }
        data.update(fields)
        record = Record(data, now)
        dossier.relations[rid] = record
        return record, True
    if "name" in fields and not (fields.get("name") or "").strip():
        raise bad(E.FIELD_MISSING, "Naam van de relatie ontbreekt", "name must not be empty")
    existing.data.update(fields)
    if ext:
        existing.data["relationIdentificationServiceData"]["externalRelationId"] = ext
    existing.modified = now
    return existing, False


def _digits(value: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", value.upper())


def filter_relations(dossier: Dossier, query: dict[str, str]) -> list[dict[str, Any]]:
    def as_int(name: str) -> int | None:
        if name not in query:
            return None
        try:
            return int(query[name])
        except ValueError:
            raise bad(E.BAD_REQUEST, f"Ongeldige parameter {name}", query[name]) from None

    rid, ext = as_int("relationId"), as_int("extRelationId")
    name, vat_nr = query.get("name"), query.get("vatNr")
    out = []
    for record in dossier.relations.values():
        ident = record.data["relationIdentificationServiceData"]
        if rid is not None and ident["relationKey"]["id"] != rid:
            continue
        if ext is not None and ident["externalRelationId"] != ext:
            continue
        if name is not None and (record.data.get("name") or "").casefold() != name.casefold():
            continue
        if vat_nr is not None and _digits(record.data.get("vatNr") or "") != _digits(vat_nr):
            continue
        out.append(record.data)
    return out


# ---------------------------------------------------------------------------- buy/sell bookings
def validate_buysell(
    state: OctopusState, dossier: Dossier, data: dict[str, Any], *, new: bool
) -> tuple[DocKey, dict[str, Any]]:
    by = bookyear(dossier, data)
    jr = journal(dossier, by, data, "VA")
    key = document_key(dossier, by, jr, data)
    if new and dossier.doc_taken(key):
        raise bad(
            E.DUPLICATE_DOCUMENT,
            "Documentnummer bestaat al in dit dagboek",
            f"{jr.key} {by.description} documentSequenceNr {key[2]} already used",
        )
    if not new and key not in dossier.buysell:
        raise bad(E.DOCUMENT_UNKNOWN, "Boeking bestaat niet", f"no booking {key}")
    nr = period(dossier, by, data)
    rel = relation(dossier, data.get("relationIdentificationServiceData"))
    need_date(data, "documentDate")
    need_date(data, "expiryDate", required=False)
    amount = money(data.get("amount"), "amount")
    number(data.get("exchangeRate"), "exchangeRate")
    lines = data.get("bookingLines")
    if not isinstance(lines, list) or not lines:
        raise bad(
            E.FIELD_MISSING, "Boekingslijnen ontbreken", "bookingLines must be a non-empty array"
        )
    sales = jr.key.startswith("V")
    total = Decimal(0)
    stored_lines = []
    for i, line in enumerate(lines):
        where = f"bookingLines[{i}]."
        if not isinstance(line, dict):
            raise bad(E.BAD_REQUEST, "Ongeldige boekingslijn", f"{where} must be an object")
        account(dossier, line.get("accountKey"), where)
        spec = vat_code(dossier, line.get("vatCodeKey"), sales, where)
        base = money(line.get("baseAmount"), f"{where}baseAmount")
        vat = money(line.get("vatAmount"), f"{where}vatAmount")
        expected = round_cents(base * spec.percentage / HUNDRED)
        if abs(vat - expected) > state.vat_tolerance:
            raise bad(
                E.VAT_AMOUNT_WRONG,
                "Btw-bedrag klopt niet met de btw-code",
                f"{where}vatAmount {vat} for base {base} at {spec.percentage}% "
                f"(code {spec.code!r}) should be {expected}",
            )
        _needs_vat_number(spec, rel, where)
        total += base + vat
        stored = copy.deepcopy(line)
        stored.setdefault("vatRecupPercentage", Decimal("100.0"))
        stored.setdefault("comment", "")
        stored_lines.append(stored)
    expected_total = amount if amount >= 0 else -amount
    if abs(total - expected_total) > state.amount_tolerance:
        raise bad(
            E.UNBALANCED,
            "Boeking is niet in evenwicht",
            f"sum of lines (baseAmount + vatAmount) {total} != amount {amount}"
            " (credit note: negative amount, positive lines)",
        )
    stored = copy.deepcopy(data)
    stored["bookyearPeriodeNr"] = nr
    stored["relationIdentificationServiceData"] = relation_ident(rel)
    stored.setdefault("expiryDate", data["documentDate"])
    for name, default in (
        ("comment", ""),
        ("reference", ""),
        ("orderReference", ""),
        ("currencyCode", "EUR"),
        ("paymentMethod", 0),
    ):
        stored.setdefault(name, default)
    stored["bookingLines"] = stored_lines
    return key, stored


def tamper_buysell(dossier: Dossier, data: dict[str, Any], tamper: Tamper) -> None:
    delta = tamper.total_delta
    if delta:
        line = data["bookingLines"][0]
        line["baseAmount"] = Decimal(line["baseAmount"]) + delta
        amount = Decimal(data["amount"])
        data["amount"] = amount + delta if amount >= 0 else amount - delta
    _tamper_relation(dossier, data, tamper)


def _tamper_relation(dossier: Dossier, data: dict[str, Any], tamper: Tamper) -> None:
    if tamper.relation_id is None:
        return
    record = dossier.relations.get(tamper.relation_id)
    ext = record.data["relationIdentificationServiceData"]["externalRelationId"] if record else 0
    data["relationIdentificationServiceData"] = {
        "relationKey": {"id": tamper.relation_id},
        "externalRelationId": ext,
    }


def store(
    state: OctopusState,
    dossier: Dossier,
    table: dict[DocKey, Record],
    key: DocKey,
    data: dict[str, Any],
    *,
    booked: bool = True,
) -> None:
    now = state.now()
    table[key] = Record(data, now, booked)
    dossier.journals[(key[0], key[1])].modified = now


def take_tamper(state: OctopusState) -> Tamper | None:
    tamper, state.tamper = state.tamper, None
    return tamper


# ---------------------------------------------------------------------------- invoices
@dataclass(frozen=True)
class InvoiceLineTotals:
    net: Decimal
    vat: Decimal
    vat_code: str
    account: int


@dataclass(frozen=True)
class InvoiceTotals:
    lines: tuple[InvoiceLineTotals, ...]
    net: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.vat


def invoice_line_amounts(
    count: Decimal, unit_price: Decimal, discount_pct: Decimal, vat_pct: Decimal
) -> tuple[Decimal, Decimal]:
    """The sandbox's invoice rule, per line:
    net = round_half_up(count × unitPrice × (100 − discountPercentage) / 100)
    vat = round_half_up(net × basePercentage / 100)."""
    net = round_cents(count * unit_price * (HUNDRED - discount_pct) / HUNDRED)
    return net, round_cents(net * vat_pct / HUNDRED)


def invoice_totals(dossier: Dossier, data: dict[str, Any]) -> InvoiceTotals:
    lines = []
    for line in data["invoiceLines"]:
        spec = dossier.vat_codes[line["vatCodeKey"]]
        net, vat = invoice_line_amounts(
            Decimal(line["count"]),
            Decimal(line["unitPrice"]),
            Decimal(line.get("discountPercentage") or 0),
            spec.percentage,
        )
        lines.append(InvoiceLineTotals(net, vat, spec.code, line["bookingAccountNr"]))
    return InvoiceTotals(
        tuple(lines),
        sum((x.net for x in lines), Decimal(0)),
        sum((x.vat for x in lines), Decimal(0)),
    )


def require_invoice_module(dossier: Dossier) -> None:
    if not dossier.invoice_module:
        raise OctopusError(
            403,
            E.INVOICE_MODULE_OFF,
            "De facturatiemodule is niet actief voor dit dossier",
            "invoice module not enabled; book via /buysellbookings instead",
        )


def validate_invoice(
    state: OctopusState, dossier: Dossier, data: Any, *, new: bool
) -> tuple[DocKey, dict[str, Any]]:
    if not isinstance(data, dict):
        raise bad(E.BAD_REQUEST, "Ongeldige factuur", "body must be one invoice object")
    if "invoiceServiceData" in data:
        raise bad(E.BAD_REQUEST, "Ongeldige factuur", "invoices are sent without wrapper")
    by = bookyear(dossier, data)
    jr = journal(dossier, by, data, "V")
    key = document_key(dossier, by, jr, data)
    if new and dossier.doc_taken(key):
        raise bad(
            E.DUPLICATE_DOCUMENT,
            "Documentnummer bestaat al in dit dagboek",
            f"{jr.key} {by.description} documentSequenceNr {key[2]} already used",
        )
    if not new:
        existing = dossier.invoices.get(key)
        if existing is None:
            raise bad(E.DOCUMENT_UNKNOWN, "Factuur bestaat niet", f"no invoice {key}")
        if existing.booked:
            raise bad(E.ALREADY_BOOKED, "Factuur is al geboekt", f"invoice {key} is booked")
    nr = period(dossier, by, data)
    rel = relation(dossier, data.get("relationIdentificationServiceData"))
    need_date(data, "documentDate")
    need_date(data, "expiryDate", required=False)
    number(data.get("exchangeRate"), "exchangeRate")
    lines = data.get("invoiceLines")
    if not isinstance(lines, list) or not lines:
        raise bad(
            E.FIELD_MISSING, "Factuurlijnen ontbreken", "invoiceLines must be a non-empty array"
        )
    stored_lines = []
    for i, line in enumerate(lines):
        where = f"invoiceLines[{i}]."
        if not isinstance(line, dict):
            raise bad(E.BAD_REQUEST, "Ongeldige factuurlijn", f"{where} must be an object")
        spec = vat_code(dossier, line.get("vatCodeKey"), True, where)
        number(line.get("count"), f"{where}count")
        number(line.get("unitPrice"), f"{where}unitPrice")
        discount = number(line.get("discountPercentage"), f"{where}discountPercentage", Decimal(0))
        if not 0 <= discount <= 100:
            raise bad(E.BAD_REQUEST, "Ongeldige korting", f"{where}discountPercentage 0..100")
        stored = copy.deepcopy(line)
        if stored.get("bookingAccountNr") in (None, 0):
            stored["bookingAccountNr"] = spec.default_account
        account(dossier, stored["bookingAccountNr"], where)
        _needs_vat_number(spec, rel, where)
        stored.setdefault("description", "")
        stored.setdefault("discountPercentage", Decimal(0))
        stored_lines.append(stored)
    stored = copy.deepcopy(data)
    stored["bookyearPeriodeNr"] = nr
    stored["relationIdentificationServiceData"] = relation_ident(rel)
    stored.setdefault("expiryDate", data["documentDate"])
    for name, default in (
        ("comment", ""),
        ("reference", ""),
        ("orderReference", ""),
        ("currencyCode", "EUR"),
    ):
        stored.setdefault(name, default)
    stored["invoiceLines"] = stored_lines
    return key, stored


def tamper_invoice(dossier: Dossier, data: dict[str, Any], tamper: Tamper) -> None:
    if tamper.total_delta:
        zero = next(
            v for v in dossier.vat_codes.values() if v.kind == "domestic" and v.percentage == 0
        )
        data["invoiceLines"].append(
            {
                "description": "",
                "count": 1,
                "unitPrice": tamper.total_delta,
                "discountPercentage": Decimal(0),
                "vatCodeKey": zero.code,
                "bookingAccountNr": zero.default_account,
            }
        )
    _tamper_relation(dossier, data, tamper)


def book_invoices(state: OctopusState, dossier: Dossier, query: dict[str, str]) -> dict[str, Any]:
    require_invoice_module(dossier)
    by_id = _query_int(query, "bookyearId", "bookyearKeyId")
    journal_key = query.get("journalKey")
    to_nr = _query_int(query, "toDocumentSequenceNr")
    if by_id is None or not journal_key or to_nr is None:
        raise bad(
            E.FIELD_MISSING,
            "Parameters ontbreken",
            "bookyearId, journalKey and toDocumentSequenceNr are required",
        )
    by = dossier.bookyears.get(by_id)
    if by is None:
        raise bad(E.BOOKYEAR_UNKNOWN, "Boekjaar bestaat niet", f"bookyearId {by_id}")
    jr = journal(dossier, by, {"journalKey": journal_key}, "V")
    statuses = []
    for key in sorted(k for k, r in dossier.invoices.items() if not r.booked):
        if key[0] != by.id or key[1] != jr.key or key[2] > to_nr:
            continue
        record = dossier.invoices[key]
        data = record.data
        status = {
            "documentKey": {
                "bookyearKey": {"id": by.id},
                "journal": jr.key,
                "documentSequenceNr": key[2],
            }
        }
        pnr = data["bookyearPeriodeNr"]
        if by.closed or pnr in dossier.closed_periods:
            status.update(statusCode=E.PERIOD_CLOSED, comment="Periode niet toegankelijk")
            status["success"] = False
            statuses.append(status)
            continue
        totals = invoice_totals(dossier, data)
        store(state, dossier, dossier.buysell, key, _booking_from_invoice(data, totals))
        record.booked = True
        record.modified = state.now()
        status.update(statusCode=0, comment="", success=True)
        statuses.append(status)
    return {"success": all(s["success"] for s in statuses), "bookingStatusList": statuses}


def _booking_from_invoice(data: dict[str, Any], totals: InvoiceTotals) -> dict[str, Any]:
    """A booked invoice is a sales document in its journal; read it back through
    /buysellbookings like any other. A negative total (credit note) follows the
    buy/sell convention: negative amount, positive lines."""
    sign = Decimal(-1) if totals.total < 0 else Decimal(1)
    lines = [
        {
            "accountKey": t.account,
            "baseAmount": t.net * sign,
            "vatCodeKey": t.vat_code,
            "vatAmount": t.vat * sign,
            "vatRecupPercentage": Decimal("100.0"),
            "comment": line.get("description", ""),
        }
        for t, line in zip(totals.lines, data["invoiceLines"], strict=True)
    ]
    return {
        "bookyearKey": copy.deepcopy(data["bookyearKey"]),
        "journalKey": data["journalKey"],
        "documentSequenceNr": data["documentSequenceNr"],
        "relationIdentificationServiceData": copy.deepcopy(
            data["relationIdentificationServiceData"]
        ),
        "bookyearPeriodeNr": data["bookyearPeriodeNr"],
        "documentDate": data["documentDate"],
        "expiryDate": data["expiryDate"],
        "comment": data.get("comment", ""),
        "reference": data.get("reference", ""),
        "orderReference": data.get("orderReference", ""),
        "amount": totals.total,
        "currencyCode": data.get("currencyCode", "EUR"),
        "exchangeRate": data.get("exchangeRate"),
        "paymentMethod": 0,
        "bookingLines": lines,
    }


# ---------------------------------------------------------------------------- financial / divers
def validate_financial(
    state: OctopusState, dossier: Dossier, data: dict[str, Any], *, new: bool
) -> tuple[DocKey, dict[str, Any]]:
    by = bookyear(dossier, data)
    jr = journal(dossier, by, data, "FD")
    key = document_key(dossier, by, jr, data)
    if new and dossier.doc_taken(key):
        raise bad(
            E.DUPLICATE_DOCUMENT,
            "Documentnummer bestaat al in dit dagboek",
            f"{jr.key} {by.description} documentSequenceNr {key[2]} already used",
        )
    if not new and key not in dossier.financial:
        raise bad(E.DOCUMENT_UNKNOWN, "Boeking bestaat niet", f"no booking {key}")
    nr = period(dossier, by, data)
    need_date(data, "documentDate")
    number(data.get("exchangeRate"), "exchangeRate")
    lines = data.get("bookingLines")
    if not isinstance(lines, list) or not lines:
        raise bad(
            E.FIELD_MISSING, "Boekingslijnen ontbreken", "bookingLines must be a non-empty array"
        )
    total = Decimal(0)
    stored_lines = []
    for i, line in enumerate(lines):
        where = f"bookingLines[{i}]."
        if not isinstance(line, dict):
            raise bad(E.BAD_REQUEST, "Ongeldige boekingslijn", f"{where} must be an object")
        kind = line.get("type")
        stored = copy.deepcopy(line)
        if kind == "A":
            account(dossier, line.get("accountKey"), where)
        elif kind in ("C", "S"):
            rid = line.get("relationId")
            if rid:
                record = dossier.relations.get(rid) if isinstance(rid, int) else None
            else:
                ext = line.get("externalRelationId")
                record = dossier.relation_by_external(ext) if isinstance(ext, int) else None
            if record is None:
                raise bad(
                    E.RELATION_UNKNOWN,
                    "Relatie bestaat niet",
                    f"{where}relationId {rid!r} / "
                    f"externalRelationId {line.get('externalRelationId')!r}",
                )
            ident = record.data["relationIdentificationServiceData"]
            stored["relationId"] = ident["relationKey"]["id"]
        else:
            raise bad(
                E.BAD_REQUEST,
                "Ongeldig lijntype",
                f"{where}type must be 'A', 'C' or 'S', got {kind!r}",
            )
        total += money(line.get("amount"), f"{where}amount")
        stored.setdefault("reference", "")
        stored_lines.append(stored)
    if abs(total) > state.amount_tolerance:
        raise bad(
            E.UNBALANCED,
            "Boeking is niet in evenwicht",
            f"bookingLines amounts must sum to 0, they sum to {total}",
        )
    stored = copy.deepcopy(data)
    stored["bookyearPeriodeNr"] = nr
    stored["bookingLines"] = stored_lines
    return key, stored


def tamper_financial(dossier: Dossier, data: dict[str, Any], tamper: Tamper) -> None:
    lines = data["bookingLines"]
    if tamper.total_delta:
        lines[0]["amount"] = Decimal(lines[0]["amount"]) + tamper.total_delta
        if len(lines) > 1:
            lines[-1]["amount"] = Decimal(lines[-1]["amount"]) - tamper.total_delta
    if tamper.relation_id is not None:
        for line in lines:
            if line.get("type") in ("C", "S"):
                line["relationId"] = tamper.relation_id
                break


# ---------------------------------------------------------------------------- reading
def _query_int(query: dict[str, str], *names: str) -> int | None:
    for name in names:
        if name in query and query[name] != "":
            try:
                return int(query[name])
            except ValueError:
                raise bad(E.BAD_REQUEST, f"Ongeldige parameter {name}", query[name]) from None
    return None


def select(table: dict[DocKey, Record], query: dict[str, str]) -> list[dict[str, Any]]:
    """GET by key; both parameter spellings are accepted (notes §6.4):
    bookyearKeyId | bookyearId, documentSequenceNr | documentSeqNr."""
    by_id = _query_int(query, "bookyearKeyId", "bookyearId")
    nr = _query_int(query, "documentSequenceNr", "documentSeqNr")
    journal_key = query.get("journalKey") or None
    if by_id is not None and by_id != -1 and journal_key is not None and nr is not None:
        # One document by its full key (every read-back): a dict lookup, not a sort of
        # the whole table, so the sandbox does not slow down as a dossier fills up.
        record = table.get((by_id, journal_key, nr))
        return [] if record is None else [record.data]
    matches = [
        (key, record)
        for key, record in table.items()
        if (by_id is None or by_id == -1 or key[0] == by_id)
        and (journal_key is None or key[1] == journal_key)
        and (nr is None or key[2] == nr)
    ]
    return [record.data for _, record in sorted(matches, key=lambda kv: kv[0])]


def modified_since(query: dict[str, str]) -> datetime:
    raw = query.get("modifiedTimeStamp")
    if not raw:
        raise bad(
            E.FIELD_MISSING, "Parameter modifiedTimeStamp ontbreekt", "YYYY-MM-DD HH:MM:SS.mmm"
        )
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise bad(
            E.BAD_REQUEST, "Ongeldige modifiedTimeStamp", f"{raw!r}: use YYYY-MM-DD HH:MM:SS.mmm"
        ) from None


def select_modified(table: dict[DocKey, Record], query: dict[str, str]) -> list[dict[str, Any]]:
    since = modified_since(query)
    by_id = _query_int(query, "bookyearId", "bookyearKeyId")
    journal_key = query.get("journalKey") or None
    return [
        record.data
        for key, record in sorted(table.items())
        if record.modified >= since
        and (by_id is None or by_id == -1 or key[0] == by_id)
        and (journal_key is None or key[1] == journal_key)
    ]

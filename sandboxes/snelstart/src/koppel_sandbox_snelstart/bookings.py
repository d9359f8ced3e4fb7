"""Verkoopboekingen and the verkoopfactuur SnelStart derives from each (notes §6, §7).

`validate_booking` applies the consistency rules of §6.2 and the OSS conditions of §6.4 and
answers every problem it finds in one 400 array. The derived invoice is computed from its
booking on every read, so a PUT or DELETE of the booking can never leave it stale.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .binding import bind_body, require
from .errors import ApiError, Problems
from .models import VERKOOPBOEKING
from .refdata import (
    LAND_BY_ID,
    NEDERLAND,
    OSS_START,
    as_snelstart_datetime,
    btw_percentage,
    foreign_rate,
)
from .relaties import ref
from .state import Administration, Booking, Grootboek

CENT = Decimal("0.01")
DEFAULT_BETALINGSTERMIJN = 14  # when neither the booking nor the relatie gives one (UNCONFIRMED)
OSS_FUNCTION = "InstallatieTeleverkoopBinnenEUgeen"
EU_REVENUE_FUNCTIONS = ("VerkopenExportBinnenEU", "DienstverleningBinnenEU")
JOURNAL_FUNCTIONS = ("DagboekMemoriaal", "DagboekBalans")  # BOE-0075
NOT_FOR_SALES = ("Dagboek", "Btw", "Inkopen", "InkoopGlobalisatie")  # BOE-0061 (prefixes)
# line btwSoort -> VAT array btwSoort (the two enums of notes §12)
VAT_KINDS = (("Hoog", "VerkopenHoog"), ("Laag", "VerkopenLaag"), ("Overig", "VerkopenOverig"))


def validate_booking(
    admin: Administration, body: Any, today: datetime, existing: Booking | None = None
) -> dict[str, Any]:
    """Bind and check a VerkoopBoekingModel; return the normalised data to store."""
    bound = bind_body(VERKOOPBOEKING, body)
    termijn = bound.get("betalingstermijn")
    if termijn is not None and not 0 <= termijn <= 999:
        raise ApiError.model_state(
            {"model.betalingstermijn": ["The field Betalingstermijn must be between 0 and 999."]}
        )
    require(bound, VERKOOPBOEKING, ("klant",))
    for i, line in enumerate(bound.get("boekingsregels") or []):
        if line is not None:
            require(line, VERKOOPBOEKING, ("grootboek",), f".boekingsregels[{i}]")
    problems = Problems()
    _header(admin, bound, today, existing, problems)
    klant = _klant(admin, bound, problems)
    lines = [line for line in bound.get("boekingsregels") or [] if line is not None]
    if not lines:
        problems.add("BOE-0023", None)
    accounts = [_line(admin, i, line, problems) for i, line in enumerate(lines)]
    vat = [entry for entry in bound.get("btw") or [] if entry is not None]
    _vat_kinds(vat, lines, problems)
    _balance(bound, lines, vat, problems)
    when = bound.get("factuurdatum")
    if klant is not None:
        _eu_accounts(klant, accounts, problems)
    if klant is not None and when is not None and all(accounts):
        if _oss_applies(admin, klant, when):
            _oss(admin, klant, when, lines, accounts, vat, problems)  # type: ignore[arg-type]
        else:
            _dutch_vat(when, lines, vat, problems)
    problems.raise_if_any()
    return _normalise(bound, lines, vat, klant)


def _header(
    admin: Administration,
    bound: dict[str, Any],
    today: datetime,
    existing: Booking | None,
    problems: Problems,
) -> None:
    ident = bound.get("id")
    if existing is None and ident is not None:
        problems.add("ALG-0100", ident)
    if existing is not None and ident is not None and ident != existing.id:
        problems.add("ALG-0101", ident)
    number = bound.get("factuurnummer")
    if not (number or "").strip() or len(number) > 25:
        problems.add("BOE-0058", number)
    elif any(
        b.data["factuurnummer"] == number and (existing is None or b.id != existing.id)
        for b in admin.boekingen.values()
    ):
        problems.add("BOE-0021", number)
    if len(bound.get("omschrijving") or "") > 250:
        problems.add("BOE-0071", "omschrijving")
    if len(bound.get("boekstuk") or "") > 25:
        problems.add("BOE-0068", None)
    when = bound.get("factuurdatum")
    if when is None or when.year < 1900:
        problems.add("BOE-0070", None)
    elif when.year < today.year - 5:
        problems.add("BOE-0033", when.date().isoformat())
    elif admin.blocked_until is not None and when.date() <= admin.blocked_until:
        problems.add("BOE-0051" if admin.blocked_by_accountant else "BOE-0042", None)


def _klant(admin: Administration, bound: dict[str, Any], problems: Problems):
    klant_id = (bound.get("klant") or {}).get("id")
    klant = admin.relaties.get(klant_id or "")
    if klant is None or "Klant" not in (klant.get("relatiesoort") or []):
        problems.add("BOE-0060", klant_id)
        return None
    if klant.get("nonactief"):
        problems.add("BOE-0054", klant_id)
    return klant


def _line(
    admin: Administration, index: int, line: dict[str, Any], problems: Problems
) -> Grootboek | None:
    where = f"boekingsregels[{index}]"
    if len(line.get("omschrijving") or "") > 250:
        problems.add("BOE-0071", f"{where}.omschrijving")
    if not line.get("bedrag"):
        problems.add("BOE-0028", where)
    grootboek_id = (line.get("grootboek") or {}).get("id")
    if grootboek_id is None or grootboek_id == str(uuid.UUID(int=0)):
        problems.add("BOE-0089", where)
        return None
    account = admin.grootboeken.get(grootboek_id)
    if account is None:
        problems.add("BOE-0037", f"{where}.grootboek {grootboek_id}")
        return None
    if account.nonactief:
        problems.add("BOE-0008", f"{where}.grootboek {account.nummer}")
    if account.grootboekfunctie in JOURNAL_FUNCTIONS:
        problems.add("BOE-0075", f"{where}.grootboek {account.nummer}")
    elif account.grootboekfunctie.startswith(NOT_FOR_SALES):
        problems.add("BOE-0061", f"{where}.grootboek {account.nummer}")
    if line.get("btwSoort") not in account.btw_soorten:
        problems.add(
            "BOE-0082", f"{where}: {line.get('btwSoort')} not in {list(account.btw_soorten)}"
        )
    return account


def _vat_kinds(vat: list[dict[str, Any]], lines: list[dict[str, Any]], problems: Problems) -> None:
    kinds = {entry.get("btwSoort") for entry in vat}
    if any((kind or "").startswith("Inkopen") for kind in kinds):
        problems.add("BOE-0053", None)
    if None in kinds:
        problems.add("BOE-0069", "btw[].btwSoort missing")
    if "VerkopenVerlegd" in kinds:
        others = kinds - {"VerkopenVerlegd", "Geen", None}
        taxed_lines = {line.get("btwSoort") for line in lines} - {"Geen", None}
        if others or taxed_lines:
            problems.add("BOE-0062", None)


def _balance(
    bound: dict[str, Any], lines: list[dict[str, Any]], vat: list[dict[str, Any]], problems
) -> None:
    total = sum((line.get("bedrag") or Decimal(0) for line in lines), Decimal(0))
    total += sum((entry.get("btwBedrag") or Decimal(0) for entry in vat), Decimal(0))
    factuurbedrag = bound.get("factuurbedrag") or Decimal(0)
    if total != factuurbedrag:  # exact to the cent and beyond (notes §6.2.1)
        problems.add("BOE-0039", f"regels + btw = {total}, factuurbedrag = {factuurbedrag}")


def _vat_booked(vat: list[dict[str, Any]], kind: str) -> Decimal:
    return sum(
        (e.get("btwBedrag") or Decimal(0) for e in vat if e.get("btwSoort") == kind), Decimal(0)
    )


def _dutch_vat(
    when: datetime, lines: list[dict[str, Any]], vat: list[dict[str, Any]], problems: Problems
) -> None:
    """Per VAT kind: booked VAT within ±0.01 per line of rate × Σ lines (notes §6.2.3)."""
    for line_kind, vat_kind in VAT_KINDS:
        kind_lines = [line for line in lines if line.get("btwSoort") == line_kind]
        base = sum((line.get("bedrag") or Decimal(0) for line in kind_lines), Decimal(0))
        rate = btw_percentage(line_kind, when.date()) or Decimal(0)
        expected = base * rate / 100
        booked = _vat_booked(vat, vat_kind)
        if abs(booked - expected) > CENT * max(len(kind_lines), 1):
            problems.add("BOE-0069", f"{vat_kind}: {booked}, expected {expected:.4f}")
    if _vat_booked(vat, "Geen") != 0:
        problems.add("BOE-0069", "Geen: btwBedrag must be 0")


def _country(klant: dict[str, Any]):
    address = klant.get("vestigingsAdres") or {}
    return LAND_BY_ID.get(address.get("land") or "") or NEDERLAND


def _eu_accounts(
    klant: dict[str, Any], accounts: list[Grootboek | None], problems: Problems
) -> None:
    """BOE-0080: EU revenue accounts (ICP) only for a customer with a VAT number in another
    EU country (the exact condition is UNCONFIRMED, notes §6.2.5)."""
    land = _country(klant)
    allowed = bool(klant.get("btwNummer")) and land.eu and land != NEDERLAND
    for account in accounts:
        if account is not None and account.grootboekfunctie in EU_REVENUE_FUNCTIONS and not allowed:
            problems.add("BOE-0080", f"grootboek {account.nummer}")


def _oss_applies(admin: Administration, klant: dict[str, Any], when: datetime) -> bool:
    """Foreign VAT (notes §6.4): the flag is on, the date is on/after 2021-07-01 and the
    customer is an EU private customer (no VAT number, address in another EU country)."""
    land = _country(klant)
    private = not klant.get("btwNummer")
    return (
        admin.factureer_buitenlands_btw
        and when.date() >= OSS_START
        and private
        and land.eu
        and land != NEDERLAND
    )


def _oss(
    admin: Administration,
    klant: dict[str, Any],
    when: datetime,
    lines: list[dict[str, Any]],
    accounts: list[Grootboek],
    vat: list[dict[str, Any]],
    problems: Problems,
) -> None:
    if any(e.get("btwBedrag") for e in vat):
        problems.add("BOE-0069", "OSS: no Dutch VAT for an EU private customer")
    foreign = admin.buitenlandse_btw_grootboek
    country = _country(klant).landcode_iso
    expected, booked, oss_lines = Decimal(0), Decimal(0), 0
    for line, account in zip(lines, accounts, strict=True):
        amount = line.get("bedrag") or Decimal(0)
        if account.id == foreign:
            booked += amount
        elif account.grootboekfunctie == OSS_FUNCTION:
            rate = foreign_rate(country, account.vat_rate_code or "", when.date())
            if rate is None:
                problems.add("BOE-0069", f"OSS: no {account.vat_rate_code} rate for {country}")
                return
            expected += amount * rate / 100
            oss_lines += 1
        else:
            problems.add("BOE-0061", f"OSS: grootboek {account.nummer} is not an OSS account")
    if abs(booked - expected) > CENT * max(oss_lines, 1):
        problems.add("BOE-0069", f"OSS: foreign VAT {booked}, expected {expected:.4f}")


def _normalise(
    bound: dict[str, Any],
    lines: list[dict[str, Any]],
    vat: list[dict[str, Any]],
    klant: dict[str, Any] | None,
) -> dict[str, Any]:
    assert klant is not None
    termijn = bound.get("betalingstermijn")
    if termijn is None:
        termijn = klant.get("krediettermijn") or DEFAULT_BETALINGSTERMIJN
    return {
        "factuurnummer": bound["factuurnummer"],
        "klant": klant["id"],
        "factuurdatum": bound["factuurdatum"],
        "omschrijving": bound.get("omschrijving"),
        "factuurbedrag": bound.get("factuurbedrag") or Decimal(0),
        "betalingstermijn": termijn,
        "boekstuk": bound.get("boekstuk"),
        "markering": bool(bound.get("markering")),
        "eenmaligeIncassoMachtiging": bound.get("eenmaligeIncassoMachtiging"),
        "doorlopendeIncassoMachtiging": (bound.get("doorlopendeIncassoMachtiging") or {}).get("id"),
        "boekingsregels": [
            {
                "omschrijving": line.get("omschrijving"),
                "grootboek": line["grootboek"]["id"],
                "kostenplaats": (line.get("kostenplaats") or {}).get("id"),
                "bedrag": line["bedrag"],
                "btwSoort": line["btwSoort"],
            }
            for line in lines
        ],
        "btw": [
            {"btwSoort": e["btwSoort"], "btwBedrag": e.get("btwBedrag") or Decimal(0)} for e in vat
        ],
    }


# ---------------------------------------------------------------------------- views
def _incasso(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    datum = data.get("datum")
    return {
        "kenmerk": data.get("kenmerk"),
        "omschrijving": data.get("omschrijving"),
        "datum": as_snelstart_datetime(datum) if datum else None,
    }


def render_booking(booking: Booking) -> dict[str, Any]:
    data = booking.data
    return {
        "modifiedOn": booking.modified.isoformat(timespec="milliseconds"),
        "boekstuk": data["boekstuk"],
        "gewijzigdDoorAccountant": False,
        "markering": data["markering"],
        "factuurdatum": as_snelstart_datetime(data["factuurdatum"]),
        "factuurnummer": data["factuurnummer"],
        "klant": ref("relaties", data["klant"]),
        "omschrijving": data["omschrijving"],
        "factuurbedrag": data["factuurbedrag"],
        "betalingstermijn": data["betalingstermijn"],
        "eenmaligeIncassoMachtiging": _incasso(data["eenmaligeIncassoMachtiging"]),
        "doorlopendeIncassoMachtiging": ref(
            "incassomachtigingen", data["doorlopendeIncassoMachtiging"]
        ),
        "boekingsregels": [
            {
                "omschrijving": line["omschrijving"],
                "grootboek": ref("grootboeken", line["grootboek"]),
                "kostenplaats": ref("kostenplaatsen", line["kostenplaats"]),
                "bedrag": line["bedrag"],
                "btwSoort": line["btwSoort"],
            }
            for line in data["boekingsregels"]
        ],
        "btw": [dict(entry) for entry in data["btw"]],
        "documents": [],
        "id": booking.id,
        "uri": f"/verkoopboekingen/{booking.id}",
    }


def open_balance(booking: Booking) -> Decimal:
    return booking.data["factuurbedrag"] - sum(booking.payments, Decimal(0))


def render_factuur(booking: Booking) -> dict[str, Any]:
    data = booking.data
    due = data["factuurdatum"] + timedelta(days=data["betalingstermijn"])
    return {
        "verkoopBoeking": ref("verkoopboekingen", booking.id),
        "modifiedOn": max(booking.modified, booking.factuur_modified).isoformat(
            timespec="milliseconds"
        ),
        "openstaandSaldo": open_balance(booking),
        "factuurnummer": data["factuurnummer"],
        "vervalDatum": as_snelstart_datetime(due),
        "relatie": ref("relaties", data["klant"]),
        "factuurDatum": as_snelstart_datetime(data["factuurdatum"]),
        "factuurBedrag": data["factuurbedrag"],
        "verkoopOrders": [],
        "id": booking.factuur_id,
        "uri": f"/verkoopfacturen/{booking.factuur_id}",
    }

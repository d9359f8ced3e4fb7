"""Configuratie: a connection's settings as a form, and a submitted form back as settings.

The form is applied to the stored settings (`ConnectionSettings.model_dump`), so whatever
the page does not show is kept as it was; the contract model then validates the result.
Credentials typed into the form are encrypted here, at once, with the platform key; an
empty credential field keeps the stored ciphertext. They are never rendered back.

`check_against` compares the mapping with what the ledger and shop last reported on a
"Test verbinding" (accounts and VAT codes that exist, a VAT code's percentage matching the
rate, trigger statuses the shop knows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from koppel_chassis import Sealer, SecretBox
from koppel_contracts import ConnectionSettings, ShopOptions
from pydantic import ValidationError

from .amounts import rate_key

EMPTY_ROWS = 2

# Credentials each system is known to need, offered even when none is stored yet.
KNOWN_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "ccvshop": ("api_secret",),
    "prestashop": ("api_key",),
    "bol": ("client_secret",),
    "octopus": ("software_house_uuid", "username", "password"),
    "snelstart": ("koppelsleutel",),
    "asperion": (),
}

# Bol.com's VAT tables, when the contract has them (shop.options).
VAT_TABLES = tuple(
    name for name in ("vat_by_ean", "vat_by_offer_reference") if name in ShopOptions.model_fields
)


@dataclass(frozen=True)
class Problem:
    field: str
    key: str  # an i18n key
    params: Mapping[str, Any]


def credential_names(section: Mapping[str, Any]) -> list[str]:
    known = KNOWN_CREDENTIALS.get(str(section.get("system")), ())
    return sorted(set(known) | set(section.get("credentials") or {}))


def table_text(table: Mapping[str, Any]) -> str:
    return "\n".join(f"{key} = {value}" for key, value in sorted(table.items()))


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _optional(form: Mapping[str, Any], name: str) -> str | None:
    return _text(form, name) or None


def _flag(form: Mapping[str, Any], name: str) -> bool:
    return _text(form, name) in ("on", "true", "1", "yes")


def form_rows(form: Mapping[str, Any], prefix: str, names: tuple[str, ...]) -> list[dict[str, str]]:
    """The table rows of a submitted form (`vat-0-rate`, ...), without empty or removed ones.
    A row's select (a VAT row's treatment) always has a value, so it does not count."""
    rows = []
    index = 0
    typed = [n for n in names if n != "treatment"]
    while any(f"{prefix}-{index}-{n}" in form for n in names):
        row = {n: _text(form, f"{prefix}-{index}-{n}") for n in names}
        if not _flag(form, f"{prefix}-{index}-remove") and any(row[n] for n in typed):
            rows.append(row)
        index += 1
    return rows


def _table(text: str, where: str, problems: list[Problem]) -> dict[str, str]:
    table: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            problems.append(Problem(where, "settings.table_line", {"line": number}))
            continue
        table[key.strip()] = value.strip().rstrip("%").strip()
    return table


def apply_form(
    current: ConnectionSettings, form: Mapping[str, Any], box: SecretBox | Sealer
) -> tuple[ConnectionSettings | None, list[Problem]]:
    """The settings the form asks for, or the problems that stop them. Typed credentials
    are encrypted at once, each with its system's key (`Sealer`; one `SecretBox`: one key
    for all)."""
    sealer = box if isinstance(box, Sealer) else Sealer(box)
    data = current.model_dump(mode="json")
    problems: list[Problem] = []
    data["active"] = _flag(form, "active")
    data["merchant"].update(
        name=_text(form, "merchant.name"),
        contact_email=_text(form, "merchant.contact_email"),
        language=_text(form, "merchant.language") or "nl",
    )
    shop, ledger = data["shop"], data["ledger"]
    shop["base_url"] = _text(form, "shop.base_url")
    shop["account_id"] = _optional(form, "shop.account_id")
    options = shop.setdefault("options", {})
    triggers = (
        [str(v) for v in form.getlist("shop.trigger_statuses")] if hasattr(form, "getlist") else []
    )
    extra = [s.strip() for s in _text(form, "shop.trigger_statuses_text").split(",")]
    options["trigger_statuses"] = list(dict.fromkeys([*triggers, *[s for s in extra if s]]))
    options["default_vat_rate"] = _text(form, "shop.default_vat_rate")
    for name in VAT_TABLES:
        options[name] = _table(_text(form, f"shop.{name}"), f"shop.{name}", problems)

    ledger["base_url"] = _text(form, "ledger.base_url")
    ledger["dossier_id"] = _optional(form, "ledger.dossier_id")
    booking = ledger.setdefault("booking", {})
    booking["vat_accounts"] = [
        {
            "vat_rate": row["rate"].rstrip("%").strip(),
            "treatment": row["treatment"] or "domestic",
            "country_code": row["country"].upper() or None,
            "ledger_account": row["account"],
            "vat_code": row["code"],
        }
        for row in form_rows(form, "vat", ("rate", "treatment", "country", "account", "code"))
    ]
    booking["payment_method_debtors"] = {
        row["method"]: row["debtor"] for row in form_rows(form, "debtor", ("method", "debtor"))
    }
    booking["tolerance"] = _text(form, "booking.tolerance") or "0.05"
    booking["charge_vat"] = _text(form, "booking.charge_vat") or "as_charged"
    booking["debtor_matching"] = _flag(form, "booking.debtor_matching")
    booking["shipping_account"] = _optional(form, "booking.shipping_account")
    booking["oss_vat"] = _optional(form, "booking.oss_vat")
    _ledger_options(ledger, form)

    for side, section in (("shop", shop), ("ledger", ledger)):
        for name in credential_names(section):
            typed = form.get(f"{side}.credentials.{name}")
            if isinstance(typed, str) and typed != "":
                system = str(section.get("system") or "")
                section.setdefault("credentials", {})[name] = sealer.box(system).encrypt(typed)
    try:
        settings = ConnectionSettings.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"] if not str(p).startswith("function"))
            problems.append(Problem(where, "settings.invalid", {"message": item["msg"]}))
        return None, problems
    return (None, problems) if problems else (settings, problems)


def _ledger_options(ledger: dict[str, Any], form: Mapping[str, Any]) -> None:
    system = ledger.get("system")
    if system == "octopus":
        ledger["octopus"] = {
            **(ledger.get("octopus") or {}),
            "journal": _optional(form, "octopus.journal"),
            "booking_mode": _text(form, "octopus.booking_mode") or "invoice",
        }
    elif system == "snelstart":
        ledger["snelstart"] = {
            **(ledger.get("snelstart") or {}),
            "mode": _text(form, "snelstart.mode") or "booking",
            "year_in_invoice_number": _flag(form, "snelstart.year_in_invoice_number"),
            "payment_term_days": _text(form, "snelstart.payment_term_days") or "14",
        }
    elif system == "asperion":
        ledger["asperion"] = {
            **(ledger.get("asperion") or {}),
            "bookkeeping_email": _optional(form, "asperion.bookkeeping_email"),
            "delivery_time": _text(form, "asperion.delivery_time") or "06:00",
            "payment_term_days": _text(form, "asperion.payment_term_days") or "14",
            "year_in_invoice_number": _flag(form, "asperion.year_in_invoice_number"),
        }


def check_against(
    settings: ConnectionSettings,
    ledger_catalog: Mapping[str, Any] | None,
    shop_catalog: Mapping[str, Any] | None,
) -> list[Problem]:
    """The mapping against what the ledger and the shop last reported."""
    problems: list[Problem] = []
    booking = settings.ledger.booking
    if ledger_catalog:
        accounts = {c["code"] for c in ledger_catalog.get("accounts") or []}
        codes = {c["code"]: c for c in ledger_catalog.get("vat_codes") or []}
        for index, mapping in enumerate(booking.vat_accounts):
            where = f"vat-{index}"
            params = {"rate": rate_key(mapping.vat_rate)}
            if accounts and mapping.ledger_account not in accounts:
                problems.append(
                    Problem(
                        where,
                        "settings.unknown_account",
                        {**params, "account": mapping.ledger_account},
                    )
                )
            code = codes.get(mapping.vat_code)
            if codes and code is None:
                problems.append(
                    Problem(
                        where, "settings.unknown_vat_code", {**params, "code": mapping.vat_code}
                    )
                )
            elif code is not None and code.get("percentage") is not None:
                if _percent(code["percentage"]) != Decimal(mapping.vat_rate):
                    problems.append(
                        Problem(
                            where,
                            "settings.vat_code_rate",
                            {
                                **params,
                                "code": mapping.vat_code,
                                "percentage": rate_key(code["percentage"]),
                            },
                        )
                    )
        if accounts and booking.shipping_account and booking.shipping_account not in accounts:
            problems.append(
                Problem(
                    "booking.shipping_account",
                    "settings.unknown_account",
                    {"rate": "-", "account": booking.shipping_account},
                )
            )
    if shop_catalog:
        states = {c["code"] for c in shop_catalog.get("order_states") or []}
        for status in settings.shop.options.trigger_statuses:
            if states and status not in states:
                problems.append(
                    Problem("shop.trigger_statuses", "settings.unknown_status", {"status": status})
                )
    return problems


def _percent(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(-1)

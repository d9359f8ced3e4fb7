""" "Test verbinding" for Octopus: log in with the settings as entered (a client of its
own, so unsaved credentials never replace the connection's live session) and list the
dossier's VAT codes with their percentages and the ledger accounts of today's book year —
what the settings page offers to map each VAT rate to."""

from __future__ import annotations

from datetime import date
from typing import Any

from koppel_chassis.jsonnum import as_decimal
from koppel_contracts import Choice, ConnectionSettings
from koppel_ledger import LEDGER_ZONE, LedgerDescription, Refusal, utcnow

from .account import ClientRegistry, OctopusAccount
from .client import OctopusClient
from .reference import account_number, find_placement


def _name(described: Any) -> str:
    # Accounts carry their description per language; VAT codes a plain text.
    if isinstance(described, dict):
        return str(described.get("description_NL") or described.get("description_EN") or "")
    return str(described or "")


def vat_code_choices(codes: list[dict[str, Any]]) -> list[Choice]:
    return [
        Choice(
            code=str(code["code"]),
            name=_name(code.get("description")),
            percentage=as_decimal(code["basePercentage"])
            if code.get("basePercentage") is not None
            else None,
            flags=[str(code["type"])] if code.get("type") else [],
        )
        for code in codes
        if code.get("code") is not None
    ]


def account_choices(accounts: list[dict[str, Any]]) -> list[Choice]:
    return [
        Choice(code=str(account_number(a)), name=_name(a.get("description")))
        for a in accounts
        if account_number(a) >= 0
    ]


async def describe(clients: ClientRegistry, settings: ConnectionSettings) -> LedgerDescription:
    client = OctopusClient(
        OctopusAccount.from_settings(settings),
        clients.secrets,
        options=clients.options,
        transport=clients.transport,
    )
    try:
        codes = await client.vat_codes()
        today: date = utcnow().astimezone(LEDGER_ZONE).date()
        placement = find_placement(await client.bookyears(), today)
        if placement is None:
            raise Refusal("no_open_bookyear", date=today.isoformat())
        accounts = await client.accounts(placement.bookyear_id)
    finally:
        await client.aclose()
    return LedgerDescription(accounts=account_choices(accounts), vat_codes=vat_code_choices(codes))

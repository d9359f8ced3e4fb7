""" "Test verbinding" for SnelStart: fetch a token with the koppelsleutel as entered (a
client of its own, so unsaved credentials never replace the live session) and list the
administration's active ledger accounts and SnelStart's VAT kinds with today's
percentages — the "VAT codes" a rate is mapped to (Hoog, Laag, Overig, Geen). In order
mode the chosen articles are looked up too: they must exist and carry their VAT kind."""

from __future__ import annotations

from typing import Any

from koppel_contracts import Choice, ConnectionSettings, SnelStartMode
from koppel_ledger import LEDGER_ZONE, LedgerDescription, Refusal, utcnow

from .client import SnelStartClient
from .orders import OrderArticles
from .reference import VAT_KINDS, vat_percentage


def account_choices(rows: list[dict[str, Any]]) -> list[Choice]:
    return [
        Choice(
            code=str(row.get("nummer")),
            name=str(row.get("omschrijving") or ""),
            flags=[str(k) for k in row.get("btwSoort") or ()],
        )
        for row in rows
        if row.get("nummer") is not None and not row.get("nonactief")
    ]


def vat_kind_choices(rates: list[dict[str, Any]]) -> list[Choice]:
    today = utcnow().astimezone(LEDGER_ZONE).date()
    return [Choice(code=k, name=k, percentage=vat_percentage(rates, k, today)) for k in VAT_KINDS]


async def article_refusals(
    client: SnelStartClient, articles: OrderArticles, chosen: dict[str, str]
) -> list[Refusal]:
    refusals = []
    for kind, code in sorted(chosen.items()):
        found = await articles.by_code(client, code)
        if found is None:
            refusals.append(Refusal("order_article_unknown", article=code, kind=kind))
        elif found["kind"] != kind:
            refusals.append(
                Refusal("order_article_kind", article=code, kind=kind, has=found["kind"])
            )
    return refusals


async def describe(
    client: SnelStartClient, articles: OrderArticles, settings: ConnectionSettings
) -> LedgerDescription:
    options = settings.ledger.snelstart
    try:
        accounts = await client.ledger_accounts()
        rates = await client.vat_rates()
        refusals = []
        if options is not None and options.mode is SnelStartMode.ORDER:
            refusals = await article_refusals(client, articles, options.order_articles)
    finally:
        await client.aclose()
    return LedgerDescription(
        accounts=account_choices(accounts), vat_codes=vat_kind_choices(rates), refusals=refusals
    )

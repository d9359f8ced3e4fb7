"""The other mode: a concept **verkooporder** (notes §7) that a person turns into an invoice
in SnelStart, instead of a sales booking.

SnelStart computes an order's VAT itself, from each line's article (its artikelomzetgroep's
`verkoopNederlandBtwSoort`), so each plan line is written on the article the merchant chose
for its VAT kind (`ledger.snelstart.order_articles`, e.g. Hoog → "8000"), with the line's
amount excl. VAT as price — and the article's kind is checked against the rate before
anything is written. What SnelStart's own rounding makes of the VAT shows in the read-back
(total); the exact VAT per rate the shop charged is the booking mode's.

Exactly once: SnelStart numbers orders itself (`nummer` must be empty on create, VOR-0005);
Koppel's number goes into `orderreferentie` and is how an order is found again
(`GET /verkooporders?$filter=Orderreferentie eq '…'`). A cancellation or a changed order is
a credit order (the same lines with quantity -1): a concept cannot be edited through the
API, and a negative order leaves the trail an accountant expects. OSS cannot be expressed
(the article decides Dutch VAT): refused.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from koppel_chassis import PermanentError
from koppel_ledger import LedgerDoc, Op, ReadBack, RecordedPlan, Refusal

from .client import SnelStartClient, odata_text
from .mapping import order_number_of
from .reference import AdministrationCache, vat_percentage


class OrderArticles:
    """Article ids and VAT kinds by article code, per administration (cached)."""

    def __init__(self, reference: AdministrationCache) -> None:
        self.reference = reference

    async def by_code(self, client: SnelStartClient, code: str) -> dict[str, Any] | None:
        key = f"{client.account.administration_key}:artikel:{code}"

        async def fetch() -> dict[str, Any] | None:
            found = await client.call(
                "artikelen",
                "GET",
                "/artikelen",
                params={"$filter": f"Artikelcode eq {odata_text(code)}", "$top": 1},
            )
            if not found:
                return None
            group_ref = found[0].get("artikelOmzetgroep") or {}
            group = await client.call(
                "artikelomzetgroep", "GET", f"/artikelomzetgroepen/{group_ref.get('id')}"
            )
            return {"id": str(found[0]["id"]), "kind": str(group.get("verkoopNederlandBtwSoort"))}

        return await self.reference.load(key, fetch)

    async def for_kind(
        self,
        client: SnelStartClient,
        articles: dict[str, str],
        kind: str,
        rate: Decimal,
        day: date,
    ) -> str:
        """The article id for a VAT kind; refused when none is chosen, it does not exist, or
        its VAT kind is not the one the rate maps to."""
        code = articles.get(kind)
        if code is None:
            raise Refusal("order_article_missing", kind=kind, rate=_pct(rate))
        found = await self.by_code(client, code)
        if found is None:
            raise Refusal("order_article_unknown", article=code, kind=kind)
        if found["kind"] != kind:
            raise Refusal("order_article_kind", article=code, kind=kind, has=found["kind"])
        percentage = vat_percentage(await self.reference.vat_rates(client), kind, day)
        if percentage is None or percentage != rate:
            raise Refusal(
                "vat_code_rate_mismatch",
                vat_code=kind,
                rate=_pct(rate),
                percentage=_pct(percentage) if percentage is not None else "?",
            )
        return str(found["id"])


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def order_body(doc: LedgerDoc, article_ids: dict[str, str], *, description: str) -> dict[str, Any]:
    quantity = Decimal(-1) if doc.op == Op.CREDIT else Decimal(1)
    return {
        "relatie": {"id": doc.debtor.id},
        "datum": f"{doc.placement['day']}T00:00:00",
        "procesStatus": "Order",
        "verkooporderBtwIngaveModel": "Exclusief",
        "orderreferentie": doc.number,
        "omschrijving": description,
        "regels": [
            {
                "artikel": {"id": article_ids[line.vat_code]},
                "omschrijving": line.description[:200],
                "stuksprijs": line.amount_excl_vat,
                "aantal": quantity,
            }
            for line in doc.plan.bookable_lines()
            if line.amount_excl_vat
        ],
    }


def read_order(data: dict[str, Any]) -> ReadBack:
    total = Decimal(str(data.get("totaalInclusiefBtw") or 0))
    relatie = data.get("relatie") or {}
    return ReadBack(
        number=str(data.get("orderreferentie") or ""),
        reference=order_number_of(str(data.get("omschrijving") or "")),
        credit=total < 0,
        total_incl_vat=total,
        vat_per_rate=None,  # an order states totals, not VAT per kind
        debtor_id=str(relatie["id"]) if relatie.get("id") else None,
        ledger_id=str(data["id"]) if data.get("id") else None,
    )


class OrderMode:
    """create / read of a session in order mode."""

    def __init__(
        self, client: SnelStartClient, articles: OrderArticles, chosen: dict[str, str]
    ) -> None:
        self.client = client
        self.articles = articles
        self.chosen = chosen

    async def check(self, plan: RecordedPlan, day: date) -> dict[str, str]:
        if plan.treatment == "oss":
            raise Refusal("order_mode_no_oss", country=plan.country_code)
        ids: dict[str, str] = {}
        for line in plan.bookable_lines():
            if line.vat_code not in ids:
                ids[line.vat_code] = await self.articles.for_kind(
                    self.client, self.chosen, line.vat_code, line.vat_rate, day
                )
        return ids

    async def create(self, draft: LedgerDoc, description: str) -> LedgerDoc:
        ids = await self.check(draft.plan, date.fromisoformat(draft.placement["day"]))
        created = await self.client.call(
            "create_verkooporder",
            "POST",
            "/verkooporders",
            body=order_body(draft, ids, description=description),
            retry=False,
        )
        return replace(draft, ledger_id=str(created["id"]) if created else None)

    async def read(self, doc: LedgerDoc) -> ReadBack | None:
        if doc.ledger_id is not None:
            try:
                data = await self.client.call(
                    "get_verkooporder", "GET", f"/verkooporders/{doc.ledger_id}"
                )
            except PermanentError as error:
                if error.status == 404:
                    return None
                raise
            return read_order(data) if data else None
        found = await self.client.call(
            "verkooporders",
            "GET",
            "/verkooporders",
            params={"$filter": f"Orderreferentie eq {odata_text(doc.number)}"},
        )
        return read_order(found[0]) if found else None

"""What an administration knows that a booking needs: its ledger accounts (grootboeken,
by number), the Dutch VAT rates per kind through time (btwtarieven), whether it books
foreign VAT (companyInfo), and its country ids. Read once per `refresh` and kept in
memory, so a booking in steady state makes no reference call (SnelStart limits calls
per minute and hour). A miss forces one refresh before the order is refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from koppel_ledger import Clock, Refusal, utcnow

from .client import SnelStartClient

# The line-level VAT kinds of a verkoopboeking and the `btw` kinds they are remitted under
# (two different enums, notes §6.1, §12).
VAT_KINDS = ("Hoog", "Laag", "Overig", "Geen")
REMITTED_AS = {"Hoog": "VerkopenHoog", "Laag": "VerkopenLaag", "Overig": "VerkopenOverig"}


@dataclass(frozen=True)
class LedgerAccount:
    id: str
    number: str
    vat_kinds: tuple[str, ...]
    function: str
    inactive: bool


def _account(row: dict[str, Any]) -> LedgerAccount:
    return LedgerAccount(
        id=str(row["id"]),
        number=str(row.get("nummer")),
        vat_kinds=tuple(str(k) for k in row.get("btwSoort") or ()),
        function=str(row.get("grootboekfunctie") or ""),
        inactive=bool(row.get("nonactief")),
    )


def _day(value: Any) -> date | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value)).date()


def vat_percentage(rates: list[dict[str, Any]], kind: str, on: date) -> Decimal | None:
    """The percentage of a VAT kind on a day, from SnelStart's rate history."""
    if kind == "Geen":
        return Decimal(0)
    for row in rates:
        if str(row.get("btwSoort")) != kind:
            continue
        start, end = _day(row.get("datumVanaf")), _day(row.get("datumTotEnMet"))
        if (start is None or start <= on) and (end is None or on <= end):
            return Decimal(str(row.get("btwPercentage")))
    return None


class AdministrationCache:
    def __init__(self, refresh: timedelta, clock: Clock = utcnow) -> None:
        self.refresh = refresh
        self.clock = clock
        self._memory: dict[str, tuple[datetime, Any]] = {}

    async def load(self, key: str, fetch: Callable[[], Awaitable[Any]], force: bool = False) -> Any:
        now = self.clock()
        cached = self._memory.get(key)
        if cached is not None and not force and now - cached[0] < self.refresh:
            return cached[1]
        value = await fetch()
        self._memory[key] = (now, value)
        return value

    def forget(self, client: SnelStartClient) -> None:
        prefix = client.account.administration_key + ":"
        for key in [k for k in self._memory if k.startswith(prefix)]:
            del self._memory[key]

    def _key(self, client: SnelStartClient, what: str) -> str:
        return f"{client.account.administration_key}:{what}"

    async def accounts(
        self, client: SnelStartClient, force: bool = False
    ) -> dict[str, LedgerAccount]:
        async def fetch() -> dict[str, LedgerAccount]:
            return {a.number: a for a in map(_account, await client.ledger_accounts())}

        return await self.load(self._key(client, "grootboeken"), fetch, force)

    async def vat_rates(self, client: SnelStartClient, force: bool = False) -> list[dict[str, Any]]:
        return await self.load(self._key(client, "btwtarieven"), client.vat_rates, force)

    async def company(self, client: SnelStartClient, force: bool = False) -> dict[str, Any]:
        return await self.load(self._key(client, "companyInfo"), client.company_info, force)

    async def country_ids(self, client: SnelStartClient) -> dict[str, str]:
        async def fetch() -> dict[str, str]:
            return {
                str(row.get("landcode")).upper(): str(row["id"])
                for row in await client.countries()
                if row.get("landcode")
            }

        return await self.load(self._key(client, "landen"), fetch)

    async def account(
        self, client: SnelStartClient, number: str, *, rate: Decimal, kind: str
    ) -> LedgerAccount:
        """The active account `number` that allows VAT kind `kind`; refused otherwise, naming
        what is wrong (one forced refresh first: the merchant may just have added it)."""
        for force in (False, True):
            found = (await self.accounts(client, force)).get(number)
            if found is not None and not found.inactive and kind in found.vat_kinds:
                return found
        if found is None:
            raise Refusal("unknown_ledger_account", account=number, rate=_pct(rate))
        if found.inactive:
            raise Refusal("inactive_ledger_account", account=number, rate=_pct(rate))
        raise Refusal(
            "vat_kind_not_allowed",
            account=number,
            kind=kind,
            allowed=", ".join(found.vat_kinds) or "-",
            rate=_pct(rate),
        )

    async def check_vat_kind(
        self, client: SnelStartClient, kind: str, rate: Decimal, on: date
    ) -> None:
        """The mapped VAT kind must be a SnelStart kind whose percentage is the rate."""
        if kind not in VAT_KINDS:
            raise Refusal("unknown_vat_code", vat_code=kind, rate=_pct(rate))
        for force in (False, True):
            percentage = vat_percentage(await self.vat_rates(client, force), kind, on)
            if percentage is not None:
                break
        if percentage is None or percentage != rate:
            raise Refusal(
                "vat_code_rate_mismatch",
                vat_code=kind,
                rate=_pct(rate),
                percentage=_pct(percentage) if percentage is not None else "?",
            )


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")

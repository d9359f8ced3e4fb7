"""Octopus reference data — book years, journals, VAT codes, accounts — cached.

Octopus' daily quotas are per endpoint and low, so each list is fetched once per
`reference_refresh` per dossier (default 6 h), kept in memory and in MongoDB
(`reference`, as JSON text: Decimals and nested lists survive FerretDB that way),
so a restart or another replica does not fetch it again. A booking in steady
state therefore makes no reference call at all. A miss (an account the mapping
names but the cached list lacks) forces one refresh before the order is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from koppel_chassis import IndexSpec, purge_expired
from koppel_chassis.jsonnum import as_decimal, dumps, loads
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_ledger import Clock, Refusal, utcnow
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from .client import OctopusClient

COLLECTION = "reference"
NUMBERS = "document_numbers"
NUMBER_CLAIMS = "document_number_claims"
INDEXES = [IndexSpec(NUMBER_CLAIMS, [("at", 1)])]
# Draws before giving up (the order is then retried); each lost draw means another
# worker took that number at the same moment, so this is never reached in practice.
MAX_DRAWS = 100

Fetch = Callable[[], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Placement:
    """Where a document dated `day` goes: book year and `YYYYPP` period."""

    bookyear_id: int
    period: int


class ReferenceCache:
    def __init__(
        self, db: AsyncDatabase[Document], refresh: timedelta, clock: Clock = utcnow
    ) -> None:
        self.collection = db[COLLECTION]
        self.refresh = refresh
        self.clock = clock
        self._memory: dict[str, tuple[datetime, list[dict[str, Any]]]] = {}
        self.numbers = db[NUMBERS]
        self.claims = db[NUMBER_CLAIMS]
        # FerretDB applies find_one_and_update as a read then a write, so two replicas
        # can draw the same number from the counter (measured: 17 of 100,000 orders with
        # two replicas, each refused by Octopus three times and failed). A number is ours
        # only once its claim (unique `_id`) is inserted; a lost claim draws again. One
        # draw at a time per process keeps this process' own workers from racing; the
        # orders of a batch that ask meanwhile are served together by the next draw.
        self._numbers_lock = asyncio.Lock()
        self._asking: dict[str, list[asyncio.Future[int]]] = {}
        self._seeded: set[str] = set()  # counters known to exist: no read before the $inc

    async def _load(self, key: str, fetch: Fetch, *, force: bool = False) -> list[dict[str, Any]]:
        now = self.clock()
        if not force:
            cached = self._memory.get(key)
            if cached and now - cached[0] < self.refresh:
                return cached[1]
            doc = await self.collection.find_one({"_id": key})
            if doc and now - doc["fetched_at"] < self.refresh:
                data = loads(doc["json"])
                self._memory[key] = (doc["fetched_at"], data)
                return data
        data = await fetch()
        self._memory[key] = (now, data)
        # Two replicas storing the same list at once: one upsert inserts, the other may
        # meet its unique key (FerretDB); either copy is as good.
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.update_one(
                {"_id": key},
                {"$set": {"dossier": key.split(":", 1)[0], "json": dumps(data), "fetched_at": now}},
                upsert=True,
            )
        return data

    async def forget(self, client: OctopusClient) -> None:
        """Drop everything cached for the client's dossier (after Octopus refused our data)."""
        prefix = f"{client.account.dossier_key}:"
        for key in [k for k in self._memory if k.startswith(prefix)]:
            del self._memory[key]
        await self.collection.delete_many({"dossier": client.account.dossier_key})

    # --- the lists --------------------------------------------------------------

    async def bookyears(self, client: OctopusClient, force: bool = False) -> list[dict[str, Any]]:
        key = f"{client.account.dossier_key}:bookyears"
        return await self._load(key, client.bookyears, force=force)

    async def journals(
        self, client: OctopusClient, bookyear_id: int, force: bool = False
    ) -> list[dict[str, Any]]:
        key = f"{client.account.dossier_key}:journals:{bookyear_id}"
        return await self._load(key, lambda: client.journals(bookyear_id), force=force)

    async def vat_codes(self, client: OctopusClient, force: bool = False) -> list[dict[str, Any]]:
        key = f"{client.account.dossier_key}:vatcodes"
        return await self._load(key, client.vat_codes, force=force)

    async def accounts(
        self, client: OctopusClient, bookyear_id: int, force: bool = False
    ) -> list[dict[str, Any]]:
        key = f"{client.account.dossier_key}:accounts:{bookyear_id}"
        return await self._load(key, lambda: client.accounts(bookyear_id), force=force)

    async def next_document_nr(
        self, client: OctopusClient, bookyear_id: int, journal: str, *, resync: bool = False
    ) -> int:
        """The next free `documentSequenceNr` of a journal, without a call in steady state.

        Our own counter in MongoDB (`$inc`), seeded from the journal's
        `lastBookedDocumentNr`, and a claim per number so that no two workers anywhere
        get the same one. When Octopus says a number is taken (a document typed in by
        hand), `resync` re-reads the journal and jumps past it.
        """
        key = f"{client.account.dossier_key}:{bookyear_id}:{journal}"
        if resync:
            async with self._numbers_lock:
                [number] = await self._draw(client, bookyear_id, journal, 1, resync=True)
                return number
        mine: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._asking.setdefault(key, []).append(mine)
        async with self._numbers_lock:
            if not mine.done():  # else an earlier draw served us while we waited
                asking = self._asking.pop(key, [])
                try:
                    numbers = await self._draw(client, bookyear_id, journal, len(asking))
                except Exception as error:
                    for future in asking:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for future, number in zip(asking, numbers, strict=True):
                        if not future.done():  # a cancelled asker leaves a gap, as a crash does
                            future.set_result(number)
        return await mine

    async def _draw(
        self,
        client: OctopusClient,
        bookyear_id: int,
        journal: str,
        count: int,
        *,
        resync: bool = False,
    ) -> list[int]:
        """`count` numbers, each claimed: one `$inc` and one insert of claims for all."""
        key = f"{client.account.dossier_key}:{bookyear_id}:{journal}"
        seeded = key in self._seeded and not resync
        if not seeded and (resync or await self.numbers.find_one({"_id": key}) is None):
            journals = await self.journals(client, bookyear_id, force=resync)
            found = next((j for j in journals if _journal_key(j) == journal), {})
            last = int(found.get("lastBookedDocumentNr") or 0)
            with contextlib.suppress(DuplicateKeyError):  # another replica seeded it
                await self.numbers.update_one({"_id": key}, {"$max": {"last": last}}, upsert=True)
        self._seeded.add(key)
        numbers: list[int] = []
        for _ in range(MAX_DRAWS):
            wanted = count - len(numbers)
            doc = await self.numbers.find_one_and_update(
                {"_id": key}, {"$inc": {"last": wanted}}, return_document=ReturnDocument.AFTER
            )
            assert doc is not None
            drawn = list(range(int(doc["last"]) - wanted + 1, int(doc["last"]) + 1))
            now = self.clock()
            lost: set[int] = set()
            try:
                await self.claims.insert_many(
                    [{"_id": f"{key}|{n}", "at": now} for n in drawn], ordered=False
                )
            except BulkWriteError as error:
                for failed in error.details.get("writeErrors", []):
                    if failed.get("code") != 11000:
                        raise
                    lost.add(drawn[failed["index"]])  # drawn by another worker at once
            numbers += [n for n in drawn if n not in lost]
            if len(numbers) == count:
                return numbers
        raise RuntimeError(f"no free document number for {key} in {MAX_DRAWS} draws")

    async def purge_claims(self, older_than: timedelta) -> int:
        """Claims only matter while workers draw near the same number: old ones go."""
        return await purge_expired(self.claims, "at", self.clock(), older_than)

    # --- questions a booking asks --------------------------------------------------

    async def placement(self, client: OctopusClient, day: date) -> Placement:
        """The open book year and period of `day`; one forced refresh before refusing."""
        for force in (False, True):
            found = find_placement(await self.bookyears(client, force=force), day)
            if found is not None:
                return found
        raise Refusal("no_open_bookyear", date=day.isoformat())

    async def check(
        self,
        client: OctopusClient,
        bookyear_id: int,
        *,
        journal: str,
        journal_type: str,
        vat_codes: dict[str, Decimal],
        accounts: dict[int, Decimal],
    ) -> None:
        """Refuse before Octopus does: journal, VAT codes and accounts must exist.

        `vat_codes` / `accounts` map what the booking uses to the VAT rate it is for
        (for the merchant's message). A miss refreshes that list once first.
        """
        dossier = client.dossier_id
        for force in (False, True):
            journals = await self.journals(client, bookyear_id, force=force)
            found = next((j for j in journals if _journal_key(j) == journal), None)
            if found is not None or force:
                break
        if found is None or not journal.upper().startswith(journal_type):
            kind, kind_en, example = {
                "V": ("verkoop", "sales", "V1"),
                "F": ("financieel ", "financial", "F1"),
            }[journal_type]
            raise Refusal(
                "unknown_journal",
                journal=journal,
                bookyear=bookyear_id,
                kind=kind,
                kind_en=kind_en,
                example=example,
            )
        if found.get("closed"):
            raise Refusal("journal_closed", journal=journal)
        for code, rate in vat_codes.items():
            for force in (False, True):
                known = {str(v.get("code")): v for v in await self.vat_codes(client, force=force)}
                if code in known:
                    break
            else:
                raise Refusal("unknown_vat_code", vat_code=code, rate=rate, dossier=dossier)
            # A code whose percentage is not the rate would make Octopus compute other VAT
            # than the shop charged: a configuration error, refused before booking.
            percentage = known[code].get("basePercentage")
            if percentage is not None and as_decimal(percentage) != rate:
                raise Refusal(
                    "vat_code_rate_mismatch",
                    vat_code=code,
                    rate=_pct(rate),
                    percentage=_pct(as_decimal(percentage)),
                )
        for number, rate in accounts.items():
            for force in (False, True):
                known_accounts = {
                    account_number(a) for a in await self.accounts(client, bookyear_id, force)
                }
                if number in known_accounts:
                    break
            else:
                raise Refusal("unknown_ledger_account", account=number, rate=rate, dossier=dossier)


def find_placement(bookyears: list[dict[str, Any]], day: date) -> Placement | None:
    for year in bookyears:
        start, end = date.fromisoformat(year["startDate"]), date.fromisoformat(year["endDate"])
        if not start <= day <= end or year.get("closed"):
            continue
        bookyear_id = int(year["bookyearKey"]["id"])
        for period in year.get("periods") or []:
            if (
                date.fromisoformat(period["startDate"])
                <= day
                <= date.fromisoformat(period["endDate"])
            ):
                return Placement(bookyear_id, int(period["bookyearPeriod"]))
        return Placement(bookyear_id, day.year * 100 + day.month)
    return None


def _pct(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _journal_key(journal: dict[str, Any]) -> str:
    key = journal.get("journalKey")
    if isinstance(key, dict):
        key = key.get("id") or key.get("key")
    return str(key)


def account_number(account: dict[str, Any]) -> int:
    key = account.get("accountKey")
    if isinstance(key, dict):
        return int(key["id"])
    return int(key) if key is not None else -1

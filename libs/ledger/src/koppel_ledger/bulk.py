"""Group commit for MongoDB: writes that many tasks issue at about the same time go to the
server together, as one bulk write per collection and kind.

The runtime books the orders of a Kafka batch concurrently, one task per order, each
following the exactly-once protocol step by step (intent, create, record, finish). Every
step still awaits its own write, so the protocol is unchanged; what changes is that the
writes of all orders at the same step travel in one command. A write waits at most for
the bulk in flight: whatever arrives meanwhile goes in the next one, so a lone write (the
scheduler, one order at a time) costs what it did. Measured on FerretDB with 25 updates
per bulk: 0.04 ms of Python per update instead of 0.3, and a fifth less server time.

**FerretDB 1.24 limits the size of an update bulk.** Its `update` command keeps the read
of every statement open until the whole command is done, one SQLite connection each, out
of 100 per database: a command of ~100 updates waits forever for a connection of its
own (and `listDatabases` with it). Update bulks are therefore at most `MAX_UPDATES`
statements, one bulk at a time per collection. Its `update` also stops at the first
failing statement and reports no counts; PyMongo then raises (KeyError), which fails
every write of that bulk — safe, as a write that failed is retried by the protocol
(the same as a reply lost on the network).

Per statement the update command only reports a total of matched documents. When a bulk
matched fewer than it had statements (a guard did not hold: another worker owns the
order, a newer revision arrived), each statement's `applied` check decides from the
document as it is now (read by `_id`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from koppel_chassis.mongo import AsyncCollection, Document
from pymongo import DeleteOne, UpdateOne
from pymongo.errors import BulkWriteError, WriteError

MAX_UPDATES = 25  # see the module docstring: FerretDB's update command and its pool
MAX_OTHER = 200  # inserts and deletes close their reads per statement

Op = TypeVar("Op")
Result = TypeVar("Result")


class GroupCommit(Generic[Op, Result]):
    """Runs the operations submitted while a run is in flight together in the next run."""

    def __init__(
        self,
        run: Callable[[list[Op]], Awaitable[Sequence[Result | BaseException]]],
        *,
        max_ops: int,
    ) -> None:
        self._run = run
        self._max = max_ops
        self._pending: list[tuple[Op, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, op: Op) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((op, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        taken: list[tuple[Op, asyncio.Future[Result]]] = []
        try:
            # One pass of the event loop first: the tasks that are ready now add theirs.
            await asyncio.sleep(0)
            while self._pending:
                taken, self._pending = self._pending[: self._max], self._pending[self._max :]
                try:
                    results = await self._run([op for op, _ in taken])
                except Exception as error:
                    results = [error] * len(taken)
                for (_, future), result in zip(taken, results, strict=True):
                    if future.done():
                        continue  # its waiter was cancelled; the write happened anyway
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            # Cancelled (the service stops): nobody may wait forever for a write.
            for _, future in [*taken, *self._pending]:
                if not future.done():
                    future.cancel()
            self._pending = []


@dataclass(frozen=True)
class Update:
    """One update by `_id` (plus guards). `applied` tells from the document as it is now
    whether this update took effect; needed only when its bulk matched fewer than all."""

    filter: Document
    update: Document
    applied: Callable[[Document | None], bool] | None = None


class BulkWrites:
    """Guarded updates, inserts and deletes of one collection, each in group commit."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self._updates: GroupCommit[Update, bool] = GroupCommit(
            self._run_updates, max_ops=MAX_UPDATES
        )
        self._inserts: GroupCommit[Document, bool] = GroupCommit(
            self._run_inserts, max_ops=MAX_OTHER
        )
        self._deletes: GroupCommit[Document, None] = GroupCommit(
            self._run_deletes, max_ops=MAX_OTHER
        )

    async def update(
        self,
        filter: Document,
        update: Document,
        applied: Callable[[Document | None], bool] | None = None,
    ) -> bool:
        """True when the update matched its document (see `Update.applied`)."""
        return await self._updates.submit(Update(filter, update, applied))

    async def insert(self, doc: Document) -> bool:
        """False when a document with that `_id` exists (the unique insert lost)."""
        return await self._inserts.submit(doc)

    async def delete(self, filter: Document) -> None:
        await self._deletes.submit(filter)

    async def _run_updates(self, ops: list[Update]) -> list[bool]:
        result = await self.collection.bulk_write(
            [UpdateOne(op.filter, op.update) for op in ops], ordered=False
        )
        if result.matched_count == len(ops):
            return [True] * len(ops)
        # Some guard did not hold: which one, the documents tell.
        docs = await asyncio.gather(
            *(self.collection.find_one({"_id": op.filter["_id"]}) for op in ops)
        )
        return [op.applied(doc) if op.applied else False for op, doc in zip(ops, docs, strict=True)]

    async def _run_inserts(self, docs: list[Document]) -> list[bool | BaseException]:
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as error:
            outcome: list[bool | BaseException] = [True] * len(docs)
            for failed in error.details.get("writeErrors", []):
                index, code = failed["index"], failed.get("code")
                outcome[index] = False if code == 11000 else WriteError(failed.get("errmsg"), code)
            return outcome
        return [True] * len(docs)

    async def _run_deletes(self, filters: list[Document]) -> list[None]:
        await self.collection.bulk_write([DeleteOne(f) for f in filters], ordered=False)
        return [None] * len(filters)


def written_by(token: str) -> Callable[[Document | None], bool]:
    """`Update.applied` for writes that set `write_id` to `token`."""

    def applied(doc: Document | None) -> bool:
        return doc is not None and doc.get("write_id") == token

    return applied


def owned_by(owner: str) -> Callable[[Document | None], bool]:
    """`Update.applied` for a claim that wrote `owner` into `lock_owner`."""

    def applied(doc: Document | None) -> bool:
        return doc is not None and doc.get("lock_owner") == owner

    return applied

"""Which invoice requests were answered: once per request, decided by a unique insert.

bol keys an invoice request by its shipment (one request per shipment, bol.md §3.5). The
first replica to insert `_id` = connection + shipment id (`bol_invoice_answers`) uploads;
any other finds the document and leaves the request alone. The document then says what
became of the request: `claimed` (uploading), `uploaded` (with bol's process status id)
or `left` (no invoice can be written: the reason is kept, a person answers it).

A claim whose upload failed is released (deleted) at once, so the next round tries again;
one a crash cut short stays `claimed` and is released once it is older than the stale
time while bol still shows the request open (an upload that reached bol moves the
request on to INVOICE_UPLOADED).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

from koppel_chassis.mongo import AsyncDatabase, Document, DuplicateKeyError
from koppel_ingest.clock import aware

COLLECTION = "bol_invoice_answers"
State = Literal["claimed", "uploaded", "left"]


@dataclass(frozen=True)
class Answer:
    connection_id: str
    shipment_id: str
    order_ref: str
    state: State
    at: datetime
    number: str | None = None  # the invoice number (the ledger's document number)
    detail: str | None = None  # why it was left, or bol's process status id
    # The claim's own mark: a release takes back this claim only, never a newer one.
    claimed_at: datetime | None = None

    @property
    def id(self) -> str:
        return f"{self.connection_id}:{self.shipment_id}"


class AnswerStore(Protocol):
    async def get(self, connection_id: str, shipment_id: str) -> Answer | None: ...
    async def claim(self, answer: Answer) -> bool: ...
    async def settle(self, answer: Answer) -> None: ...
    async def release(self, answer: Answer) -> None: ...


class MemoryAnswers:
    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}

    async def get(self, connection_id: str, shipment_id: str) -> Answer | None:
        return self.answers.get(f"{connection_id}:{shipment_id}")

    async def claim(self, answer: Answer) -> bool:
        if answer.id in self.answers:
            return False
        self.answers[answer.id] = replace(answer, claimed_at=answer.at)
        return True

    async def settle(self, answer: Answer) -> None:
        self.answers[answer.id] = answer

    async def release(self, answer: Answer) -> None:
        known = self.answers.get(answer.id)
        if known is not None and known.state == "claimed" and known.claimed_at == answer.claimed_at:
            del self.answers[answer.id]


def _doc(answer: Answer) -> Document:
    return {"_id": answer.id, **asdict(answer)}


class MongoAnswers:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db[COLLECTION]

    async def get(self, connection_id: str, shipment_id: str) -> Answer | None:
        doc = await self.collection.find_one({"_id": f"{connection_id}:{shipment_id}"})
        if doc is None:
            return None
        doc.pop("_id")
        doc["at"] = aware(doc["at"])
        if doc.get("claimed_at") is not None:
            doc["claimed_at"] = aware(doc["claimed_at"])
        return Answer(**doc)

    async def claim(self, answer: Answer) -> bool:
        try:
            await self.collection.insert_one(_doc(replace(answer, claimed_at=answer.at)))
        except DuplicateKeyError:
            return False
        return True

    async def settle(self, answer: Answer) -> None:
        # Only the claim's holder settles it.
        await self.collection.replace_one({"_id": answer.id}, _doc(answer), upsert=True)

    async def release(self, answer: Answer) -> None:
        await self.collection.delete_one(
            {"_id": answer.id, "state": "claimed", "claimed_at": answer.claimed_at}
        )

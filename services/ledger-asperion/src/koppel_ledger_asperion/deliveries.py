"""Collecting a connection's documents into one sealed delivery — every document in exactly
one delivery, whatever crashes or replays in between.

Three unique inserts decide everything (FerretDB's conditional updates are not exclusive):
1. a document is created once (`asperion_documents`, with a pending marker first);
2. a document is *claimed* for delivery D (`asperion_placements`, `_id` = the document's):
   it can never be claimed for a second delivery;
3. delivery D is *sealed* (`asperion_deliveries`, `_id` = D) naming the documents it holds
   and the GridFS file with their bytes.

A pass (`collect`) first sorts out what earlier passes left: a claim for a delivery that
was never sealed (a crash before the seal) is resumed under that same delivery id; a
claim for a sealed delivery that does not list the document (a sealer that lost the race
for the seal and died before withdrawing it) is withdrawn, so the document goes into the
next delivery; a document in a sealed delivery whose marker is still there (a crash after
the seal) is finished. Then pending documents are claimed for the delivery, the ZIP is
stored and the seal inserted. A sealer that loses the seal to another withdraws its own
claims that the winner does not list. The caller holds the connection's lease, so this
normally runs alone; the inserts keep it right when it does not.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from koppel_ledger import LEDGER_ZONE, utcnow

from .archive import Delivery, DeliveryArchive, delivery_id
from .documents import DocumentStore, StoredDocument

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
OnSealed = Callable[[Delivery], Awaitable[None]]

_WORD = {"nl": ("document", "documenten"), "en": ("document", "documents")}


def slug(text: str) -> str:
    """'Koffie & Co.' -> 'koffie-co': a file name part anyone can read and type."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60]


def zip_name(shop: str, day: date, seq: int, count: int, language: str = "nl") -> str:
    """`koffie-co_2026-11-20_12-documenten.zip`; the day's second one `..._2026-11-20-2_...`."""
    one, many = _WORD.get(language, _WORD["nl"])
    when = day.isoformat() if seq == 1 else f"{day.isoformat()}-{seq}"
    return f"{slug(shop) or 'koppel'}_{when}_{count}-{one if count == 1 else many}.zip"


def entry_name(document: StoredDocument) -> str:
    """`factuur-WEB-1001.xml`, `creditnota-WEB-1001-C.xml` (kind and number are unique)."""
    kind = "creditnota" if document.credit else "factuur"
    return f"{kind}-{re.sub(r'[^A-Za-z0-9._-]+', '_', document.number)}.xml"


def build_zip(documents: list[StoredDocument], day: date) -> bytes:
    """The same documents give the same bytes (fixed order, times and attributes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for document in documents:
            info = zipfile.ZipInfo(
                entry_name(document), date_time=(day.year, day.month, day.day, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, document.xml)
    return buffer.getvalue()


def _parse_id(delivery: str) -> tuple[date, int]:
    _, day, seq = delivery.rsplit("/", 2)
    return date.fromisoformat(day), int(seq)


class Collector:
    def __init__(
        self,
        store: DocumentStore,
        archive: DeliveryArchive,
        *,
        on_sealed: OnSealed,
        hold_timeout: timedelta,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.archive = archive
        self.on_sealed = on_sealed  # must make the follow-ups durable before returning
        self.hold_timeout = hold_timeout
        self.clock = clock

    async def collect(
        self, connection_id: str, *, shop: str, language: str, trigger: str
    ) -> list[Delivery]:
        """Seal what is pending into a delivery (and finish what crashes left): the
        deliveries sealed by this pass, oldest first."""
        candidates, open_claims = await self._sort_out(connection_id)
        sealed: list[Delivery] = []
        today = self.clock().astimezone(LEDGER_ZONE).date()
        for number, (delivery, claimed) in enumerate(sorted(open_claims.items())):
            # A crashed attempt's delivery id is resumed; pending documents join the first.
            extra = candidates if number == 0 else []
            day, seq = _parse_id(delivery)
            made = await self._seal(
                connection_id,
                day,
                seq,
                claimed,
                extra,
                shop=shop,
                language=language,
                trigger=trigger,
            )
            sealed.extend(made)
            if number == 0:
                candidates = []
        if candidates:
            seq = 1
            while await self.archive.exists(delivery_id(connection_id, today, seq)):
                seq += 1
            sealed.extend(
                await self._seal(
                    connection_id,
                    today,
                    seq,
                    [],
                    candidates,
                    shop=shop,
                    language=language,
                    trigger=trigger,
                )
            )
        return sealed

    async def _sort_out(self, connection_id: str) -> tuple[list[str], dict[str, list[str]]]:
        """Pending documents to claim, and claims of deliveries never sealed."""
        candidates: list[str] = []
        open_claims: dict[str, list[str]] = {}
        seals: dict[str, Delivery | None] = {}
        finished: dict[str, Delivery] = {}
        for doc_id in await self.store.pending_of(connection_id):
            if not await self.store.exists(doc_id):
                continue  # the marker of a create that has not happened (yet)
            placement = await self.store.placement(doc_id)
            if placement is None:
                candidates.append(doc_id)
                continue
            if placement.delivery_id is None:  # a replacement being written
                if await self.store.drop_stale_hold(placement, self.hold_timeout):
                    log.warning("stale replace hold dropped", extra={"document": doc_id})
                    candidates.append(doc_id)
                continue
            delivery = placement.delivery_id
            if delivery not in seals:
                seals[delivery] = await self.archive.get(delivery)
            seal = seals[delivery]
            if seal is None:
                open_claims.setdefault(delivery, []).append(doc_id)
            elif doc_id in seal.documents:
                finished[delivery] = seal
            else:
                log.warning(
                    "withdrawing a claim the sealed delivery does not list",
                    extra={"document": doc_id, "delivery": delivery},
                )
                await self.store.unclaim(doc_id, delivery)
                candidates.append(doc_id)
        for seal in finished.values():
            log.info("finishing a delivery sealed before a crash", extra={"delivery": seal.id})
            await self._finish(seal)
        return candidates, open_claims

    async def _seal(
        self,
        connection_id: str,
        day: date,
        seq: int,
        claimed: list[str],
        candidates: list[str],
        *,
        shop: str,
        language: str,
        trigger: str,
    ) -> list[Delivery]:
        delivery = delivery_id(connection_id, day, seq)
        members = list(claimed)
        ours: list[str] = []  # claims this pass made (withdrawn if the seal says otherwise)
        for doc_id in candidates:
            placement = await self.store.claim(doc_id, delivery)
            if placement.delivery_id == delivery:
                members.append(doc_id)
                ours.append(doc_id)
        documents = [d for d in [await self.store.get(m) for m in sorted(set(members))] if d]
        if not documents:
            return []
        data = build_zip(documents, day)
        name = zip_name(shop, day, seq, len(documents), language)
        file_id = await self.archive.store_file(delivery, connection_id, name, data)
        record = Delivery(
            id=delivery,
            connection_id=connection_id,
            day=day,
            seq=seq,
            name=name,
            documents=tuple(d.id for d in documents),
            numbers=tuple(d.number for d in documents),
            file_id=file_id,
            sha256=hashlib.sha256(data).hexdigest(),
            size=len(data),
            sealed_at=self.clock(),
            trigger=trigger,
        )
        sealed = await self.archive.seal(record)
        if sealed.file_id != file_id:
            log.warning("another replica sealed this delivery first", extra={"delivery": delivery})
            await self.archive.drop_file(file_id)
            for doc_id in ours:
                if doc_id not in sealed.documents:
                    await self.store.unclaim(doc_id, delivery)
            return []
        log.info("delivery sealed", extra={"delivery": delivery, "documents": sealed.count})
        await self._finish(sealed)
        return [sealed]

    async def _finish(self, sealed: Delivery) -> None:
        # Follow-ups (check, mail, SFTP) are made durable before the markers go: the
        # markers are what lets a later pass find a delivery a crash left unfinished.
        await self.on_sealed(sealed)
        await self.store.delivered(list(sealed.documents), sealed.id)
        for orphan in await self.archive.orphan_files(sealed):  # a lost or crashed attempt's
            await self.archive.drop_file(orphan)

"""What the dashboard asks of other services — only ever through Kafka:

- `ledger.commands.v1`: book an order again now ("Verwerk"), or every order of a
  connection in given states since a day ("Verwerk alle");
- `ops.requests.v1`: test the shop or the ledger with (possibly unsaved) settings, or
  import historic orders; the request is remembered in `requests` so its page can show the
  answers (`ops.answers.v1`, see `ReadModel.answer`) as they arrive;
- `config.connections.v1`: a new version of a connection's settings.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time

from koppel_chassis import EventPublisher
from koppel_chassis.mongo import AsyncDatabase, Document
from koppel_contracts import (
    CONNECTIONS,
    LEDGER_COMMANDS,
    OPS_REQUESTS,
    ConnectionRequest,
    ConnectionSettings,
    ConnectionSettingsEvent,
    LedgerCommand,
    LedgerCommandKind,
    RequestKind,
    SourceSystem,
    make_event_id,
)

from .formatting import ZONE

REQUESTS = "requests"

# The topics the commands go out on, declared once on the service (its event map).
PUBLISHES = (LEDGER_COMMANDS, OPS_REQUESTS, CONNECTIONS)


def answering_component(kind: RequestKind, settings: ConnectionSettings) -> str:
    """The service that owns the API a request is about (the one expected to answer)."""
    if kind is RequestKind.TEST_LEDGER:
        return f"ledger-{settings.ledger.system}"
    return f"ingest-{'ccv' if settings.shop.system == 'ccvshop' else settings.shop.system}"


def next_version(current: int | None) -> int:
    """Versions are milliseconds since 1970 (as `koppel connections put` makes them), and
    always above the current one."""
    return max((current or 0) + 1, time.time_ns() // 1_000_000)


@dataclass
class Commands:
    publisher: EventPublisher
    db: AsyncDatabase[Document]

    async def retry_order(self, connection_id: str, order_ref: str, by: str) -> LedgerCommand:
        command = LedgerCommand(
            event_id=make_event_id("ledger_command", connection_id, order_ref, uuid.uuid4().hex),
            occurred_at=datetime.now(UTC),
            connection_id=connection_id,
            source_system=SourceSystem.KOPPEL,
            correlation_id=f"{connection_id}:{order_ref}",
            kind=LedgerCommandKind.RETRY_ORDER,
            order_ref=order_ref,
            requested_by=by,
        )
        await self.publisher.publish(LEDGER_COMMANDS, command)
        return command

    async def retry_orders(
        self, connection_id: str, states: list[str], since: date | None, by: str
    ) -> LedgerCommand:
        since_moment = (
            datetime.combine(since, clock_time(0), tzinfo=ZONE).astimezone(UTC) if since else None
        )
        command = LedgerCommand(
            event_id=make_event_id("ledger_command", connection_id, uuid.uuid4().hex),
            occurred_at=datetime.now(UTC),
            connection_id=connection_id,
            source_system=SourceSystem.KOPPEL,
            kind=LedgerCommandKind.RETRY_ORDERS,
            states=states,
            since=since_moment,
            requested_by=by,
        )
        await self.publisher.publish(LEDGER_COMMANDS, command)
        return command

    async def request(
        self,
        connection_id: str,
        kind: RequestKind,
        by: str,
        *,
        settings: ConnectionSettings | None,
        component: str,
        since: date | None = None,
        until: date | None = None,
        dry_run: bool = True,
    ) -> str:
        request_id = uuid.uuid4().hex
        request = ConnectionRequest(
            event_id=make_event_id("connection_request", connection_id, request_id),
            occurred_at=datetime.now(UTC),
            connection_id=connection_id,
            source_system=SourceSystem.KOPPEL,
            request_id=request_id,
            kind=kind,
            settings=settings,
            since=since,
            until=until,
            dry_run=dry_run,
            requested_by=by,
        )
        # Remembered first: an answer can only be shown for a request we know of.
        await self.db[REQUESTS].insert_one(
            {
                "_id": request_id,
                "connection_id": connection_id,
                "kind": str(kind),
                "by": by,
                "at": request.occurred_at,
                "component": component,
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "dry_run": dry_run,
            }
        )
        await self.publisher.publish(OPS_REQUESTS, request)
        return request_id

    async def find_request(self, connection_id: str, request_id: str) -> Document | None:
        doc = await self.db[REQUESTS].find_one({"_id": request_id})
        return doc if doc is not None and doc["connection_id"] == connection_id else None

    async def requests_of(self, connection_id: str, kind: RequestKind) -> list[Document]:
        cursor = self.db[REQUESTS].find({"connection_id": connection_id, "kind": str(kind)})
        return sorted([d async for d in cursor], key=lambda d: d["at"], reverse=True)

    async def publish_settings(
        self, connection_id: str, settings: ConnectionSettings, current: int | None
    ) -> ConnectionSettingsEvent:
        event = ConnectionSettingsEvent.of(connection_id, settings, next_version(current))
        await self.publisher.publish(CONNECTIONS, event)
        return event

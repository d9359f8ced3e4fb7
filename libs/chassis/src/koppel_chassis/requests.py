"""Answering connection requests (`ops.requests.v1` → `ops.answers.v1`).

The dashboard and the CLI never call a shop or a ledger themselves: they publish a
`ConnectionRequest` (test this shop, test this ledger, import this period) and the service
that owns that API answers. Every service sees every request; the one whose system the
request concerns answers it, exactly one replica of it (the request's partition belongs to
one consumer of the service's group).

Requests are short-lived: one older than `max_age` is not acted on (a service that starts
for the first time reads the topic from its beginning, and must not run last week's
import). Work runs in the background, so a long import does not stall the consumer; the
requester follows it by its answers (`running` with progress, then `done` / `failed`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from koppel_contracts import (
    OPS_ANSWERS,
    OPS_REQUESTS,
    AnswerState,
    ConnectionAnswer,
    ConnectionRequest,
    ConnectionSettings,
    Problem,
    RequestKind,
    SourceSystem,
    make_event_id,
)

from .connections import ConnectionStore
from .service import Service

log = logging.getLogger(__name__)

MAX_AGE = timedelta(minutes=10)


class Reply:
    """Publishes the answers to one request; each answer gets its own event id."""

    def __init__(self, service: Service, request: ConnectionRequest) -> None:
        self.service = service
        self.request = request
        self.sent = 0

    async def __call__(self, state: AnswerState, **fields: Any) -> None:
        self.sent += 1
        component = self.service.settings.service_name
        answer = ConnectionAnswer(
            event_id=make_event_id(
                "connection_answer", component, self.request.request_id, str(self.sent)
            ),
            occurred_at=datetime.now(UTC),
            connection_id=self.request.connection_id,
            source_system=SourceSystem.KOPPEL,
            correlation_id=self.request.request_id,
            request_id=self.request.request_id,
            kind=self.request.kind,
            component=component,
            state=state,
            **fields,
        )
        await self.service.publisher.publish(OPS_ANSWERS, answer)

    async def failed(self, code: str, reason: str, suggestion: str) -> None:
        await self(
            AnswerState.FAILED,
            problems=[Problem(code=code, reason=reason, suggestion=suggestion)],
        )


Handler = Callable[[ConnectionRequest, ConnectionSettings, Reply], Awaitable[None]]


def answer_requests(
    service: Service,
    connections: ConnectionStore,
    *,
    kinds: Collection[RequestKind],
    concerns: Callable[[ConnectionSettings], bool],
    handle: Handler,
    max_age: timedelta = MAX_AGE,
) -> None:
    """Answer the requests of `kinds` whose settings `concerns` this service with `handle`.

    `handle` publishes its answers through the `Reply` it is given; an exception it raises
    becomes a `failed` answer, so the requester is never left waiting for nothing."""
    running: set[asyncio.Task[None]] = set()
    service.publishes(OPS_ANSWERS)

    async def work(request: ConnectionRequest, settings: ConnectionSettings) -> None:
        reply = Reply(service, request)
        try:
            await handle(request, settings, reply)
        except Exception as error:
            log.exception("request failed", extra={"request_id": request.request_id})
            await reply.failed(
                "internal_error",
                f"{type(error).__name__}: {error}",
                "Try again; if it keeps failing, send this to support.",
            )

    @service.subscriber(OPS_REQUESTS, purpose="requests")
    async def on_request(request: ConnectionRequest) -> None:
        if request.kind not in kinds:
            return
        if datetime.now(UTC) - request.occurred_at > max_age:
            log.info("request too old, not acted on", extra={"request_id": request.request_id})
            return
        settings = request.settings
        if settings is None:
            current = await connections.current(request.connection_id)
            settings = current[0] if current is not None else None
        if settings is None or not concerns(settings):
            return
        task = asyncio.create_task(work(request, settings), name=f"request {request.request_id}")
        running.add(task)
        task.add_done_callback(running.discard)

    @service.on_stopping
    async def stop_requests() -> None:
        for task in list(running):
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

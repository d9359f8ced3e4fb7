"""The runtime every Koppel service is: Kafka broker + MongoDB + HTTP + background loops.

A service module builds one `Service`, declares the topics it publishes on
(`publishes=[...]`), registers its subscribers, routes and background loops on it,
and calls `run()`. What it declared is its event map: `GET /asyncapi.json`.
Start-up connects MongoDB and creates indexes before the broker starts consuming, so
no message is handled against a database without its unique indexes. SIGTERM
(uvicorn) stops the consumers first, then the background loops, then closes the
clients.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from faststream.kafka import KafkaBroker
from koppel_contracts import Topic
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .asyncapi import (
    DeadLetter,
    asyncapi_document,
    dead_letter_description,
    document_payload,
    publisher_title,
    subscriber_description,
    subscriber_title,
)
from .broker import EventPublisher, TopicNames, create_broker
from .logging import configure_logging
from .mongo import IndexSpec, create_mongo_client, ensure_indexes
from .settings import ServiceSettings

log = logging.getLogger(__name__)

Loop = Callable[[], Awaitable[None]]
ReadinessCheck = Callable[[], Awaitable[bool]]


class Service:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        indexes: Sequence[IndexSpec] = (),
        publishes: Sequence[Topic] = (),
    ) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        self.names = TopicNames(settings.topic_prefix)
        self.broker: KafkaBroker = create_broker(settings, self.registry)
        # Strict: a publish on a topic nobody declared fails (in the tests), so the event
        # map cannot silently miss one.
        self.publisher = EventPublisher(self.broker, self.names, strict=True)
        self._dead_letters: set[str] = set()
        self.publishes(*publishes)
        self.mongo = create_mongo_client(settings)
        self.db = self.mongo[settings.database_name]
        self.indexes: list[IndexSpec] = list(indexes)
        self.routes: list[BaseRoute] = []
        self._loops: list[tuple[str, Loop]] = []
        self._running: list[asyncio.Task[None]] = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self._on_stopping: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self._readiness: list[tuple[str, ReadinessCheck]] = []
        self.started = False

    # --- registration -------------------------------------------------------

    def publishes(self, *topics: Topic) -> None:
        """Declare topics this service publishes on (idempotent): `service.publisher.publish`
        accepts only declared topics, and each is in the service's AsyncAPI document."""
        for topic in topics:
            self.publisher.declare(topic)

    def subscriber(self, topic: Topic, *, purpose: str = "main", **options: Any) -> Any:
        """A consumer of one contract topic in this service's consumer group; documented
        with the topic's contract model as its payload, whatever the handler takes."""
        options.setdefault("auto_offset_reset", "earliest")
        actual = self.names.name(topic)
        group_id = self.settings.group_id(purpose)
        options.setdefault("title", subscriber_title(actual, purpose))
        options.setdefault("description", subscriber_description(topic, group_id))
        subscriber = self.broker.subscriber(actual, group_id=group_id, **options)
        document_payload(subscriber, topic.event)
        self._declare_dead_letters(topic)
        return subscriber

    def _declare_dead_letters(self, topic: Topic) -> None:
        """What a consumer cannot decode goes to `<topic>.dlq` (broker.py): part of the map."""
        if topic.name in self._dead_letters:
            return
        self._dead_letters.add(topic.name)
        actual = self.names.dead_letter(topic)
        self.broker.publisher(
            actual,
            title=publisher_title(actual),
            description=dead_letter_description(topic),
            schema=DeadLetter,
        )

    def loop(self, name: str) -> Callable[[Loop], Loop]:
        """A background loop (poller, scheduler) kept running for the service's lifetime."""

        def register(fn: Loop) -> Loop:
            self._loops.append((name, fn))
            return fn

        return register

    def on_start(self, fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        self._on_start.append(fn)
        return fn

    def on_stopping(self, fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Runs first on shutdown, while the broker can still publish (drain work in flight)."""
        self._on_stopping.append(fn)
        return fn

    def on_stop(self, fn: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        """Runs after consumers and loops have stopped, before the clients close."""
        self._on_stop.append(fn)
        return fn

    def readiness_check(self, name: str, check: ReadinessCheck) -> None:
        self._readiness.append((name, check))

    def add_route(self, route: BaseRoute) -> None:
        self.routes.append(route)

    def asyncapi(self) -> dict[str, Any]:
        """This service's event map (AsyncAPI 3.0): every topic it publishes and consumes."""
        return asyncapi_document(self.broker, title=self.settings.service_name)

    # --- lifecycle ----------------------------------------------------------

    async def start(self) -> None:
        await self.mongo.aconnect()
        await ensure_indexes(self.db, self.indexes)
        for hook in self._on_start:
            await hook()
        await self.broker.start()
        for name, fn in self._loops:
            self._running.append(asyncio.create_task(self._supervise(name, fn), name=name))
        self.started = True
        log.info("service started", extra={"http_port": self.settings.http_port})

    async def stop(self) -> None:
        self.started = False
        for hook in self._on_stopping:
            await hook()
        # Consumers first: whatever is in flight finishes and commits before
        # the loops and clients it depends on go away.
        await self.broker.stop()
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        self._running.clear()
        for hook in reversed(self._on_stop):
            await hook()
        await self.mongo.close()
        log.info("service stopped")

    async def _supervise(self, name: str, fn: Loop) -> None:
        delay = 1.0
        while True:
            try:
                await fn()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background loop crashed; restarting", extra={"loop": name})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    # --- health -------------------------------------------------------------

    async def readiness(self) -> dict[str, bool]:
        async def kafka() -> bool:
            return await self.broker.ping(timeout=3.0)

        async def mongo() -> bool:
            await asyncio.wait_for(self.db.command("ping"), timeout=3.0)
            return True

        results: dict[str, bool] = {}
        for name, check in [("kafka", kafka), ("mongodb", mongo), *self._readiness]:
            try:
                results[name] = bool(await check())
            except Exception:
                results[name] = False
        return results

    def asgi(self) -> Starlette:
        async def livez(_: Request) -> Response:
            return JSONResponse({"status": "alive"})

        async def readyz(_: Request) -> Response:
            checks = await self.readiness() if self.started else {"started": False}
            ready = self.started and all(checks.values())
            return JSONResponse(
                {"status": "ready" if ready else "not ready", "checks": checks},
                status_code=200 if ready else 503,
            )

        async def metrics(_: Request) -> Response:
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        served: list[dict[str, Any]] = []

        async def event_map(_: Request) -> Response:
            # Everything is declared while the service is built: made once, then served.
            if not served:
                served.append(self.asyncapi())
            return JSONResponse(served[0])

        @asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        routes: list[BaseRoute] = [
            Route("/livez", livez),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/asyncapi.json", event_map),
            *self.routes,
        ]
        return Starlette(routes=routes, lifespan=lifespan)

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT; uvicorn turns the signal into a clean lifespan shutdown."""
        configure_logging(self.settings.service_name, self.settings.log_level)
        uvicorn.run(
            self.asgi(),
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=20,
        )

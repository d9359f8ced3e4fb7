"""The connection guard and the alerts around it.

`ConnectionGuard.run(connection_id, what, work)` runs work for one connection with its
session, and turns failures into the right reaction: refused or unusable credentials ->
the connection is broken (one alert per cause) and left alone until new settings; other
shop failures -> logged, the next poll retries. `Alerts` publishes each alert once per
cause, however many replicas meet it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from koppel_chassis import CredentialsError, ExternalError, log_context
from koppel_contracts import (
    OPS_ALERTS,
    AlertEvent,
    AlertKind,
    ConnectionSettings,
    Envelope,
    Language,
    OrderSummary,
    Topic,
    make_event_id,
)

from .adapter import SettingsUnusable, ShopAdapter, ShopSession
from .clock import Clock
from .decide import broken_cause, failure_cause, signature_cause
from .records import ConnectionState, IngestFailure
from .states import StateStore
from .store import OrderStore
from .texts import ORDER_UNREADABLE, RUNTIME_TEXTS, WEBHOOK_SIGNATURE, merged, text_for

log = logging.getLogger(__name__)


class ConcurrentChange(Exception):
    """Another replica (or worker) is changing this order right now; the poll looks again."""


class Connections(Protocol):
    """The connection settings this service keeps (chassis `ConnectionStore`, or a twin)."""

    async def current(self, connection_id: str) -> tuple[ConnectionSettings, int] | None: ...
    async def all(self) -> dict[str, ConnectionSettings]: ...


class Publisher(Protocol):
    async def publish(self, topic: Topic, event: Envelope) -> None: ...


@dataclass(frozen=True)
class Connection:
    """A connection of this shop with its session, for one piece of work."""

    connection_id: str
    version: int
    settings: ConnectionSettings
    session: ShopSession

    @property
    def language(self) -> Language:
        return self.settings.merchant.language


def concerns(adapter: ShopAdapter, settings: ConnectionSettings | None) -> bool:
    return settings is not None and settings.active and settings.shop.system == adapter.system


class Alerts:
    def __init__(
        self,
        adapter: ShopAdapter,
        publisher: Publisher,
        states: StateStore,
        store: OrderStore,
        clock: Clock,
    ) -> None:
        self.adapter = adapter
        self.publisher = publisher
        self.states = states
        self.store = store
        self.clock = clock
        self.texts = merged(RUNTIME_TEXTS, adapter.texts)
        self.system = adapter.source_system.value

    def _alert(
        self,
        connection_id: str,
        kind: AlertKind,
        reason_code: str,
        texts: tuple[str, str],
        cause_id: str,
        *,
        order_ref: str | None = None,
        order: OrderSummary | None = None,
    ) -> AlertEvent:
        reason, suggestion = texts
        return AlertEvent(
            event_id=make_event_id("alert", cause_id),
            occurred_at=self.clock(),
            connection_id=connection_id,
            source_system=self.adapter.source_system,
            correlation_id=f"{connection_id}:{order_ref}" if order_ref else connection_id,
            kind=kind,
            component=self.adapter.component,
            reason_code=reason_code,
            reason=reason,
            suggestion=suggestion,
            order_ref=order_ref,
            order=order,
            cause_id=cause_id,
        )

    def _text(self, code: str, language: Language, **params: object) -> tuple[str, str]:
        return text_for(self.texts, code, language, shop=self.adapter.display_name, **params)

    async def connection_broken(
        self, connection_id: str, version: int, reason_code: str, detail: str, language: Language
    ) -> None:
        """Mark the connection broken and alert — once per cause (settings version + reason)."""
        cause_id = broken_cause(self.system, connection_id, reason_code, version)
        await self.states.mark_broken(connection_id, cause_id, reason_code)
        if not await self.states.announce(cause_id, self.clock()):
            return  # alerted already (by us or another replica)
        event = self._alert(
            connection_id,
            AlertKind.CONNECTION_BROKEN,
            reason_code,
            self._text(reason_code, language),
            cause_id,
        )
        try:
            await self.publisher.publish(OPS_ALERTS, event)
        except Exception:
            # Not alerted means not remembered: the next failure tries again.
            await self.states.unannounce(cause_id)
            await self.states.unmark_broken(connection_id, cause_id)
            raise
        log.warning(
            "connection broken; polling stops until new settings arrive",
            extra={"connection_id": connection_id, "reason_code": reason_code, "detail": detail},
        )

    async def ingest_failure(
        self,
        connection: Connection,
        source_order_id: str,
        order_ref: str,
        detail: str,
        summary: OrderSummary | None,
        number: str | None,
    ) -> None:
        """Record an unreadable order and alert — once per order and cause. `number`: the
        order number to name (else the shop's id)."""
        connection_id = connection.connection_id
        cause_id = failure_cause(self.system, connection_id, source_order_id, detail)
        failure = IngestFailure(
            cause_id, connection_id, source_order_id, order_ref, detail, self.clock()
        )
        if not await self.store.record_failure(failure):
            return
        number = number or source_order_id
        event = self._alert(
            connection_id,
            AlertKind.INGEST_FAILURE,
            self.adapter.order_unreadable_code,
            self._text(ORDER_UNREADABLE, connection.language, number=number, detail=detail),
            cause_id,
            order_ref=order_ref,
            # No customer name: alerts are kept on a topic no customer key protects.
            order=summary.model_copy(update={"customer_name": None}) if summary else None,
        )
        try:
            await self.publisher.publish(OPS_ALERTS, event)
        except Exception:
            await self.store.forget_failure(cause_id)
            raise
        log.warning(
            "ingest failure recorded",
            extra={"source_order_id": source_order_id, "order_ref": order_ref, "detail": detail},
        )

    async def signature_unverified(self, connection: Connection, count: int, minutes: int) -> None:
        """Webhooks keep failing their signature while their orders exist — once per
        settings version."""
        connection_id = connection.connection_id
        cause_id = signature_cause(self.system, connection_id, connection.version)
        if not await self.states.announce(cause_id, self.clock()):
            return
        texts = self._text(WEBHOOK_SIGNATURE, connection.language, count=count, minutes=minutes)
        event = self._alert(
            connection_id, AlertKind.PERSISTENT_FAILURE, WEBHOOK_SIGNATURE, texts, cause_id
        )
        try:
            await self.publisher.publish(OPS_ALERTS, event)
        except Exception:
            await self.states.unannounce(cause_id)
            raise
        log.warning(
            "webhook signatures fail while their orders exist",
            extra={"connection_id": connection_id, "confirmed": count},
        )


Work = Callable[[Connection], Awaitable[None]]


class ConnectionGuard:
    def __init__(
        self, adapter: ShopAdapter, connections: Connections, states: StateStore, alerts: Alerts
    ) -> None:
        self.adapter = adapter
        self.connections = connections
        self.states = states
        self.alerts = alerts

    async def run(
        self, connection_id: str, what: str, work: Work, state: ConnectionState | None = None
    ) -> None:
        """`state`: the connection's state when the caller has just read it."""
        with log_context(connection_id=connection_id):
            if state is None:
                state = await self.states.get(connection_id)
            if state is None or state.broken:
                return
            current = await self.connections.current(connection_id)
            if current is None or not concerns(self.adapter, current[0]):
                await self.adapter.drop(connection_id)
                return
            settings, version = current
            language = settings.merchant.language
            try:
                session = await self.adapter.session(connection_id, settings)
                await work(Connection(connection_id, version, settings, session))
            except CredentialsError as error:
                await self.alerts.connection_broken(
                    connection_id, version, "shop_credentials_refused", str(error), language
                )
            except SettingsUnusable as error:
                await self.alerts.connection_broken(
                    connection_id, version, error.reason_code, str(error), language
                )
            except (ExternalError, ConcurrentChange) as error:
                log.warning(
                    "%s did not complete; the next poll retries", what, extra={"error": str(error)}
                )

"""The dashboard service: consume -> read models -> pages -> commands.

- consume: orders (`shop.orders.v1`), bookings and failures (`ledger.bookings.v1`), checks
  (`ledger.checks.v1`), alerts (`ops.alerts.v1`), connection settings
  (`config.connections.v1`), answers to its requests (`ops.answers.v1`) and which service
  took which settings version (`config.applied.v1`) — each into its own read model in the
  dashboard's own database; it never reads another service's database;
- pages: server-rendered HTML for merchants (their own connections) and support (all);
- commands: whatever a page asks of another service goes out as an event
  (`ledger.commands.v1`, `ops.requests.v1`, a new settings version), never as a call.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from koppel_chassis import ConnectionStore, Service, follow_connections
from koppel_chassis.connections import COLLECTION as CONNECTIONS_COLLECTION
from koppel_chassis.mail import SmtpTransport
from koppel_chassis.mongo import IndexSpec
from koppel_contracts import (
    LEDGER_BOOKINGS,
    LEDGER_CHECKS,
    OPS_ALERTS,
    OPS_ANSWERS,
    SETTINGS_APPLIED,
    SHOP_ORDERS,
    AlertEvent,
    BookingEvent,
    CheckEvent,
    ConnectionAnswer,
    OrderEvent,
    SettingsApplied,
)
from starlette.routing import Mount

from . import pages_auth, pages_orders, pages_report, pages_settings, pages_support
from .accounts import ACCOUNTS
from .cases import CASES, SupportCases
from .commands import PUBLISHES, REQUESTS, Commands
from .privacy import CustomerNames
from .readmodel import INDEXES, ReadModel
from .security import LoginLimiter, Sessions
from .settings import DashboardSettings
from .web import Deps, create_app

HOUSEKEEPING_SECONDS = 300.0

ALL_INDEXES = [
    *INDEXES,
    IndexSpec(ACCOUNTS, [("role", 1)]),
    IndexSpec(REQUESTS, [("connection_id", 1), ("kind", 1)]),
    IndexSpec(CASES, [("at", 1)]),
]


def build(settings: DashboardSettings) -> Service:
    service = Service(settings, indexes=ALL_INDEXES, publishes=PUBLISHES)
    db = service.db
    readmodel = ReadModel(db, settings.timeline_limit)
    connections = ConnectionStore(db[CONNECTIONS_COLLECTION])
    state = Deps(
        settings=settings,
        db=db,
        readmodel=readmodel,
        connections=connections,
        publisher=service.publisher,
        sealer=settings.sealer(),
        sessions=Sessions(db, timedelta(hours=settings.session_hours)),
        limiter=LoginLimiter(
            db,
            settings.login_attempts_per_account,
            settings.login_attempts_per_address,
            settings.login_window_seconds,
        ),
        cases=SupportCases(db, settings, SmtpTransport(settings)),
        commands=Commands(service.publisher, db),
    )

    # consume -> read models
    follow_connections(service, connections)

    names = CustomerNames(service)  # customers' data arrives sealed (koppel_privacy)

    @service.subscriber(SHOP_ORDERS, purpose="orders")
    async def on_order(event: OrderEvent) -> None:
        await readmodel.order_event(event, SHOP_ORDERS.name, await names.order(event))

    @service.subscriber(LEDGER_BOOKINGS, purpose="bookings")
    async def on_booking(event: BookingEvent) -> None:
        await readmodel.booking_event(event, LEDGER_BOOKINGS.name)

    @service.subscriber(LEDGER_CHECKS, purpose="checks")
    async def on_check(event: CheckEvent) -> None:
        await readmodel.check_event(event, LEDGER_CHECKS.name)

    @service.subscriber(OPS_ALERTS, purpose="alerts")
    async def on_alert(event: AlertEvent) -> None:
        await readmodel.alert_event(event, OPS_ALERTS.name)

    @service.subscriber(OPS_ANSWERS, purpose="answers")
    async def on_answer(event: ConnectionAnswer) -> None:
        await readmodel.answer(event)

    @service.subscriber(SETTINGS_APPLIED, purpose="applied")
    async def on_applied(event: SettingsApplied) -> None:
        await readmodel.settings_applied(event)

    # support case mails that could not go out at once; expired sessions and counters
    @service.loop("case-mailer")
    async def case_mailer() -> None:
        await state.cases.run()

    @service.loop("housekeeping")
    async def housekeeping() -> None:
        while True:
            await state.sessions.purge()
            await state.limiter.purge()
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    # pages
    routes = [
        *pages_auth.ROUTES,
        *pages_orders.ROUTES,
        *pages_report.ROUTES,
        *pages_settings.ROUTES,
        *pages_support.ROUTES,
    ]
    service.add_route(Mount("/", app=create_app(state, routes)))
    service.deps = state  # type: ignore[attr-defined]
    return service

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from koppel_chassis import Service
from koppel_dashboard import DashboardSettings, build
from koppel_dashboard.accounts import ACCOUNTS, AccountStore
from koppel_testkit import SmtpCatcher

COOKIE_SECRET = "test-cookie-secret-0123456789abcdef-0123"


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpCatcher]:
    catcher = SmtpCatcher()
    await catcher.start()
    try:
        yield catcher
    finally:
        await catcher.stop()


@pytest.fixture
def dashboard_settings(make_settings: Callable[..., Any], smtp: SmtpCatcher) -> Callable[..., Any]:
    def settings(**overrides: Any) -> DashboardSettings:
        values: dict[str, Any] = {
            "service_name": "dashboard",
            "cookie_secret": COOKIE_SECRET,
            "secure_cookies": False,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_timeout_seconds": 5.0,
            "support_email": "support@koppel.test",
            "from_address": "Koppel <dashboard@koppel.test>",
            "public_base_url": "http://testserver",
            "mail_retry_seconds": 0.5,
            "mail_poll_seconds": 0.2,
            "shop_links": {"ccvshop": "{base_url}/admin/orders/{order_id}"},
            "ledger_links": {"octopus": "{base_url}/dossiers/{dossier_id}/documents/{booking_id}"},
        }
        values.update(overrides)
        return make_settings(DashboardSettings, **values)

    return settings


@pytest.fixture
async def dashboard(
    kafka_topics: dict[str, str], dashboard_settings: Callable[..., Any]
) -> AsyncIterator[Service]:
    """The dashboard in-process on the real broker and database, with two merchants and a
    support account."""
    service = build(dashboard_settings())
    await service.start()
    accounts = AccountStore(service.db[ACCOUNTS])
    password = "correct horse battery"
    await accounts.create("a@deboon.nl", password, "merchant", ["deboon"])
    await accounts.create("b@thee.nl", password, "merchant", ["thee"])
    await accounts.create("help@koppel.test", password, "support", language="en")
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def client(dashboard: Service) -> AsyncIterator[Callable[[], httpx.AsyncClient]]:
    """New browsers (cookie jars) on the dashboard's ASGI app."""
    clients: list[httpx.AsyncClient] = []

    def new() -> httpx.AsyncClient:
        made = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=dashboard.asgi()), base_url="http://testserver"
        )
        clients.append(made)
        return made

    try:
        yield new
    finally:
        for made in clients:
            await made.aclose()

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from koppel_chassis import Service
from koppel_notifier import NotifierSettings, build
from koppel_testkit import SmtpCatcher


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpCatcher]:
    """A real SMTP server, running. `smtp.stop()` / `smtp.start()` simulate an outage."""
    catcher = SmtpCatcher()
    await catcher.start()
    try:
        yield catcher
    finally:
        await catcher.stop()


@pytest.fixture
def notifier_settings(make_settings: Callable[..., Any], smtp: SmtpCatcher) -> Callable[..., Any]:
    def settings(**overrides: Any) -> NotifierSettings:
        values: dict[str, Any] = {
            "service_name": "notifier",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "from_address": "Koppel <meldingen@koppel.test>",
            "grouping_window_seconds": 1.0,
            "poll_interval_seconds": 0.2,
            "retry_initial_seconds": 0.5,
            "retry_max_seconds": 1.0,
            "settings_recheck_seconds": 30.0,
            "smtp_timeout_seconds": 5.0,
            "lease_margin_seconds": 5.0,
        }
        values.update(overrides)
        return make_settings(NotifierSettings, **values)

    return settings


@pytest.fixture
async def start_notifier(
    kafka_topics: dict[str, str], notifier_settings: Callable[..., Any]
) -> AsyncIterator[Callable[..., Any]]:
    """Start notifier(s) in-process on the real broker and database; stopped after the test."""
    running: list[Service] = []

    async def start(clock: Any = None, **overrides: Any) -> Service:
        settings = notifier_settings(**overrides)
        service = build(settings, clock=clock) if clock else build(settings)
        await service.start()
        running.append(service)
        return service

    try:
        yield start
    finally:
        for service in reversed(running):
            await service.stop()

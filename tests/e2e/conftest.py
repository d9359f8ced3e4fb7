"""One system of processes for every end-to-end module: every service and sandbox as
its own process, on the real broker and database (its own topic prefix and databases)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig, create_topics, start_system
from koppel_sandbox_kit import free_port
from koppel_testkit import SmtpCatcher


@pytest.fixture(scope="session")
def config(infrastructure, tmp_path_factory) -> SystemConfig:
    return SystemConfig.isolated(
        infrastructure.kafka_bootstrap,
        infrastructure.mongodb_uri,
        tmp_path_factory.mktemp("e2e"),
        "e2e",
        smtp_port=free_port(),  # the test's own SMTP server receives the mails
        reconcile_interval_seconds=5.0,
        grouping_window_seconds=1.0,
        ledger_retry_initial_seconds=1.0,
        # Bol.com is polled (no webhooks): often here, so its orders arrive quickly.
        bol_poll_interval_seconds=2.0,
        bol_invoice_interval_seconds=1.0,
    )


@pytest.fixture(scope="session")
def system(config: SystemConfig) -> Iterator[ProcessGroup]:
    asyncio.run(create_topics(config))
    group = start_system(config)
    try:
        yield group
    finally:
        codes = group.stop_all()
        for name, process in group.processes.items():
            if codes[name] not in (0, -15):
                print(f"--- {name} exited {codes[name]}:\n{process.tail(60)}")


@pytest.fixture
async def smtp(config: SystemConfig) -> AsyncIterator[SmtpCatcher]:
    catcher = SmtpCatcher(config.smtp_port)
    await catcher.start()
    try:
        yield catcher
    finally:
        await catcher.stop()

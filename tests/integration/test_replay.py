"""The replay runbook (deploy/REPLAY.md), exercised for real: the ledger-octopus service
books orders into the Octopus sandbox, support resets its consumer group to a time
before some of them with `koppel replay reset-offsets`, the service re-consumes them,
and Octopus still holds each order once.

Real Kafka, real MongoDB-compatible server, the real service and the real CLI command
(run as the `koppel` executable, the way an operator runs it).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from koppel_chassis import SecretBox, Service
from koppel_contracts import (
    CONNECTIONS,
    SHOP_ORDERS,
    BookingOptions,
    ConnectionSettings,
    ConnectionSettingsEvent,
    LedgerConnection,
    Merchant,
    OctopusOptions,
    ShopConnection,
    VatAccountMapping,
)
from koppel_ledger_octopus import LedgerOctopusSettings, build
from koppel_sandbox_kit import serve
from koppel_sandbox_octopus import DEMO, OctopusControl, OctopusState, create_app
from koppel_testkit import make_order, make_order_event, publish_raw

CONNECTION = "replay-shop"
KOPPEL = Path(sys.executable).with_name("koppel")  # the CLI as installed in this environment
FAST = {
    "http_timeout_seconds": 2.0,
    "retry_initial_seconds": 0.3,
    "retry_max_seconds": 2.0,
    "scheduler_interval_seconds": 0.2,
    "settings_pending_recheck_seconds": 0.5,
}


def connection_settings(base_url: str, secrets_key: str) -> ConnectionSettings:
    box = SecretBox(secrets_key)
    rates = [("21", "revenue_21", "21"), ("9", "revenue_9", "9"), ("0", "revenue_0", "0")]
    return ConnectionSettings(
        merchant=Merchant(name="Replay Webshop", contact_email="shop@example.nl"),
        shop=ShopConnection(system="ccvshop", base_url="https://shop.example.nl"),
        ledger=LedgerConnection(
            system="octopus",
            base_url=base_url,
            dossier_id=str(DEMO.dossier_id),
            credentials={
                "software_house_uuid": box.encrypt(DEMO.software_house_uuid),
                "username": box.encrypt(DEMO.user),
                "password": box.encrypt(DEMO.password),
            },
            octopus=OctopusOptions(journal=DEMO.journal_sales),
            booking=BookingOptions(
                vat_accounts=[
                    VatAccountMapping(
                        vat_rate=Decimal(rate),
                        ledger_account=str(DEMO.accounts[account]),
                        vat_code=DEMO.vat_codes[code],
                    )
                    for rate, account, code in rates
                ],
            ),
        ),
    )


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 60.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (result := await check()):
        assert loop.time() < deadline, f"timed out waiting for {check.__qualname__}"
        await asyncio.sleep(0.2)
    return result


async def committed_total(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(m.offset for tp, m in offsets.items() if tp.topic == topic and m.offset > 0)
    finally:
        await admin.close()


async def koppel(*args: str, bootstrap: str) -> tuple[int, str]:
    """Run the operator CLI as a process, as the runbook says."""
    process = await asyncio.create_subprocess_exec(
        str(KOPPEL),
        *args,
        env={**os.environ, "KOPPEL_KAFKA_BOOTSTRAP_SERVERS": bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, output.decode()


@pytest.fixture
async def octopus() -> AsyncIterator[tuple[str, OctopusControl]]:
    async with serve(create_app(OctopusState.demo())) as url, OctopusControl(url) as control:
        yield url, control


async def test_replay_from_a_timestamp_books_nothing_twice(
    kafka_bootstrap, kafka_topics, make_settings, secrets_key, octopus
) -> None:
    url, control = octopus
    settings = make_settings(LedgerOctopusSettings, service_name="ledger-octopus", **FAST)
    orders_topic = kafka_topics[SHOP_ORDERS.name]
    group = settings.group_id()  # <prefix>ledger-octopus.main, as in the runbook

    settings_event = ConnectionSettingsEvent.of(
        CONNECTION, connection_settings(url, secrets_key), 1
    )
    await publish_raw(
        kafka_bootstrap,
        kafka_topics[CONNECTIONS.name],
        settings_event.model_dump_json().encode(),
        CONNECTION.encode(),
    )

    async def publish_orders(ids: list[str]) -> None:
        for order_id in ids:
            event = make_order_event(make_order(order_id=order_id), connection_id=CONNECTION)
            key = f"{CONNECTION}:{event.order_ref}".encode()
            await publish_raw(kafka_bootstrap, orders_topic, event.model_dump_json().encode(), key)

    async def invoices() -> list[dict[str, Any]]:
        return await control.invoices(DEMO.dossier_id)

    def consumed(n: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            return await committed_total(kafka_bootstrap, group, orders_topic) == n

        check.__qualname__ = f"the group to commit {n} offsets"
        return check

    service: Service = build(settings)
    await service.start()
    try:
        # 1. Orders before the replay point, and after it; all booked once.
        await publish_orders(["7001", "7002"])
        await eventually(consumed(2))
        await asyncio.sleep(1.0)  # record timestamps are milliseconds: keep the point clear
        replay_from = datetime.now(UTC)
        await asyncio.sleep(0.1)
        await publish_orders(["7003", "7004", "7005"])
        await eventually(consumed(5))
        assert len(await invoices()) == 5
        creates_before = (await control.calls(DEMO.dossier_id)).get(
            "POST /dossiers/{d}/invoices", 0
        )
        assert creates_before == 5

        # 2. While the service runs, the reset is refused: its consumers are in the group.
        code, output = await koppel(
            "replay", "reset-offsets", "--group", group, "--topic", orders_topic,
            "--to-datetime", replay_from.isoformat(), "--execute",
            bootstrap=kafka_bootstrap,
        )  # fmt: skip
        assert code == 1, output
        assert "active member" in output
    finally:
        await service.stop()  # the runbook: scale the Deployment to 0

    # 3. Dry run, then execute: the group goes back to the first order at/after the time.
    reset = [
        "replay", "reset-offsets", "--group", group, "--topic", orders_topic,
        "--to-datetime", replay_from.isoformat(),
    ]  # fmt: skip
    code, output = await koppel(*reset, bootstrap=kafka_bootstrap)
    assert code == 0, output
    assert "3 message(s) will be consumed again" in output
    assert "dry run: nothing changed" in output
    assert await committed_total(kafka_bootstrap, group, orders_topic) == 5

    code, output = await koppel(*reset, "--execute", bootstrap=kafka_bootstrap)
    assert code == 0, output
    assert await committed_total(kafka_bootstrap, group, orders_topic) == 2

    # 4. Scale back: the service re-consumes the three orders...
    service = build(settings)
    await service.start()
    try:
        await eventually(consumed(5))
        await asyncio.sleep(1.0)  # anything a re-delivery would have booked, it has by now
        # ...and Octopus still holds each order exactly once: nothing was created again.
        booked = await invoices()
        references = sorted(i["reference"] for i in booked)
        assert references == ["WEB-7001", "WEB-7002", "WEB-7003", "WEB-7004", "WEB-7005"]
        calls = await control.calls(DEMO.dossier_id)
        assert calls.get("POST /dossiers/{d}/invoices", 0) == creates_before
        stored = await service.db["orders"].count_documents({})
        assert stored == 5
    finally:
        await service.stop()

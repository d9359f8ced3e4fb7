"""What people do with a connection, end to end through Kafka and the services that own the
APIs: test a connection before saving it, import last month's orders (dry run, then for
real, then again), and press "Verwerk" on an order after fixing its cause in the ledger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from koppel_chassis import EventPublisher, SecretBox, ServiceSettings, TopicNames, create_broker
from koppel_cli.connections import publish_connection
from koppel_cli.main import app
from koppel_cli.requests import ask, request
from koppel_contracts import (
    LEDGER_COMMANDS,
    AnswerState,
    ConnectionSettings,
    LedgerCommand,
    LedgerCommandKind,
    RequestKind,
    SourceSystem,
    make_event_id,
)
from koppel_demo.demo_data import CONNECTION_ID, demo_connection, wait_until_connected
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import SystemConfig
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_octopus import DEMO, OctopusControl
from koppel_testkit import eventually
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def cli_settings(config: SystemConfig) -> ServiceSettings:
    return ServiceSettings(
        service_name="koppel-cli",
        kafka_bootstrap_servers=config.kafka_bootstrap,
        topic_prefix=config.isolation,
        secrets_key=config.secrets_key,
    )


@pytest.fixture
def cli_env(config: SystemConfig, monkeypatch) -> Iterator[dict[str, str]]:
    env = {
        "KOPPEL_KAFKA_BOOTSTRAP_SERVERS": config.kafka_bootstrap,
        "KOPPEL_TOPIC_PREFIX": config.isolation,
        "KOPPEL_SECRETS_KEY": config.secrets_key,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env


@pytest.fixture
async def coffee(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[ConnectionSettings]:
    connection = demo_connection(config)
    await publish_connection(cli_settings(config), CONNECTION_ID, connection, _version())
    await wait_until_connected(config)
    yield connection


@pytest.fixture
async def shop(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[CcvShopControl]:
    async with CcvShopControl(config.url(config.ports.ccvshop)) as control:
        yield control


@pytest.fixture
async def octopus(config: SystemConfig, system: ProcessGroup) -> AsyncIterator[OctopusControl]:
    async with OctopusControl(config.url(config.ports.octopus)) as control:
        yield control


def _version() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


async def _invoices(octopus: OctopusControl, references: set[str]) -> list[dict]:
    return [i for i in await octopus.invoices(DEMO.dossier_id) if i.get("reference") in references]


async def test_a_connection_test_asks_the_shop_and_the_ledger_service(
    config, coffee: ConnectionSettings
) -> None:
    shop = request(CONNECTION_ID, RequestKind.TEST_SHOP, settings=coffee)
    ledger = request(CONNECTION_ID, RequestKind.TEST_LEDGER, settings=coffee)
    answers = await ask(cli_settings(config), [shop, ledger], silence_seconds=30)
    shop_answer, ledger_answer = answers[shop.request_id], answers[ledger.request_id]
    assert (shop_answer.state, shop_answer.component) == (AnswerState.OK, "ingest-ccv")
    assert any("paid" in s.flags for s in shop_answer.order_states)
    assert (ledger_answer.state, ledger_answer.component) == (AnswerState.OK, "ledger-octopus")
    assert ledger_answer.problems == []
    mapped = {m.vat_code for m in coffee.ledger.booking.vat_accounts}
    assert mapped <= {c.code for c in ledger_answer.vat_codes}

    # Unsaved settings with a wrong shop secret and 9 % mapped to the 21 % code: both named,
    # in Dutch, and the live connection is not touched.
    box = SecretBox(config.secrets_key)
    wrong = coffee.model_dump(mode="json")
    wrong["shop"]["credentials"]["api_secret"] = box.encrypt("not-the-secret")
    high = next(m.vat_code for m in coffee.ledger.booking.vat_accounts if m.vat_rate == 21)
    for mapping in wrong["ledger"]["booking"]["vat_accounts"]:
        if Decimal(mapping["vat_rate"]) == 9:
            mapping["vat_code"] = high
    unsaved = ConnectionSettings.model_validate(wrong)
    shop = request(CONNECTION_ID, RequestKind.TEST_SHOP, settings=unsaved)
    ledger = request(CONNECTION_ID, RequestKind.TEST_LEDGER, settings=unsaved)
    answers = await ask(cli_settings(config), [shop, ledger], silence_seconds=30)
    assert answers[shop.request_id].state == AnswerState.FAILED
    assert [p.code for p in answers[shop.request_id].problems] == ["credentials_refused"]
    problems = answers[ledger.request_id].problems
    assert [p.code for p in problems] == ["vat_code_rate_mismatch"]
    assert "9%" in problems[0].reason and "Kies" in problems[0].suggestion


async def test_last_months_orders_are_imported_once_dry_run_first(
    config, coffee, shop: CcvShopControl, octopus: OctopusControl, cli_env, tmp_path: Path
) -> None:
    # Orders of before the koppeling: no webhook told anyone (the live flow never saw them).
    await shop.pause_webhooks()
    try:
        october = [
            await shop.seed_order(paid=True, create_date=f"2026-10-{day:02d}T10:00:00Z")
            for day in (3, 17, 30)
        ]
        await shop.seed_order(create_date="2026-10-20T10:00:00Z")  # never paid: not bookable
    finally:
        await shop.resume_webhooks()
    references = {str(o["ordernumber_full"]) for o in october}
    runner = CliRunner()

    def koppel(*args: str):
        return runner.invoke(app, list(args), env=cli_env, catch_exceptions=False)

    dry = await asyncio.to_thread(
        koppel, "migrate", CONNECTION_ID, "--from", "2026-10-01", "--to", "2026-10-31", "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert "orders in the period:   4" in dry.output
    assert "published:            0 (dry run)" in dry.output
    assert "VAT 9%" in dry.output and "VAT 21%" in dry.output
    await asyncio.sleep(3)
    assert await _invoices(octopus, references) == [], "a dry run books nothing"

    real = await asyncio.to_thread(
        koppel, "migrate", CONNECTION_ID, "--from", "2026-10-01", "--to", "2026-10-31"
    )
    assert real.exit_code == 0, real.output
    assert "published now:        3" in real.output

    async def booked() -> list[dict]:
        found = await _invoices(octopus, references)
        return found if len(found) >= 3 else []

    assert len(await eventually(booked, timeout=60)) == 3
    again = await asyncio.to_thread(
        koppel, "migrate", CONNECTION_ID, "--from", "2026-10-01", "--to", "2026-10-31"
    )
    assert "published now:        0" in again.output, again.output
    await asyncio.sleep(3)
    assert len(await _invoices(octopus, references)) == 3, "each order booked once"


async def test_verwerk_books_an_order_after_its_cause_is_fixed_in_the_ledger(
    config, coffee, shop: CcvShopControl, octopus: OctopusControl
) -> None:
    await octopus.set_invoice_module(DEMO.dossier_id, enabled=False)
    try:
        order = await shop.seed_order()
        await shop.mark_paid(order["id"])
        reference = str(order["ordernumber_full"])
        await asyncio.sleep(8)  # received and refused: Octopus' invoicing module is off
        assert await _invoices(octopus, {reference}) == []
    finally:
        await octopus.set_invoice_module(DEMO.dossier_id, enabled=True)
    await asyncio.sleep(3)
    assert await _invoices(octopus, {reference}) == [], "a refused order waits for a person"
    command = LedgerCommand(
        event_id=make_event_id("e2e-verwerk", reference),
        occurred_at=datetime.now(UTC),
        connection_id=CONNECTION_ID,
        source_system=SourceSystem.KOPPEL,
        kind=LedgerCommandKind.RETRY_ORDER,
        order_ref=str(order["id"]),
        requested_by="merchant@example.nl",
    )
    broker = create_broker(cli_settings(config), CollectorRegistry())
    try:
        await broker.connect()
        await EventPublisher(broker, TopicNames(config.isolation)).publish(LEDGER_COMMANDS, command)
    finally:
        await broker.stop()

    async def booked() -> list[dict]:
        return await _invoices(octopus, {reference})

    assert len(await eventually(booked, timeout=30)) == 1

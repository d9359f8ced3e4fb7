"""A customer's personal data, erased from Koppel end to end: every service and sandbox a
process, on the real broker and database.

A merchant of their own (CCV Shop → Octopus, with its own sandboxes and a dashboard) books
three orders: two of Erika, one of Bram. Their details never appear in clear on any topic.
`koppel privacy erase` erases Erika: her details are then gone from every service's
database and from the dashboard's pages, her key leaves the topic at compaction, a replay of
the orders topic books nothing twice, and a fresh ledger that reads the retained topics books
the same totals and VAT per rate — Erika's orders on the anonymous debtor, without her data.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from koppel_chassis import ServiceSettings
from koppel_chassis.topic_admin import ensure_topics, plan_topics
from koppel_chassis.topic_reader import read_to_end
from koppel_cli.connections import publish_connection
from koppel_contracts import (
    LEDGER_CHECKS,
    PRIVACY_KEYS,
    SHOP_ORDERS,
    CheckEvent,
    CustomerKeyState,
    OrderEvent,
)
from koppel_demo.demo_data import place_paid_order, publish_demo_connection, wait_until_connected
from koppel_demo.processes import ProcessGroup
from koppel_demo.system import (
    SystemConfig,
    database_prefix,
    forget_previous_run,
    sandbox_process,
    service_process,
)
from koppel_privacy import latest_keys
from koppel_sandbox_ccvshop import CcvShopControl
from koppel_sandbox_kit import free_port
from koppel_sandbox_octopus import DEMO, OctopusControl
from koppel_testkit import eventually

from .dashboard_harness import PASSWORD, create_account
from .privacy_support import (
    CCV_KEY,
    CCV_SECRET,
    CONNECTION,
    caught_up,
    checks,
    compact_soon,
    connection,
    copy_records,
    customer,
    found_in_databases,
    found_in_logs,
    found_on_topics,
    koppel_cli,
    tombstone,
    vat_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MERCHANT = "inkoop@privacy-koffie.test"
TOKEN = uuid.uuid4().hex[:8]
ERIKA_EMAIL, ERIKA_NAME, ERIKA_STREET = (
    f"erika.{TOKEN}@vergeet.test",
    f"Vergeetmij{TOKEN}",
    f"Wisselweg{TOKEN}",
)
BRAM_EMAIL, BRAM_NAME = f"bram.{TOKEN}@blijft.test", f"Blijftbestaan{TOKEN}"
ERIKA = (ERIKA_EMAIL, ERIKA_NAME, ERIKA_STREET)


@pytest.fixture(scope="module")
def parts(config: SystemConfig, system: ProcessGroup) -> Iterator[dict[str, Any]]:
    """The merchant's own shop and Octopus, and the dashboard (unless the harness runs one)."""
    group = ProcessGroup()
    ports = {"ccvshop": free_port(), "octopus": free_port(), "dashboard": free_port()}
    try:
        group.start(
            sandbox_process(
                config,
                "privacy-ccvshop",
                "koppel_sandbox_ccvshop",
                ports["ccvshop"],
                *("--public-key", CCV_KEY, "--secret", CCV_SECRET),
            )
        )
        group.start(
            sandbox_process(
                config,
                "privacy-octopus",
                "koppel_sandbox_octopus",
                ports["octopus"],
                "--quota",
                "0",
            )
        )
        if "dashboard" in system.processes:
            ports["dashboard"] = config.ports.dashboard  # type: ignore[attr-defined]
        else:
            group.start(
                service_process(
                    config,
                    "dashboard",
                    "KOPPEL_DASHBOARD_",
                    ports["dashboard"],
                    cookie_secret="e2e-cookie-secret-0123456789abcdef0123",
                    secure_cookies="false",
                    smtp_host="127.0.0.1",
                    smtp_port=config.smtp_port,
                    smtp_starttls="false",
                    public_base_url=config.url(ports["dashboard"]),
                )
            )
        database = f"{database_prefix(config)}dashboard"
        create_account(config, database, MERCHANT, "merchant", CONNECTION)
        yield {name: config.url(port) for name, port in ports.items()} | {"ports": ports}
    finally:
        group.stop_all()


@pytest.fixture
async def dashboard(parts: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=parts["dashboard"], timeout=10) as browser:
        page = await browser.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = await browser.post(
            "/login", data={"email": MERCHANT, "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text
        yield browser


async def test_an_erased_customer_is_unreadable_everywhere_and_still_booked_right(
    config, system, smtp, parts, dashboard
) -> None:
    bootstrap, isolation = config.kafka_bootstrap, config.isolation
    await publish_demo_connection(
        config, connection(config, parts["ccvshop"], parts["octopus"]), CONNECTION
    )
    await wait_until_connected(config, CONNECTION, shop_port=parts["ports"]["ccvshop"])
    started = datetime.now(UTC) - timedelta(seconds=5)

    # 1. Three orders: two of Erika, one of Bram, booked in Octopus on their own relations.
    erika = customer("Erika", ERIKA_NAME, ERIKA_EMAIL, ERIKA_STREET)
    async with CcvShopControl(parts["ccvshop"]) as shop:
        orders = [
            await place_paid_order(shop, {"customer": erika}),
            await place_paid_order(
                shop,
                {
                    "customer": erika,
                    "rows": [{"product_name": "Molen", "count": 1, "price": "89.00", "tax": 21}],
                },
            ),
            await place_paid_order(
                shop, {"customer": customer("Bram", BRAM_NAME, BRAM_EMAIL, "Blijvendlaan")}
            ),
        ]
    numbers = [str(o["ordernumber_full"]) for o in orders]
    async with OctopusControl(parts["octopus"]) as octopus:

        async def all_booked() -> list[dict[str, Any]]:
            found = [
                i for i in await octopus.invoices(DEMO.dossier_id) if i["reference"] in numbers
            ]
            return found if len(found) == 3 else []

        await eventually(all_booked, timeout=90)
        relations = await octopus.relations(DEMO.dossier_id)
    assert ERIKA_EMAIL in {r.get("email") for r in relations}, "booked with her details"

    async def checked_first() -> dict[str, Any]:
        # An invoice is in Octopus before its read-back check is published: wait for those.
        found = await checks(bootstrap, isolation + LEDGER_CHECKS.name)
        return found if set(found) == set(numbers) else {}

    before = await eventually(checked_first, timeout=30)
    assert all(c.outcome == "matched" for c in before.values())

    erika_refs = [str(o["id"]) for o in orders[:2]]
    page = f"/connections/{CONNECTION}/orders/{erika_refs[0]}"

    async def shown_by_name() -> bool:
        return ERIKA_NAME in (await dashboard.get(page)).text

    await eventually(shown_by_name, timeout=60)

    # 2. On the topics her details were never in clear, only sealed under her key.
    assert await found_on_topics(bootstrap, isolation, ERIKA) == []
    sealed = [
        OrderEvent.model_validate_json(r.value)
        for r in await read_to_end(bootstrap, isolation + SHOP_ORDERS.name)
        if r.key and r.key.decode() in {f"{CONNECTION}:{ref}" for ref in erika_refs}
    ]
    key_ids = {e.order.personal_data.key_id for e in sealed if e.order.personal_data}
    assert len(sealed) == 2 and len(key_ids) == 1, "both of Erika's orders under one key"

    # 3. The operator erases Erika.
    out = koppel_cli(config, "privacy", "erase", CONNECTION, ERIKA_EMAIL.upper())
    assert "erased 1 key(s)" in out

    # every service acts on the erasure as it reads it: wait for the last one
    deadline = time.monotonic() + 60
    while found := await found_in_databases(config.mongodb_uri, database_prefix(config), ERIKA):
        assert time.monotonic() < deadline, f"still holding Erika's details: {found}"
        await asyncio.sleep(2.0)
    kept = await found_in_databases(config.mongodb_uri, database_prefix(config), [BRAM_EMAIL])
    assert kept, "the scan does see a customer who was not erased"

    # 4. The dashboard shows her orders without her; Bram's still with him.
    for ref in erika_refs:
        text = (await dashboard.get(f"/connections/{CONNECTION}/orders/{ref}")).text
        assert "Verwijderde klant" in text
        assert not [value for value in ERIKA if value in text]
    overview = (await dashboard.get(f"/connections/{CONNECTION}", follow_redirects=True)).text
    assert not [value for value in ERIKA if value in overview]
    bram = (await dashboard.get(f"/connections/{CONNECTION}/orders/{orders[2]['id']}")).text
    assert BRAM_NAME in bram

    # 5. Compaction drops her key from the topic; what remains is the marker.
    keys_topic = isolation + PRIVACY_KEYS.name
    await compact_soon(bootstrap, keys_topic)

    async def key_gone() -> bool:
        await tombstone(bootstrap, keys_topic, f"privacy-e2e-rollover:{time.time_ns()}".encode())
        records = await read_to_end(bootstrap, keys_topic)
        ours = [r for r in records if r.key and r.key.decode().split(":", 1)[1] in key_ids]
        return bool(ours) and all(b'"state":"erased"' in (r.value or b"") for r in ours)

    await eventually(key_gone, timeout=120, interval=2.0)
    assert await found_on_topics(bootstrap, isolation, ERIKA) == []

    # 6. A replay of the orders topic after the erasure books nothing twice.
    ledger = system["ledger-octopus"]
    ledger.stop()
    group = f"{isolation}ledger-octopus.main"
    orders_topic = isolation + SHOP_ORDERS.name
    koppel_cli(
        config,
        *("replay", "reset-offsets", "--group", group, "--topic", orders_topic),
        *("--to-datetime", started.isoformat(), "--execute"),
        *("--bootstrap-servers", bootstrap),
    )
    ledger.start()
    ledger.wait_ready()
    await caught_up(bootstrap, group, orders_topic)
    async with OctopusControl(parts["octopus"]) as octopus:
        invoices = [i for i in await octopus.invoices(DEMO.dossier_id) if i["reference"] in numbers]
    assert sorted(i["reference"] for i in invoices) == sorted(numbers), "each once"
    assert await found_in_databases(config.mongodb_uri, database_prefix(config), ERIKA) == []

    # 7. A fresh ledger reading the retained topics books the same totals and VAT per rate:
    #    Erika's orders on the anonymous debtor, with nothing of her.
    await fresh_ledger_books_the_same(config, orders, before)

    # 8. And no Koppel service ever wrote her details to its log.
    assert found_in_logs(config.log_dir, ERIKA) == []


async def fresh_ledger_books_the_same(
    config: SystemConfig, orders: list[dict[str, Any]], before: dict[str, CheckEvent]
) -> None:
    bootstrap = config.kafka_bootstrap
    fresh = dataclasses.replace(
        config, isolation=f"fresh{uuid.uuid4().hex[:8]}.", log_dir=config.log_dir / "fresh"
    )
    await ensure_topics(
        bootstrap, plan_topics(partitions=3, replication_factor=1, prefix=fresh.isolation)
    )
    group = ProcessGroup()
    octopus_port, ledger_port = free_port(), free_port()
    try:
        group.start(
            sandbox_process(
                fresh, "fresh-octopus", "koppel_sandbox_octopus", octopus_port, "--quota", "0"
            )
        )
        # What the topics retain, as compaction leaves the keys: the latest record per key.
        keys = await read_to_end(bootstrap, config.isolation + PRIVACY_KEYS.name)
        latest = latest_keys((r.key, r.value) for r in keys)
        await copy_records(
            bootstrap,
            [
                (f"{CONNECTION}:{k}".encode(), e.model_dump_json().encode())
                for k, e in latest.items()
                if e.connection_id == CONNECTION
            ],
            fresh.isolation + PRIVACY_KEYS.name,
        )
        assert CustomerKeyState.ERASED in {e.state for e in latest.values()}
        await publish_connection(
            ServiceSettings(
                service_name="koppel-e2e",
                kafka_bootstrap_servers=bootstrap,
                topic_prefix=fresh.isolation,
            ),
            CONNECTION,
            connection(config, "https://shop.invalid", fresh.url(octopus_port)),
            1,
        )
        mine = [
            (r.key, r.value)
            for r in await read_to_end(bootstrap, config.isolation + SHOP_ORDERS.name)
            if r.key and r.key.decode().startswith(f"{CONNECTION}:")
        ]
        await copy_records(bootstrap, mine, fresh.isolation + SHOP_ORDERS.name)
        group.start(
            service_process(
                fresh,
                "ledger-octopus",
                "KOPPEL_LEDGER_OCTOPUS_",
                ledger_port,
                retry_initial_seconds=1.0,
            )
        )

        async def all_checked() -> dict[str, CheckEvent]:
            found = await checks(bootstrap, fresh.isolation + LEDGER_CHECKS.name)
            return found if len(found) == len(before) else {}

        after = await eventually(all_checked, timeout=120)
        for number, check in before.items():
            again = after[number]
            assert again.outcome == "matched"
            assert again.booked_total_incl_vat == check.booked_total_incl_vat, number
            assert vat_of(again) == vat_of(check), number
        async with OctopusControl(fresh.url(octopus_port)) as octopus:
            relations = {
                r["relationIdentificationServiceData"]["relationKey"]["id"]: r
                for r in await octopus.relations(DEMO.dossier_id)
            }
            invoices = await octopus.invoices(DEMO.dossier_id)
        on = {
            i["reference"]: relations[i["relationIdentificationServiceData"]["relationKey"]["id"]]
            for i in invoices
        }
        erika_numbers = [str(o["ordernumber_full"]) for o in orders[:2]]
        assert {on[n]["name"] for n in erika_numbers} == {"Verwijderde klanten"}
        assert on[str(orders[2]["ordernumber_full"])].get("email") == BRAM_EMAIL
        assert not [v for r in relations.values() for v in ERIKA if v in str(r)]
        assert await found_in_databases(config.mongodb_uri, database_prefix(fresh), ERIKA) == []
    finally:
        group.stop_all()
        await forget_previous_run(fresh)  # its topics and database
        await forget_previous_run(fresh)  # its topics and database

"""The chassis runtime on the real broker and database: health, dead letters, SIGTERM."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import socket
import sys
from pathlib import Path

import httpx
from koppel_chassis import ServiceSettings
from koppel_contracts import SHOP_ORDERS
from koppel_contracts.topics import DLQ_HEADER_ERROR, DLQ_HEADER_ORIGINAL_TOPIC
from koppel_testkit import eventually, make_order_event, publish_raw, read_records

EXAMPLE = Path(__file__).with_name("example_service.py")


def _load_example():
    # The example doubles as a standalone program (run by the SIGTERM test), so it
    # is loaded by path rather than imported as part of a test package.
    spec = importlib.util.spec_from_file_location("chassis_example_service", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_example().build


async def test_health_endpoints_and_metrics(kafka_topics, make_settings) -> None:
    service = build(make_settings(service_name="example"))
    app = service.asgi()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        assert (await http.get("/livez")).status_code == 200
        assert (await http.get("/readyz")).status_code == 503, "not ready before start"
        await service.start()
        try:
            ready = await http.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"] == {"kafka": True, "mongodb": True}
            metrics = await http.get("/metrics")
            assert "koppel_dead_letters_total" in metrics.text
        finally:
            await service.stop()


async def test_not_ready_when_dependencies_do_not_answer() -> None:
    dead = _free_port()
    settings = ServiceSettings(
        service_name="example",
        kafka_bootstrap_servers=f"127.0.0.1:{dead}",
        mongodb_uri=f"mongodb://127.0.0.1:{dead}/?serverSelectionTimeoutMS=500",
    )
    service = build(settings)
    assert await service.readiness() == {"kafka": False, "mongodb": False}


async def test_undecodable_messages_go_to_the_dead_letter_topic_and_consuming_goes_on(
    kafka_topics, make_settings, kafka_bootstrap
) -> None:
    service = build(make_settings(service_name="example"))
    topic = kafka_topics[SHOP_ORDERS.name]
    await service.start()
    try:
        bad = json.loads(make_order_event(connection_id="shop-a").model_dump_json())
        del bad["connection_id"]
        await publish_raw(kafka_bootstrap, topic, b"{not json", b"shop-a:1")
        await publish_raw(kafka_bootstrap, topic, json.dumps(bad).encode(), b"shop-a:2")
        good = make_order_event(connection_id="shop-a", order_ref="3")
        await publish_raw(kafka_bootstrap, topic, good.model_dump_json().encode(), b"shop-a:3")

        async def good_one_seen() -> bool:
            return await service.db["seen"].count_documents({}) == 1

        await eventually(good_one_seen)
    finally:
        await service.stop()

    dead = await read_records(kafka_bootstrap, topic + ".dlq", at_least=2, settle=1.0)
    assert len(dead) == 2
    errors = {r.key: dict(r.headers) for r in dead}
    assert (
        errors[b"shop-a:2"][DLQ_HEADER_ERROR].decode().startswith("connection_id: Field required")
    )
    assert errors[b"shop-a:2"][DLQ_HEADER_ORIGINAL_TOPIC].decode() == topic
    assert b"Invalid JSON" in errors[b"shop-a:1"][DLQ_HEADER_ERROR]
    assert {r.value for r in dead} >= {b"{not json"}
    assert await _count(service, make_settings) == 1


async def _count(service, make_settings) -> int:
    from pymongo import AsyncMongoClient

    client = AsyncMongoClient(service.settings.mongodb_uri.get_secret_value())
    try:
        return await client[service.settings.database_name]["seen"].count_documents({})
    finally:
        await client.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_sigterm_stops_the_service_cleanly(kafka_topics, make_settings) -> None:
    settings = make_settings(service_name="example")
    port = _free_port()
    env = {
        **os.environ,
        "KOPPEL_EXAMPLE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KOPPEL_EXAMPLE_MONGODB_URI": settings.mongodb_uri.get_secret_value(),
        "KOPPEL_EXAMPLE_MONGODB_DATABASE": settings.database_name,
        "KOPPEL_EXAMPLE_TOPIC_PREFIX": settings.topic_prefix,
        "KOPPEL_EXAMPLE_CONSUMER_GROUP_PREFIX": settings.consumer_group_prefix,
        "KOPPEL_EXAMPLE_HTTP_HOST": "127.0.0.1",
        "KOPPEL_EXAMPLE_HTTP_PORT": str(port),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient() as http:

            async def ready() -> bool:
                try:
                    r = await http.get(f"http://127.0.0.1:{port}/readyz")
                except httpx.TransportError:
                    return False
                return r.status_code == 200

            await eventually(ready, timeout=60)
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
        output = (await process.stdout.read()).decode()
        # uvicorn re-raises SIGTERM once the shutdown is complete, as Kubernetes expects.
        assert code in (0, -signal.SIGTERM), output
        lines = [json.loads(x) for x in output.splitlines() if x.startswith("{")]
        messages = [x["message"] for x in lines]
        assert "service started" in messages and "service stopped" in messages
        assert messages.index("service stopped") < messages.index("Application shutdown complete.")
        assert all(x["service"] == "example" for x in lines)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

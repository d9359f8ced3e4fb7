"""`koppel dlq` against the real broker: list, and republish exactly once."""

import asyncio

from koppel_cli.main import app
from koppel_contracts import SHOP_ORDERS
from koppel_contracts.topics import DLQ_HEADER_ERROR, DLQ_HEADER_ORIGINAL_TOPIC
from koppel_testkit import publish_raw, read_records
from typer.testing import CliRunner


async def test_dead_letters_are_listed_and_republished_once(
    kafka_topics, kafka_bootstrap, topic_prefix
) -> None:
    origin = kafka_topics[SHOP_ORDERS.name]
    for n in (1, 2):
        await publish_raw(
            kafka_bootstrap,
            origin + ".dlq",
            f'{{"order": {n}}}'.encode(),
            f"shop-a:{n}".encode(),
            headers=[
                (DLQ_HEADER_ORIGINAL_TOPIC, origin.encode()),
                (DLQ_HEADER_ERROR, b"connection_id: Field required"),
            ],
        )
    env = {"KOPPEL_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KOPPEL_TOPIC_PREFIX": topic_prefix}

    async def koppel(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)

    listed = await koppel("dlq", "list", SHOP_ORDERS.name)
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("error: connection_id: Field required") == 2

    dry = await koppel("dlq", "republish", "--dry-run", SHOP_ORDERS.name)
    assert "would republish 2" in dry.output
    first = await koppel("dlq", "republish", SHOP_ORDERS.name)
    assert "republished 2" in first.output, first.output
    again = await koppel("dlq", "republish", SHOP_ORDERS.name)
    assert "republished 0" in again.output, again.output

    back = await read_records(kafka_bootstrap, origin, at_least=2, settle=1.0)
    assert sorted(r.key for r in back) == [b"shop-a:1", b"shop-a:2"]
    assert all(dict(r.headers)["x-koppel-republished-from"].startswith(b"t") for r in back)

"""`koppel privacy` against the real broker: a customer's keys found by e-mail and erased."""

from __future__ import annotations

import asyncio

import pytest
from koppel_chassis import SecretBox, generate_key
from koppel_cli.main import app
from koppel_contracts import PRIVACY_KEYS, CustomerKeyEvent, CustomerKeyState, SourceSystem
from koppel_privacy import CustomerKey, latest_keys, subject_digest
from koppel_testkit import publish_raw, read_records
from typer.testing import CliRunner


@pytest.fixture
def cli_env(kafka_topics, kafka_bootstrap, topic_prefix, secrets_key) -> dict[str, str]:
    return {
        "KOPPEL_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KOPPEL_TOPIC_PREFIX": topic_prefix,
        "KOPPEL_SECRETS_KEY": secrets_key,
    }


async def koppel(env: dict[str, str], *args: str):
    # The command runs its own event loop (asyncio.run): give it a thread.
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def add_key(
    bootstrap: str, topic: str, box: SecretBox, connection_id: str, email: str | None, ref: str
) -> CustomerKeyEvent:
    key = CustomerKey.generate()
    digest = subject_digest(connection_id, email=email, order_ref=ref)
    event = CustomerKeyEvent.active(
        connection_id, key.key_id, key.wrapped(box), box.encrypt(digest), SourceSystem.CCVSHOP
    )
    await publish_raw(
        bootstrap, topic, event.model_dump_json().encode(), f"{connection_id}:{key.key_id}".encode()
    )
    return event


async def states(bootstrap: str, topic: str, at_least: int) -> dict[str, CustomerKeyState]:
    records = await read_records(bootstrap, topic, at_least=at_least, settle=0.5)
    return {k: e.state for k, e in latest_keys((r.key, r.value) for r in records).items()}


async def test_a_customer_is_erased_by_email_and_nobody_else(
    cli_env, kafka_bootstrap, kafka_topics, secrets_key
) -> None:
    topic, box = kafka_topics[PRIVACY_KEYS.name], SecretBox(secrets_key)
    jan = await add_key(kafka_bootstrap, topic, box, "shop-1", "jan@example.nl", "1")
    jan_too = await add_key(kafka_bootstrap, topic, box, "shop-1", "jan@example.nl", "2")
    piet = await add_key(kafka_bootstrap, topic, box, "shop-1", "piet@example.nl", "3")
    elsewhere = await add_key(kafka_bootstrap, topic, box, "shop-2", "jan@example.nl", "4")
    no_mail = await add_key(kafka_bootstrap, topic, box, "shop-1", None, "1009")

    dry = await koppel(cli_env, "privacy", "erase", "shop-1", "Jan@Example.nl", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would erase 2 key(s)" in dry.output and jan.key_id in dry.output

    done = await koppel(cli_env, "privacy", "erase", "shop-1", "Jan@Example.nl")
    assert done.exit_code == 0, done.output
    assert "erased 2 key(s)" in done.output
    by_order = await koppel(cli_env, "privacy", "erase", "shop-1", "--order", "1009")
    assert by_order.exit_code == 0 and "erased 1 key(s)" in by_order.output

    found = await states(kafka_bootstrap, topic, at_least=8)
    assert found == {
        jan.key_id: CustomerKeyState.ERASED,
        jan_too.key_id: CustomerKeyState.ERASED,
        piet.key_id: CustomerKeyState.ACTIVE,
        elsewhere.key_id: CustomerKeyState.ACTIVE,
        no_mail.key_id: CustomerKeyState.ERASED,
    }
    again = await koppel(cli_env, "privacy", "erase", "shop-1", "jan@example.nl")
    assert again.exit_code == 0 and "nothing to erase" in again.output
    counted = await koppel(cli_env, "privacy", "keys", "shop-1")
    assert "shop-1: 1 active customer key(s), 3 erased" in counted.output


async def test_keys_are_rewrapped_with_the_newest_privacy_key(
    cli_env, kafka_bootstrap, kafka_topics, secrets_key
) -> None:
    topic, box = kafka_topics[PRIVACY_KEYS.name], SecretBox(secrets_key)
    await add_key(kafka_bootstrap, topic, box, "shop-1", "jan@example.nl", "1")
    new = generate_key()
    rotating = {**cli_env, "KOPPEL_SECRETS_KEY": f"{new},{secrets_key}"}
    done = await koppel(rotating, "privacy", "rewrap")
    assert done.exit_code == 0 and "re-wrapped 1 active customer key(s)" in done.output
    # with only the new key, the customer is still found (and so is their key)
    only_new = {**cli_env, "KOPPEL_SECRETS_KEY": new}
    found = await koppel(only_new, "privacy", "erase", "shop-1", "jan@example.nl", "--dry-run")
    assert "would erase 1 key(s)" in found.output, found.output


async def test_an_address_that_is_no_email_is_refused(cli_env) -> None:
    refused = await koppel(cli_env, "privacy", "erase", "shop-1", "jan")
    assert refused.exit_code == 2 and "not an e-mail address" in refused.output

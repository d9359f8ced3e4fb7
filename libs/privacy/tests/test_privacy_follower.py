"""A service follows privacy.keys.v1 on the real broker and acts on erasures."""

from __future__ import annotations

from koppel_chassis import SecretBox, Service
from koppel_contracts import PRIVACY_KEYS, CustomerKeyEvent, SourceSystem
from koppel_privacy import CustomerKey, MongoKeyStore, erasures, follow_customer_keys
from koppel_testkit import eventually, publish_raw


async def test_a_followed_key_is_stored_and_its_erasure_runs_the_hooks_with_the_key(
    kafka_topics, make_settings, kafka_bootstrap, secrets_key
) -> None:
    box = SecretBox(secrets_key)
    service = Service(make_settings(service_name="privacy-example"))
    store = MongoKeyStore(service.db)
    erased: list[tuple[str, str, str | None]] = []
    failures = [RuntimeError("database away")]

    async def hook(connection_id: str, key_id: str, previous: CustomerKey | None) -> None:
        if failures:
            raise failures.pop()  # redelivered: the key must still be there the second time
        erased.append((connection_id, key_id, previous.key_id if previous else None))

    follow_customer_keys(service, box, store, on_erased=[hook])
    topic = kafka_topics[PRIVACY_KEYS.name]
    key, unknown = CustomerKey.generate(), CustomerKey.generate()
    active = CustomerKeyEvent.active(
        "shop-1", key.key_id, key.wrapped(box), box.encrypt("d"), SourceSystem.CCVSHOP
    )
    marker = erasures([active])[0]

    async def send(event: CustomerKeyEvent | None, key_id: str) -> None:
        body = event.model_dump_json().encode() if event is not None else b""
        await publish_raw(kafka_bootstrap, topic, body, f"shop-1:{key_id}".encode())

    await service.start()
    try:
        await send(active, key.key_id)

        async def stored() -> bool:
            found = await store.get(key.key_id)
            return found is not None and not found.erased

        await eventually(stored)
        await send(marker, key.key_id)
        await send(active, key.key_id)  # replayed before compaction: no resurrection
        await send(None, unknown.key_id)  # a tombstone erases too

        async def both_erased() -> bool:
            found, other = await store.get(key.key_id), await store.get(unknown.key_id)
            return bool(found and found.erased and other and other.erased)

        await eventually(both_erased, timeout=30)
        found = await store.get(key.key_id)
        assert found is not None and found.erased and found.wrapped is None
    finally:
        await service.stop()
    # the two keys live on different partitions: their order is not given
    assert sorted(erased) == sorted(
        [("shop-1", key.key_id, key.key_id), ("shop-1", unknown.key_id, None)]
    ), "once each, after the failed attempt"

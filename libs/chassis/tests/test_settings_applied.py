"""A service that takes a settings version says so on `config.applied.v1` (real broker)."""

from __future__ import annotations

from koppel_chassis import ConnectionStore, Service, follow_connections
from koppel_contracts import (
    CONNECTIONS,
    SETTINGS_APPLIED,
    ConnectionSettings,
    ConnectionSettingsEvent,
    SettingsApplied,
)
from koppel_testkit import eventually, publish_raw, read_records


def settings(journal: str) -> ConnectionSettings:
    return ConnectionSettings.model_validate(
        {
            "merchant": {"name": "De Boon", "contact_email": "boekhouding@deboon.nl"},
            "shop": {
                "system": "ccvshop",
                "base_url": "https://deboon.ccvshop.nl",
                "account_id": "PUBLIC-KEY-123",
                "credentials": {"api_secret": "enc:v1:secret"},
            },
            "ledger": {
                "system": "octopus",
                "base_url": "https://octopus.example/octopus-rest-api/v1",
                "dossier_id": "1234",
                "credentials": {"password": "enc:v1:password"},
                "octopus": {"journal": journal},
            },
        }
    )


async def test_each_applied_version_is_announced_once_and_a_stale_one_not(
    kafka_topics, make_settings, kafka_bootstrap
) -> None:
    service = Service(make_settings(service_name="ledger-example"))
    store = ConnectionStore(service.db["connections"], cache_seconds=0)
    follow_connections(service, store)
    topic = kafka_topics[CONNECTIONS.name]
    await service.start()
    try:
        for version, journal in ((1, "V1"), (2, "V2"), (1, "OLD")):
            event = ConnectionSettingsEvent.of("shop-1", settings(journal), version)
            await publish_raw(kafka_bootstrap, topic, event.model_dump_json().encode(), b"shop-1")

        async def version_two_stored() -> bool:
            current = await store.current("shop-1")
            return current is not None and current[1] == 2

        await eventually(version_two_stored)
    finally:
        await service.stop()

    records = await read_records(
        kafka_bootstrap, kafka_topics[SETTINGS_APPLIED.name], at_least=2, settle=1.0
    )
    applied = [SettingsApplied.model_validate_json(r.value) for r in records]
    assert [(a.component, a.version) for a in applied] == [
        ("ledger-example", 1),
        ("ledger-example", 2),
    ], "the stale version 1 after version 2 is not applied, so not announced"
    assert {r.key for r in records} == {b"shop-1"}
    assert len({a.event_id for a in applied}) == 2

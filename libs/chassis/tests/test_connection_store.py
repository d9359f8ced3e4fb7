"""The connection settings store against the real MongoDB-compatible server."""

from __future__ import annotations

from koppel_chassis import ConnectionStore
from koppel_contracts import ConnectionSettings, ConnectionSettingsEvent


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
            },
            "mapping": {"journal": journal},
        }
    )


async def test_current_answers_from_memory_until_a_change_is_applied(mongo_db) -> None:
    store = ConnectionStore(mongo_db["connections"], cache_seconds=3600)
    assert await store.current("shop-1") is None
    await store.apply(ConnectionSettingsEvent.of("shop-1", settings("V1"), 1))
    stored, version = await store.current("shop-1")  # type: ignore[misc]
    assert version == 1 and stored.ledger.octopus.journal == "V1"

    # another replica stores version 2: this one sees it once its memory expires ...
    other = ConnectionStore(mongo_db["connections"])
    await other.apply(ConnectionSettingsEvent.of("shop-1", settings("V2"), 2))
    assert (await store.current("shop-1"))[1] == 1  # type: ignore[index]
    assert (await other.current("shop-1"))[1] == 2, "no memory: always read"  # type: ignore[index]
    # ... and a change this process applies itself at once
    await store.apply(ConnectionSettingsEvent.of("shop-1", settings("V3"), 3))
    stored, version = await store.current("shop-1")  # type: ignore[misc]
    assert version == 3 and stored.ledger.octopus.journal == "V3"
    await store.remove("shop-1")
    assert await store.current("shop-1") is None


async def test_no_settings_yet_is_not_remembered(mongo_db) -> None:
    """Orders that arrive before their connection's settings must see the settings as soon
    as another replica stores them, not a cache's "none" later."""
    store = ConnectionStore(mongo_db["connections"], cache_seconds=3600)
    assert await store.current("shop-2") is None
    other = ConnectionStore(mongo_db["connections"])
    await other.apply(ConnectionSettingsEvent.of("shop-2", settings("V1"), 1))
    found = await store.current("shop-2")
    assert found is not None and found[1] == 1

"""Pytest fixtures every Koppel test suite can use (registered as the `koppel` plugin).

Integration tests get the real broker and database; each test has its own
topic prefix and its own database, so tests never see each other's data.
Tests that use the real-infrastructure fixtures are marked `integration`
automatically; `-m "not integration"` runs the fast unit tests alone.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from koppel_chassis import ServiceSettings, generate_key
from koppel_chassis.topic_admin import ensure_topics, plan_topics
from koppel_contracts import ALL_TOPICS
from pymongo import AsyncMongoClient

from .infrastructure import Infrastructure, provide_infrastructure
from .kafka import delete_topics

_INFRA_FIXTURES = {"infrastructure", "kafka_bootstrap", "mongodb_uri", "kafka_topics", "mongo_db"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _INFRA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    with provide_infrastructure() as infra:
        yield infra


@pytest.fixture(scope="session")
def kafka_bootstrap(infrastructure: Infrastructure) -> str:
    return infrastructure.kafka_bootstrap


@pytest.fixture(scope="session")
def mongodb_uri(infrastructure: Infrastructure) -> str:
    return infrastructure.mongodb_uri


@pytest.fixture
def test_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def topic_prefix(test_id: str) -> str:
    return f"t{test_id}."


@pytest.fixture
async def kafka_topics(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[dict[str, str]]:
    """Every contract topic (and its dead-letter topic) under this test's prefix.

    They are deleted after the test: a suite creates thousands of partitions, and a
    single-node broker that keeps them all slows down and runs out of heap.
    """
    specs = plan_topics(partitions=3, replication_factor=1, prefix=topic_prefix)
    await ensure_topics(kafka_bootstrap, specs)
    yield {t.name: topic_prefix + t.name for t in ALL_TOPICS}
    await delete_topics(kafka_bootstrap, [spec.name for spec in specs])


@pytest.fixture
async def mongo_db(mongodb_uri: str, test_id: str) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    db = client[f"test_{test_id}"]
    try:
        yield db
    finally:
        await client.drop_database(db.name)
        await client.close()


@pytest.fixture(scope="session")
def secrets_key() -> str:
    return generate_key()


@pytest.fixture
async def make_settings(
    kafka_bootstrap: str, mongodb_uri: str, topic_prefix: str, test_id: str, secrets_key: str
) -> AsyncIterator[Callable[..., Any]]:
    """Settings for a service under test: real infrastructure, this test's topics and database.

    The databases of the settings made here are dropped when the test ends.
    """
    databases: set[str] = set()

    def build(settings_class: type[ServiceSettings] = ServiceSettings, **overrides: Any) -> Any:
        values: dict[str, Any] = {
            "kafka_bootstrap_servers": kafka_bootstrap,
            "mongodb_uri": mongodb_uri,
            "topic_prefix": topic_prefix,
            "consumer_group_prefix": topic_prefix,
            "secrets_key": secrets_key,
            "http_port": 0,
            "redelivery_delay_seconds": 0.2,
        }
        values.update(overrides)
        values.setdefault("mongodb_database", f"test_{test_id}_{values.get('service_name', 'svc')}")
        settings = settings_class(**values)
        databases.add(settings.database_name)
        return settings

    yield build
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    try:
        for name in databases:
            await client.drop_database(name)
    finally:
        await client.close()

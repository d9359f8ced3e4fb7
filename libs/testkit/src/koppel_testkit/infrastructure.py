"""Where the tests' real Kafka and MongoDB come from, in this order:

1. addresses in the environment (`KAFKA_BOOTSTRAP_SERVERS`, `MONGODB_URI`);
2. a Docker engine that answers: testcontainers (Kafka KRaft + MongoDB images);
3. otherwise the project's own local stack (`deploy/local`: Kafka from its jars,
   FerretDB built from the Go module proxy) — never a skip.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    mongodb_uri: str
    origin: str


def docker_engine_answers() -> bool:
    # The docker CLI may exist without an engine (as on our CI machines):
    # only a ping to the daemon tells.
    try:
        import docker

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


@contextmanager
def _from_testcontainers(stack: ExitStack, need_kafka: bool, need_mongo: bool) -> Iterator[dict]:
    from testcontainers.community.kafka import KafkaContainer
    from testcontainers.community.mongodb import MongoDbContainer

    found: dict[str, str] = {}
    if need_kafka:
        kafka = stack.enter_context(KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft())
        found["kafka"] = kafka.get_bootstrap_server()
    if need_mongo:
        mongo = stack.enter_context(MongoDbContainer("mongo:7.0"))
        found["mongo"] = mongo.get_connection_url()
    yield found


@contextmanager
def provide_infrastructure() -> Iterator[Infrastructure]:
    kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("MONGODB_URI")
    if kafka and mongo:
        yield Infrastructure(kafka, mongo, "environment")
        return
    with ExitStack() as stack:
        if docker_engine_answers():
            found = stack.enter_context(_from_testcontainers(stack, not kafka, not mongo))
            yield Infrastructure(kafka or found["kafka"], mongo or found["mongo"], "testcontainers")
            return
        import koppel_localstack

        config = koppel_localstack.StackConfig.from_env()
        already_running = _stack_running(koppel_localstack, config)
        endpoints = koppel_localstack.start(config)
        try:
            yield Infrastructure(
                kafka or endpoints.kafka_bootstrap,
                mongo or endpoints.mongodb_uri,
                "local stack (reused)" if already_running else "local stack",
            )
        finally:
            # Leave a stack someone else started (a developer's `make run`) alone.
            if not already_running and not os.environ.get("KOPPEL_KEEP_STACK"):
                koppel_localstack.stop(config)


def _stack_running(module: object, config: object) -> bool:
    try:
        state = module.status(config)  # type: ignore[attr-defined]
    except Exception:
        return False
    return all(part.get("answering") for part in state.values() if isinstance(part, dict))

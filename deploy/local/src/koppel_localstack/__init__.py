"""Koppel's local stack: a real Kafka 4.x broker and a MongoDB-compatible FerretDB,
run as plain background processes (no Docker).

    from koppel_localstack import StackConfig, start, stop, status
    eps = start(StackConfig.from_env())
    eps.kafka_bootstrap, eps.mongodb_uri
"""

from .config import Endpoints, StackConfig, StackError
from .stack import endpoints, start, status, stop

__all__ = ["Endpoints", "StackConfig", "StackError", "endpoints", "start", "status", "stop"]

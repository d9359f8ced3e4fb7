"""Shared service plumbing for Koppel: written once, used by every service."""

from .broker import (
    EventPublisher,
    TopicNames,
    batch_events,
    create_broker,
    decode_event,
    decoded,
    describe_validation_error,
)
from .connections import ConnectionStore, follow_connections
from .httpclient import (
    CredentialsError,
    ExternalError,
    PermanentError,
    PolicyClient,
    TransientError,
    classify_exception,
    classify_response,
)
from .keyed_locks import KeyedLocks
from .leases import LeaseStore
from .logging import configure_logging, log_context, redact
from .mongo import IndexSpec, create_mongo_client, ensure_indexes, purge_expired
from .requests import Reply, answer_requests
from .secrets import Sealer, SecretBox, SecretsKeyMissing, SecretUnreadable, generate_key
from .service import Service
from .settings import ServiceSettings

__all__ = [
    "ConnectionStore",
    "CredentialsError",
    "EventPublisher",
    "ExternalError",
    "IndexSpec",
    "KeyedLocks",
    "LeaseStore",
    "PermanentError",
    "PolicyClient",
    "Reply",
    "Sealer",
    "SecretBox",
    "SecretUnreadable",
    "SecretsKeyMissing",
    "Service",
    "ServiceSettings",
    "TopicNames",
    "TransientError",
    "answer_requests",
    "batch_events",
    "classify_exception",
    "classify_response",
    "configure_logging",
    "create_broker",
    "create_mongo_client",
    "decode_event",
    "decoded",
    "describe_validation_error",
    "ensure_indexes",
    "follow_connections",
    "generate_key",
    "log_context",
    "purge_expired",
    "redact",
]

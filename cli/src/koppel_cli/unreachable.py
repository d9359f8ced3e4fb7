"""One line instead of a traceback when the CLI cannot reach Kafka, MongoDB or a shop.

A command that fails because a server does not answer says which server, at which
address, and what to check; the traceback is for `--debug`. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, NoBrokersAvailable
from koppel_chassis import ServiceSettings
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError

_KAFKA = (KafkaConnectionError, KafkaTimeoutError, NoBrokersAvailable)
_MONGO = (ServerSelectionTimeoutError, ConnectionFailure)
_HTTP = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, what caused it, and the members of exception groups, depth first."""
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)


def _host_of(uri: str) -> str:
    parts = urlsplit(uri)
    return (parts.hostname and f"{parts.hostname}:{parts.port or 27017}") or uri


def explain(error: BaseException, settings: ServiceSettings) -> str | None:
    """The one line for an unreachable server, or None (not that kind of failure)."""
    for cause in _chain(error):
        if isinstance(cause, _KAFKA):
            return (
                f"Kafka does not answer at {settings.kafka_bootstrap_servers}: start it "
                "(`make run` on this machine) or set KOPPEL_KAFKA_BOOTSTRAP_SERVERS to the "
                "brokers' address."
            )
        if isinstance(cause, _MONGO):
            uri = settings.mongodb_uri.get_secret_value()
            return (
                f"MongoDB does not answer at {_host_of(uri)}: start it (`make run` on this "
                "machine) or set KOPPEL_MONGODB_URI to the server's address."
            )
        if isinstance(cause, _HTTP):
            request = getattr(cause, "request", None)
            where = f" at {request.url}" if request is not None else ""
            return (
                f"The server does not answer{where} ({type(cause).__name__}): check the "
                "address (and that the service is running)."
            )
    return None

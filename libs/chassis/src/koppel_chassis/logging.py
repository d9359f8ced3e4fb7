"""Structured JSON logs with the connection and order a line is about.

`log_context(connection_id=..., order_ref=...)` binds ids for everything logged
inside it (contextvars, so concurrent tasks do not mix their ids).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar(
    "koppel_log_context",
    default={},  # noqa: B039 - never mutated, always replaced
)

# Encrypted blobs and obvious credential parameters never reach a log line,
# whatever a careless message interpolates.
_SECRET_PATTERNS = (
    re.compile(r"enc:v1:[A-Za-z0-9_\-=]+"),
    re.compile(r"(?i)(password|secret|token|apikey|api_key)=([^&\s\"']+)"),
)


def redact(text: str) -> str:
    # Function replacements, not templates: templates are compiled lazily and that
    # import fails when a last line is logged during interpreter shutdown.
    text = _SECRET_PATTERNS[0].sub(lambda _: "enc:v1:***", text)
    return _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}=***", text)


@contextmanager
def log_context(**ids: Any) -> Iterator[None]:
    token = _context.set({**_context.get(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_log_context() -> dict[str, Any]:
    return dict(_context.get())


class _ContextFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        # Redact the finished message: a secret may sit in the format string or in an argument.
        record.msg = redact(record.getMessage())
        record.args = None
        return True


# Client libraries log every failed reconnect, per connection and retry: one Kafka outage
# of 40 s wrote 16,330 ERROR lines (issue #17); the fault run (tests/faults) counted 74,519
# WARNING+ lines from aiokafka in a 39 s broker restart, 2,788 in its worst second.
QUIET_LIBRARIES = ("aiokafka", "kafka", "pymongo", "faststream", "httpx", "httpcore")
REPEAT_SECONDS = 10.0


class _RepeatLimit(logging.Filter):
    """A library's warning or error that repeats passes once per `period` seconds (per logger,
    level and message template); the next one that passes carries `repeated`: how many were
    left out. Our own code's lines are never held back."""

    def __init__(self, libraries: tuple[str, ...], period: float = REPEAT_SECONDS) -> None:
        super().__init__()
        self.libraries = libraries
        self.period = period
        self._last: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(self.libraries):
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        last, repeated = self._last.get(key, (None, 0))
        if last is not None and now - last < self.period:
            self._last[key] = (last, repeated + 1)
            return False
        if len(self._last) > 1000:  # messages built per call would each be a new key
            self._last.clear()
        self._last[key] = (now, 0)
        if repeated:
            record.repeated = repeated
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    # Before the context filter: that one replaces the message template with the message.
    handler.addFilter(_RepeatLimit(QUIET_LIBRARIES))
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "pymongo", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

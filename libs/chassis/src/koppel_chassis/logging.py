"""Structured JSON logs with the connection and order a line is about.

`log_context(connection_id=..., order_ref=...)` binds ids for everything logged
inside it (contextvars, so concurrent tasks do not mix their ids).
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
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


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "pymongo", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

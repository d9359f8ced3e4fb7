"""Secrets never leave the dashboard: payloads shown on a page, stored in a support case or
mailed to support pass through `mask` first."""

from __future__ import annotations

import re
from typing import Any

from koppel_chassis import redact
from koppel_contracts import ENCRYPTED_PREFIX

MASK = "********"

# Names whose value is a secret wherever they occur (credentials dicts are masked whole).
_SECRET_NAME = re.compile(
    r"(?i)(password|passwd|secret|token|api_?key|koppelsleutel|private_?key|subscription_?key"
    r"|client_?secret|authorization)"
)


def mask(value: Any, *, name: str = "") -> Any:
    """A copy of `value` (JSON-like data) with every secret replaced by asterisks."""
    if isinstance(value, dict):
        if name == "credentials":
            return {str(k): MASK for k in value}
        return {str(k): mask(v, name=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, name=name) for v in value]
    if isinstance(value, str):
        if value.startswith(ENCRYPTED_PREFIX) or (name and _SECRET_NAME.search(name)):
            return MASK
        return redact(value)
    if name and _SECRET_NAME.search(name) and value is not None:
        return MASK
    return value

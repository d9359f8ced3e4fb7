"""The envelope every Koppel event carries, and the deterministic event id."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Fixed namespace so the same source change always yields the same event id,
# in every service and every replica, forever.
EVENT_ID_NAMESPACE = uuid.UUID("6d0f6c2e-5b1a-4a43-9a39-2a8f3c1f0b7e")


class SourceSystem(StrEnum):
    CCVSHOP = "ccvshop"
    PRESTASHOP = "prestashop"
    BOL = "bol"
    OCTOPUS = "octopus"
    SNELSTART = "snelstart"
    ASPERION = "asperion"
    KOPPEL = "koppel"


class ContractModel(BaseModel):
    """Base for every contract model.

    Unknown fields are ignored rather than refused: a consumer still running the
    previous release must keep reading events that gained an optional field
    (the compatibility test guards the other direction).
    """

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    # Fields added after a model was first published. At their default they are left out
    # of content hashes, so an order fetched again after an upgrade hashes as before and
    # is not republished as an amendment of itself.
    added_fields: ClassVar[frozenset[str]] = frozenset()


class Envelope(ContractModel):
    """Fields shared by every event. Concrete events add a literal `event_type`."""

    event_id: str = Field(min_length=1, description="Deterministic per source change")
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    connection_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$")
    source_system: SourceSystem
    correlation_id: str | None = Field(
        default=None, description="Ties the events of one order's journey together"
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


def canonical_json(data: Any) -> str:
    """Stable JSON text: sorted keys, no whitespace — the input of content hashes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def stable_dump(model: BaseModel, exclude: set[str] | None = None) -> dict[str, Any]:
    """`model` as JSON data without the later-added fields that are at their default."""
    data = model.model_dump(mode="json", exclude=exclude)
    _strip_added(model, data)
    return data


def _strip_added(model: BaseModel, data: dict[str, Any]) -> None:
    fields = type(model).model_fields
    for name in getattr(model, "added_fields", ()):
        if name in data and getattr(model, name) == fields[name].get_default(
            call_default_factory=True
        ):
            del data[name]
    for name, value in model:
        if name not in data:
            continue
        if isinstance(value, BaseModel):
            _strip_added(value, data[name])
        elif isinstance(value, list | tuple):
            for item, dumped in zip(value, data[name], strict=True):
                if isinstance(item, BaseModel):
                    _strip_added(item, dumped)


def content_hash(data: Any) -> str:
    """SHA-256 over the canonical JSON of `data` (a dict or a pydantic model)."""
    if isinstance(data, BaseModel):
        data = stable_dump(data)
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def make_event_id(*parts: str) -> str:
    """UUIDv5 over the parts: the same connection, order and change give the same id."""
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "|".join(parts)))

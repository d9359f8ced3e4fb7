"""A connection's settings file (YAML), validated with line numbers and sealed for Kafka.

The operator's file holds plaintext credentials; they are encrypted here,
before anything leaves the machine, and only the ciphertext is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from koppel_chassis import Sealer, SecretBox
from koppel_contracts import ConnectionSettings
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

SECRET_SECTIONS = ("shop", "ledger")


class SettingsFileError(Exception):
    """A message naming the file, line and field, for the operator."""


@dataclass(frozen=True)
class LoadedConnection:
    connection_id: str
    settings: ConnectionSettings


def _line_of(document: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest part of `loc` that exists in the YAML document."""
    node, line = document, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _seal(document: CommentedMap, box: SecretBox | Sealer) -> dict[str, Any]:
    sealer = box if isinstance(box, Sealer) else Sealer(box)
    return sealer.seal(_plain(document))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def load_connection_file(path: Path, box: SecretBox | Sealer) -> LoadedConnection:
    """`box`: one key for every secret, or a Sealer with a key per system."""
    yaml = YAML(typ="rt")
    try:
        document = yaml.load(path.read_text())
    except FileNotFoundError:
        raise SettingsFileError(f"{path}: no such file") from None
    except MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}" if mark else "unknown line"
        raise SettingsFileError(f"{path}, {where}: not valid YAML: {error.problem}") from None
    if not isinstance(document, CommentedMap):
        raise SettingsFileError(f"{path}: expected a mapping at the top level")
    connection_id = document.get("connection_id")
    if not connection_id or not isinstance(connection_id, str):
        raise SettingsFileError(
            f"{path}: field 'connection_id' is required (a short id, e.g. koffie-ccv)"
        )
    body = _seal(document, box)
    body.pop("connection_id")
    try:
        settings = ConnectionSettings.model_validate(body)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc = tuple(item["loc"])
            field = ".".join(str(p) for p in loc)
            line = _line_of(document, loc)
            where = f"line {line}" if line else "missing"
            problems.append(f"{path}, {where}: field '{field}': {item['msg']}")
        raise SettingsFileError("\n".join(problems)) from None
    return LoadedConnection(connection_id, settings)


def masked(settings: ConnectionSettings) -> dict[str, Any]:
    """Settings as plain data with every credential replaced by asterisks."""
    data = settings.model_dump(mode="json")
    for section in SECRET_SECTIONS:
        creds = data[section].get("credentials") or {}
        for name in creds:
            creds[name] = "********"
    return data

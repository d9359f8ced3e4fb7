"""The event map: every service's AsyncAPI document, and one map of them all.

    uv run python scripts/asyncapi.py --write   # after changing what a service publishes/consumes
    uv run python scripts/asyncapi.py           # check only: exit 1 when a committed one differs

Each service is built as it is deployed (nothing is started: no Kafka, no MongoDB) and asked
for its document (`Service.asyncapi()`, what it serves on `GET /asyncapi.json`). FastStream
generates it from the publishers and subscribers the service declared. The documents are
written to `libs/contracts/schemas/asyncapi/<service>.json`, next to the JSON Schema
snapshots, with `event-map.json`: every channel once, which service publishes and which
consumes it. `tests/eventmap` fails when a committed document differs from the code.

This lives outside `libs/contracts` because it imports every service (contracts import none).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from koppel_chassis import Service, ServiceSettings, generate_key

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ROOT / "libs" / "contracts" / "schemas" / "asyncapi"
EVENT_MAP = "event-map"
# The broker address the committed documents name (compose's); a running service's own
# document names the one it is configured with.
KAFKA = "kafka:9092"

Document = dict[str, Any]


@dataclass(frozen=True)
class Deployable:
    """A service as deployed: where its `build` and its settings class are."""

    build: str  # "module:function"
    settings: str  # "module:Class"
    required: dict[str, Any] = field(default_factory=dict)  # settings without a default

    def service(self) -> Service:
        settings_class = _load(self.settings)
        name = settings_class.model_fields["service_name"].default
        settings = _without_environment(settings_class)(
            service_name=name,
            kafka_bootstrap_servers=KAFKA,
            topic_prefix="",
            consumer_group_prefix="",
            secrets_key=generate_key(),
            **self.required,
        )
        built: Service = _load(self.build)(settings)
        return built


SERVICES = (
    Deployable("koppel_ingest_ccv.app:build", "koppel_ingest_ccv.settings:IngestCcvSettings"),
    Deployable(
        "koppel_ingest_prestashop.app:build",
        "koppel_ingest_prestashop.settings:IngestPrestashopSettings",
    ),
    Deployable("koppel_ingest_bol.app:build", "koppel_ingest_bol.settings:IngestBolSettings"),
    Deployable(
        "koppel_ledger_octopus.app:build", "koppel_ledger_octopus.settings:LedgerOctopusSettings"
    ),
    Deployable(
        "koppel_ledger_snelstart.app:build",
        "koppel_ledger_snelstart.settings:LedgerSnelStartSettings",
    ),
    Deployable(
        "koppel_ledger_asperion.app:build",
        "koppel_ledger_asperion.settings:LedgerAsperionSettings",
    ),
    Deployable("koppel_notifier.app:build", "koppel_notifier.settings:NotifierSettings"),
    Deployable(
        "koppel_dashboard.app:build",
        "koppel_dashboard.settings:DashboardSettings",
        required={"cookie_secret": "the-event-map-needs-no-real-cookie-secret"},
    ),
)


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _without_environment(settings_class: type[ServiceSettings]) -> type[ServiceSettings]:
    """The settings class reading only what it is given: the same documents on any machine."""

    class Isolated(settings_class):  # type: ignore[misc,valid-type]
        @classmethod
        def settings_customise_sources(  # type: ignore[override]
            cls, settings_cls: Any, init_settings: Any, **_: Any
        ) -> tuple[Any, ...]:
            return (init_settings,)

    return Isolated


def service_documents() -> dict[str, Document]:
    """Every service's AsyncAPI document, by service name."""
    documents: dict[str, Document] = {}
    with warnings.catch_warnings():
        # FastStream warns when two channels, operations or schemas share a name and one
        # overwrites the other: a map that lost something is an error here.
        warnings.simplefilter("error", RuntimeWarning)
        for deployable in SERVICES:
            service = deployable.service()
            documents[service.settings.service_name] = service.asyncapi()
    return documents


def _resolve(document: Document, node: Any) -> Any:
    """`node` with its `$ref` chain followed (local JSON pointers only)."""
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"]
        if not pointer.startswith("#/"):
            raise ValueError(f"not a local reference: {pointer}")
        node = document
        for part in pointer[2:].split("/"):
            node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node


def _payload_name(document: Document, message_ref: Any) -> str:
    payload = _resolve(document, message_ref)["payload"]
    return str(payload["$ref"]).rsplit("/", 1)[-1]


def event_map(documents: dict[str, Document]) -> Document:
    """One AsyncAPI document of every channel, once: each service's operations on it."""
    channels: dict[str, Document] = {}
    operations: dict[str, Document] = {}
    messages: dict[str, Document] = {}
    schemas: dict[str, Any] = {}
    servers: dict[str, Any] = {}
    version = ""
    for service in sorted(documents):
        document = documents[service]
        version = document["info"]["version"]
        servers.update(document.get("servers", {}))
        for name, schema in document["components"]["schemas"].items():
            if schemas.setdefault(name, schema) != schema:
                raise ValueError(f"two different schemas are called {name} ({service})")
        for key, operation in document["operations"].items():
            channel = _resolve(document, operation["channel"])
            address = channel["address"]
            payloads = {_payload_name(document, m): m for m in operation["messages"]}
            sending = operation["action"] == "send"
            shared = channels.setdefault(
                address,
                {
                    "address": address,
                    "description": "",
                    "messages": {},
                    "bindings": channel["bindings"],
                    "x-publishers": [],
                    "x-subscribers": [],
                },
            )
            # A publisher's description is the topic's; a consumer's adds its group.
            if sending or not shared["description"]:
                shared["description"] = channel.get("description", "")
            shared["x-publishers" if sending else "x-subscribers"].append(service)
            for payload, reference in payloads.items():
                shared["messages"][payload] = {"$ref": f"#/components/messages/{payload}"}
                message = _resolve(document, reference)
                messages[payload] = {**message, "name": payload, "title": payload}
            operations[f"{service}:{key}"] = {
                "action": operation["action"],
                "channel": {"$ref": f"#/channels/{address}"},
                "title": f"{service} {'publishes on' if sending else 'consumes'} {address}",
                "description": channel.get("description", ""),
                "messages": [
                    {"$ref": f"#/channels/{address}/messages/{payload}"} for payload in payloads
                ],
            }
    for operation in operations.values():
        # Say in an operation only what its channel does not already say.
        common = channels[operation["channel"]["$ref"].rsplit("/", 1)[-1]]["description"]
        own = operation.pop("description")
        if own.startswith(common) and own != common:
            operation["description"] = own[len(common) :].strip()
    for channel in channels.values():
        channel["x-publishers"] = sorted(set(channel["x-publishers"]))
        channel["x-subscribers"] = sorted(set(channel["x-subscribers"]))
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Koppel",
            "version": version,
            "description": "Every Koppel topic once, with the services that publish on it "
            "(`x-publishers`) and consume it (`x-subscribers`), and each service's operations. "
            "Generated from what the services declare by `scripts/asyncapi.py`; each service's "
            "own document is next to this one, and served on its `GET /asyncapi.json`. The "
            "operator CLI (`koppel`) also publishes connection settings and requests, and reads "
            "the dead-letter topics.",
        },
        "defaultContentType": "application/json",
        "servers": servers,
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {
            "messages": dict(sorted(messages.items())),
            "schemas": dict(sorted(schemas.items())),
        },
    }


def all_documents() -> dict[str, Document]:
    """What belongs in `DOCUMENTS`, by file stem: every service's document and the map."""
    documents = service_documents()
    return {**documents, EVENT_MAP: event_map(documents)}


def render(document: Document) -> str:
    # Sorted keys: FastStream keeps its endpoints in sets, so their order differs per run.
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def path_of(stem: str, directory: Path = DOCUMENTS) -> Path:
    return directory / f"{stem}.json"


def differences(
    directory: Path = DOCUMENTS, documents: dict[str, Document] | None = None
) -> list[str]:
    """The documents in `directory` that differ from the code (missing, changed, stale);
    `documents`: what `all_documents()` made, when the caller has it already."""
    expected = {stem: render(doc) for stem, doc in (documents or all_documents()).items()}
    found = {p.stem: p.read_text() for p in directory.glob("*.json")} if directory.is_dir() else {}
    problems = [f"{stem}.json: missing" for stem in sorted(expected.keys() - found.keys())]
    problems += [f"{stem}.json: no such service" for stem in sorted(found.keys() - expected)]
    problems += [
        f"{stem}.json: differs from what the code declares"
        for stem in sorted(expected.keys() & found.keys())
        if json.loads(found[stem]) != json.loads(expected[stem])
    ]
    return problems


def write(directory: Path = DOCUMENTS, documents: dict[str, Document] | None = None) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    documents = documents or all_documents()
    for stale in directory.glob("*.json"):
        if stale.stem not in documents:
            stale.unlink()
    written = []
    for stem, document in documents.items():
        path = path_of(stem, directory)
        path.write_text(render(document))
        written.append(path)
    return written


def main(argv: list[str], out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the documents")
    args = parser.parse_args(argv)
    if args.write:
        for path in write():
            out(f"wrote {path.relative_to(ROOT)}")
        return 0
    problems = differences()
    for problem in problems:
        out(problem)
    if problems:
        out("run `uv run python scripts/asyncapi.py --write` and commit the documents")
        return 1
    out(f"{len(SERVICES)} service documents and the event map match the code")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

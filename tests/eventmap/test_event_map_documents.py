"""The committed event map (`libs/contracts/schemas/asyncapi/`) is what the services declare,
is valid AsyncAPI 3.0, and leaves no contract topic without a producer or a consumer."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from koppel_contracts import ALL_TOPICS

HERE = Path(__file__).resolve().parent
GENERATOR = HERE.parents[1] / "scripts" / "asyncapi.py"
# The official AsyncAPI 3.0.0 JSON Schema (npm @asyncapi/specs 6.11.1, Apache-2.0: spec/LICENSE)
ASYNCAPI_SCHEMA = HERE / "spec" / "asyncapi-3.0.0.schema.json"
WRITE = "uv run python scripts/asyncapi.py --write"


def _load_generator() -> ModuleType:
    # A script, not a package module: loaded by its path.
    spec = importlib.util.spec_from_file_location("koppel_asyncapi_script", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


generator = _load_generator()


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return generator.all_documents()


@pytest.fixture(scope="module")
def event_map(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return documents[generator.EVENT_MAP]


def test_the_committed_documents_are_what_the_services_declare(documents) -> None:
    problems = generator.differences(documents=documents)
    assert problems == [], "\n".join(problems) + f"\nafter an intended change: {WRITE}"


@pytest.mark.parametrize("stem", [s.stem for s in sorted(generator.DOCUMENTS.glob("*.json"))])
def test_every_committed_document_is_valid_asyncapi_3(stem: str) -> None:
    validator = jsonschema.Draft7Validator(json.loads(ASYNCAPI_SCHEMA.read_text()))
    document = json.loads(generator.path_of(stem).read_text())
    errors = [
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(document)
    ]
    assert errors == []
    assert document["asyncapi"] == "3.0.0"


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_every_contract_topic_has_a_producer_and_a_consumer(event_map, topic) -> None:
    channel = event_map["channels"].get(topic.name)
    assert channel is not None, f"no service publishes or consumes {topic.name}"
    assert channel["x-publishers"], f"no service declares it publishes {topic.name}"
    assert channel["x-subscribers"], f"no service consumes {topic.name}"


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_every_channel_carries_its_contract_model(event_map, topic) -> None:
    name = topic.event.__name__
    assert list(event_map["channels"][topic.name]["messages"]) == [name]
    schema = event_map["components"]["schemas"][name]
    assert set(schema["properties"]) == set(topic.event.model_json_schema()["properties"])


def test_the_map_names_who_publishes_and_who_consumes(event_map) -> None:
    orders = event_map["channels"]["shop.orders.v1"]
    assert {"ingest-ccv", "ingest-prestashop", "ingest-bol"} <= set(orders["x-publishers"])
    assert {"ledger-octopus", "ledger-snelstart", "ledger-asperion"} <= set(orders["x-subscribers"])
    consumed = event_map["operations"]["ledger-octopus:shop.orders.v1:subscribe:main"]
    assert consumed["action"] == "receive"
    assert consumed["description"] == "Consumer group `ledger-octopus.main`."
    assert event_map["channels"]["shop.orders.v1.dlq"]["messages"] == {
        "DeadLetter": {"$ref": "#/components/messages/DeadLetter"}
    }


def test_a_changed_missing_or_stale_document_is_reported(documents, tmp_path: Path) -> None:
    generator.write(tmp_path, documents=documents)
    assert generator.differences(tmp_path, documents=documents) == []
    notifier = generator.path_of("notifier", tmp_path)
    changed = json.loads(notifier.read_text())
    changed["channels"].popitem()
    notifier.write_text(json.dumps(changed))
    generator.path_of("ingest-ccv", tmp_path).unlink()
    shutil.copy(generator.path_of("dashboard", tmp_path), tmp_path / "ledger-retired.json")
    assert generator.differences(tmp_path, documents=documents) == [
        "ingest-ccv.json: missing",
        "ledger-retired.json: no such service",
        "notifier.json: differs from what the code declares",
    ]


def test_the_documents_do_not_depend_on_the_environment(
    documents, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOPPEL_NOTIFIER_TOPIC_PREFIX", "staging.")
    monkeypatch.setenv("KOPPEL_LEDGER_OCTOPUS_SERVICE_NAME", "octopus-2")
    monkeypatch.setenv("KOPPEL_DASHBOARD_KAFKA_BOOTSTRAP_SERVERS", "elsewhere:9092")
    assert generator.service_documents() == {
        k: v for k, v in documents.items() if k != generator.EVENT_MAP
    }

import json
import logging
from collections.abc import Iterator

import pytest
from koppel_chassis import ServiceSettings, configure_logging, log_context, redact
from pydantic_settings import SettingsConfigDict


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    # configure_logging replaces the root handlers with one writing to this
    # test's captured stdout; later tests must not log into a closed stream.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_log_lines_are_json_with_ids_and_no_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("ingest-test")
    log = logging.getLogger("koppel.test")
    with log_context(connection_id="shop-a", order_ref="42"):
        log.info("fetched %s with password=%s", "enc:v1:gAAAAAsecretblob", "hunter2")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["connection_id"] == "shop-a"
    assert line["order_ref"] == "42"
    assert line["service"] == "ingest-test"
    assert line["level"] == "INFO"
    assert "secretblob" not in line["message"]
    assert "hunter2" not in line["message"]


def test_context_does_not_leak_after_the_block(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("svc")
    with log_context(connection_id="a"):
        pass
    logging.getLogger("x").warning("outside")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "connection_id" not in line


def test_redact_masks_query_credentials() -> None:
    assert redact("GET /x?token=abc&x=1") == "GET /x?token=***&x=1"


def test_settings_use_the_service_prefix_and_mask_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    class LedgerSettings(ServiceSettings):
        model_config = SettingsConfigDict(env_prefix="KOPPEL_LEDGER_TEST_")
        service_name: str = "ledger-test"

    monkeypatch.setenv("KOPPEL_LEDGER_TEST_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("KOPPEL_LEDGER_TEST_MONGODB_URI", "mongodb://user:pw@db/")
    monkeypatch.setenv("KOPPEL_LEDGER_TEST_SECRETS_KEY", "very-secret")
    settings = LedgerSettings()
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.database_name == "ledger_test"
    assert settings.group_id() == "ledger-test.main"
    assert "pw@" not in repr(settings) and "very-secret" not in repr(settings)


def test_a_library_repeating_an_error_is_written_once_per_period_with_a_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A broker outage: aiokafka logs every failed reconnect (thousands of lines a minute).
    configure_logging("svc")
    kafka = logging.getLogger("aiokafka.conn")
    for _ in range(500):
        kafka.error("Unable connect to node with id %s: %s", 1, "Connect call failed")
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert len(lines) == 1
    assert lines[0]["message"] == "Unable connect to node with id 1: Connect call failed"
    assert "repeated" not in lines[0]


def test_the_next_line_after_the_period_says_how_many_were_left_out(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging("svc")
    now = [1000.0]
    monkeypatch.setattr("koppel_chassis.logging.time.monotonic", lambda: now[0])
    kafka = logging.getLogger("aiokafka")
    for _ in range(3):
        kafka.error("Unable to update metadata from %s", [1])
    now[0] += 11
    kafka.error("Unable to update metadata from %s", [1])
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert len(lines) == 2
    assert lines[1]["repeated"] == 2


def test_our_own_repeated_lines_are_never_held_back(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("svc")
    for _ in range(20):
        logging.getLogger("koppel_ingest.guard").warning("webhook for order %s failed", 7)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 20

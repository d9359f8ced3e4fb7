"""A command that cannot reach Kafka or MongoDB says so in one line and exits non-zero;
the traceback only with --debug."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from koppel_chassis import generate_key

EXAMPLE = Path(__file__).parents[1] / "examples" / "connection.example.yaml"


def koppel(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "koppel_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KOPPEL_SECRETS_KEY": generate_key(), **env},
    )


def test_publishing_without_kafka_is_one_line_naming_the_address() -> None:
    done = koppel("connections", "put", str(EXAMPLE), KOPPEL_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Kafka does not answer at 127.0.0.1:1" in lines[0]
    assert "KOPPEL_KAFKA_BOOTSTRAP_SERVERS" in lines[0] and "make run" in lines[0]
    assert "Traceback" not in done.stderr


def test_with_debug_the_traceback_is_shown() -> None:
    done = koppel("connections", "list", "--debug", KOPPEL_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "KafkaConnectionError" in done.stderr


def test_reading_without_mongodb_is_one_line_naming_the_address() -> None:
    done = koppel(
        "asperion",
        "deliveries",
        "list",
        "some-shop",
        KOPPEL_MONGODB_URI="mongodb://127.0.0.1:1/",
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "MongoDB does not answer at 127.0.0.1:1: start it (`make run` on this machine) or set "
        "KOPPEL_MONGODB_URI to the server's address."
    ]

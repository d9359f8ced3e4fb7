"""`koppel connections` against the real broker."""

from pathlib import Path

import pytest
from koppel_cli.main import app
from koppel_contracts import CONNECTIONS, ConnectionSettingsEvent
from koppel_testkit import read_events
from typer.testing import CliRunner

EXAMPLE = Path(__file__).parents[1] / "examples" / "connection.example.yaml"


@pytest.fixture
def cli_env(kafka_topics, kafka_bootstrap, topic_prefix, secrets_key) -> dict[str, str]:
    return {
        "KOPPEL_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KOPPEL_TOPIC_PREFIX": topic_prefix,
        "KOPPEL_SECRETS_KEY": secrets_key,
    }


async def test_put_list_show_delete(cli_env, kafka_bootstrap, kafka_topics) -> None:
    runner = CliRunner()
    put = runner.invoke(app, ["connections", "put", str(EXAMPLE)], env=cli_env)
    assert put.exit_code == 0, put.output
    assert "published connection koffie-ccv-octopus" in put.output

    events = await read_events(
        kafka_bootstrap, kafka_topics[CONNECTIONS.name], ConnectionSettingsEvent
    )
    assert len(events) == 1
    assert events[0].settings.ledger.credentials["password"].startswith("enc:v1:")
    assert "replace-with" not in events[0].model_dump_json()

    listed = runner.invoke(app, ["connections", "list"], env=cli_env)
    assert listed.exit_code == 0, listed.output
    assert "koffie-ccv-octopus" in listed.output and "octopus" in listed.output

    shown = runner.invoke(app, ["connections", "show", "koffie-ccv-octopus"], env=cli_env)
    assert shown.exit_code == 0, shown.output
    assert "password: '********'" in shown.output or "password: ********" in shown.output
    assert "enc:v1:" not in shown.output and "replace-with" not in shown.output

    deleted = runner.invoke(app, ["connections", "delete", "koffie-ccv-octopus"], env=cli_env)
    assert deleted.exit_code == 0
    assert "no connections" in runner.invoke(app, ["connections", "list"], env=cli_env).output


async def test_a_broken_file_publishes_nothing(
    cli_env, kafka_bootstrap, kafka_topics, tmp_path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(EXAMPLE.read_text().replace("system: octopus", "system: exact"))
    result = CliRunner().invoke(app, ["connections", "put", str(broken)], env=cli_env)
    assert result.exit_code == 1
    assert "field 'ledger.system'" in result.output
    events = await read_events(
        kafka_bootstrap, kafka_topics[CONNECTIONS.name], ConnectionSettingsEvent, timeout=3
    )
    assert events == []


def test_without_a_secrets_key_it_says_how_to_make_one(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["connections", "put", "--dry-run", str(EXAMPLE)], env={"KOPPEL_SECRETS_KEY": ""}
    )
    assert result.exit_code == 1
    assert "koppel keygen" in result.output

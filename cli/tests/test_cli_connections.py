"""`koppel connections` against the real broker."""

import asyncio
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


class Cli:
    """The CLI runs its own event loop (asyncio.run), so tests call it from a thread."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.runner = CliRunner()

    async def __call__(self, *args: str):
        return await asyncio.to_thread(self.runner.invoke, app, list(args), env=self.env)


async def test_put_list_show_delete(cli_env, kafka_bootstrap, kafka_topics) -> None:
    koppel = Cli(cli_env)
    put = await koppel("connections", "put", str(EXAMPLE))
    assert put.exit_code == 0, put.output
    assert "published connection koffie-ccv-octopus" in put.output

    events = await read_events(
        kafka_bootstrap, kafka_topics[CONNECTIONS.name], ConnectionSettingsEvent
    )
    assert len(events) == 1
    assert events[0].settings.ledger.credentials["password"].startswith("enc:v1:")
    assert "replace-with" not in events[0].model_dump_json()

    listed = await koppel("connections", "list")
    assert listed.exit_code == 0, listed.output
    assert "koffie-ccv-octopus" in listed.output and "octopus" in listed.output

    shown = await koppel("connections", "show", "koffie-ccv-octopus")
    assert shown.exit_code == 0, shown.output
    assert "password: '********'" in shown.output or "password: ********" in shown.output
    assert "enc:v1:" not in shown.output and "replace-with" not in shown.output

    deleted = await koppel("connections", "delete", "koffie-ccv-octopus")
    assert deleted.exit_code == 0
    assert "no connections" in (await koppel("connections", "list")).output


async def test_a_broken_file_publishes_nothing(
    cli_env, kafka_bootstrap, kafka_topics, tmp_path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(EXAMPLE.read_text().replace("system: octopus", "system: exact"))
    result = await Cli(cli_env)("connections", "put", str(broken))
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

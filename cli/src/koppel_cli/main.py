"""`koppel` — the operator's command line.

    koppel keygen                      a new secrets key (KOPPEL_SECRETS_KEY)
    koppel connections put FILE        validate, encrypt secrets, publish
    koppel connections list            what the settings topic holds now
    koppel connections show ID         one connection, secrets masked
    koppel connections delete ID       publish a tombstone
    koppel connections test FILE       ask the shop's and the ledger's service: does it work?
    koppel migrate ID --from DATE      import historic orders (--dry-run: count and total)
    koppel topics ensure ...           create every contract topic (idempotent)
    koppel replay reset-offsets ...    re-consume a topic from a time (dry run first)
    koppel dlq list TOPIC              dead letters with their error and origin
    koppel dlq republish TOPIC         send them back after a fix (once each)
    koppel asperion deliveries ...     the daily UBL deliveries: list, download, make, resend
    koppel accounts create|list|disable  dashboard accounts (merchants and support)
    koppel privacy erase ID EMAIL      erase a customer's personal data everywhere
    koppel privacy keys|rewrap         count customer keys; re-wrap after a key rotation

Reads KOPPEL_KAFKA_BOOTSTRAP_SERVERS, KOPPEL_SECRETS_KEY and KOPPEL_TOPIC_PREFIX. A server
that does not answer is one line on stderr and exit code 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from koppel_chassis import SecretsKeyMissing, ServiceSettings, generate_key
from ruamel.yaml import YAML

from .accounts import app as accounts_app
from .asking import migrate, test_connection
from .asperion import app as asperion_app
from .connections import delete_connection, publish_connection, read_connections
from .dead_letters import dead_letters
from .privacy import app as privacy_app
from .replay import app as replay_app
from .settings_file import SettingsFileError, load_connection_file, masked
from .topics import app as topics_app
from .unreachable import explain

app = typer.Typer(no_args_is_help=True, help="Koppel operator commands.")
connections = typer.Typer(no_args_is_help=True, help="Connection settings (one per koppeling).")
app.add_typer(connections, name="connections")
app.add_typer(topics_app, name="topics")
app.add_typer(replay_app, name="replay")
app.add_typer(dead_letters, name="dlq")
app.add_typer(asperion_app, name="asperion")
app.add_typer(accounts_app, name="accounts")
app.add_typer(privacy_app, name="privacy")
connections.command("test")(test_connection)
app.command("migrate")(migrate)


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="koppel-cli")


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def keygen() -> None:
    """Print a new secrets key; keep it in your secret store as KOPPEL_SECRETS_KEY."""
    typer.echo(generate_key())


@connections.command("put")
def put(
    file: Annotated[Path, typer.Argument(help="The connection's settings file (YAML)")],
    dry_run: Annotated[bool, typer.Option(help="Validate only; publish nothing")] = False,
) -> None:
    """Validate a settings file, encrypt its secrets and publish it (latest wins)."""
    settings = _settings()
    try:
        loaded = load_connection_file(file, settings.sealer())
    except (SettingsFileError, SecretsKeyMissing) as error:
        _fail(str(error))
        return
    if dry_run:
        typer.echo(f"{file}: valid settings for connection {loaded.connection_id}")
        return
    version = time.time_ns() // 1_000_000
    asyncio.run(publish_connection(settings, loaded.connection_id, loaded.settings, version))
    typer.echo(f"published connection {loaded.connection_id} (version {version})")


@connections.command("list")
def list_connections() -> None:
    """List the connections on the settings topic."""
    found = asyncio.run(read_connections(_settings()))
    if not found:
        typer.echo("no connections")
        return
    typer.echo(
        f"{'CONNECTION':<24} {'MERCHANT':<24} {'SHOP':<11} {'LEDGER':<10} {'ACTIVE':<6} VERSION"
    )
    for connection_id, event in sorted(found.items()):
        s = event.settings
        typer.echo(
            f"{connection_id:<24} {s.merchant.name[:24]:<24} {s.shop.system:<11} "
            f"{s.ledger.system:<10} {'yes' if s.active else 'no':<6} {event.version}"
        )


@connections.command("show")
def show(connection_id: str) -> None:
    """Show one connection's settings with its secrets masked."""
    found = asyncio.run(read_connections(_settings()))
    event = found.get(connection_id)
    if event is None:
        _fail(f"no connection {connection_id!r} on the settings topic")
        return
    data = {"connection_id": connection_id, "version": event.version, **masked(event.settings)}
    YAML().dump(data, sys.stdout)


def main() -> None:
    """The `koppel` command: the Typer app, with unreachable servers in one line."""
    debug = "--debug" in sys.argv[1:]
    if debug:
        sys.argv.remove("--debug")
    else:
        # The Kafka client logs every failed connect itself (and asyncio the producer a
        # failed connect leaves unclosed); the one line below says it.
        for noisy in ("aiokafka", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        app()
    except SystemExit:
        raise
    except Exception as error:
        message = None if debug else explain(error, _settings())
        if message is None:
            raise
        typer.secho(message, fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None


@connections.command("delete")
def delete(connection_id: str) -> None:
    """Remove a connection (a tombstone on the compacted topic)."""
    asyncio.run(delete_connection(_settings(), connection_id))
    typer.echo(f"deleted connection {connection_id}")

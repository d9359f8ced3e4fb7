"""`koppel accounts` — who may log in to the dashboard.

    koppel accounts create EMAIL --role merchant --connection ID [--connection ID ...]
    koppel accounts create EMAIL --role support
    koppel accounts list
    koppel accounts disable EMAIL        (and `enable EMAIL`)

The accounts are the dashboard's own state, so this writes the dashboard's database
directly (KOPPEL_MONGODB_URI, and KOPPEL_MONGODB_DATABASE or `--database`, default
`dashboard`) through `koppel_dashboard.accounts`, the module the dashboard itself uses:
one document shape, one password hashing (Argon2id). Not a command on Kafka: a password
hash has no business on a retained topic, no other service needs accounts, and the first
support account must be creatable before anything else runs.

The password is asked twice without echo, or read from stdin with `--password-stdin`
(for scripts); it is never an argument (shell history, process lists).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated, Any, NoReturn

import typer
from koppel_chassis import ServiceSettings
from koppel_dashboard.accounts import ACCOUNTS, AccountError, AccountStore, Role
from pymongo import AsyncMongoClient

app = typer.Typer(no_args_is_help=True, help="Dashboard accounts (merchants and support).")

DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="The dashboard's database (dashboard)")
]


def _fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


async def _with_store(database: str | None, work: Any) -> Any:
    settings = ServiceSettings(service_name="dashboard")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_uri.get_secret_value(), tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        return await work(AccountStore(client[database or settings.database_name][ACCOUNTS]))
    finally:
        await client.close()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@app.command("create")
def create(
    email: str,
    role: Annotated[Role, typer.Option(help="merchant: own connections; support: all")],
    connection: Annotated[
        list[str] | None, typer.Option("--connection", "-c", help="A connection id (repeat)")
    ] = None,
    language: Annotated[str, typer.Option(help="nl or en")] = "nl",
    name: Annotated[str, typer.Option(help="Shown in the dashboard")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Create an account; a merchant needs at least one connection."""
    password = _password(password_stdin)
    try:
        account = asyncio.run(
            _with_store(
                database,
                lambda store: store.create(
                    email, password, role, connection or [], language=language, name=name
                ),
            )
        )
    except AccountError as error:
        _fail(str(error))
    scope = "all connections" if account.is_support else ", ".join(account.connections)
    typer.echo(f"created {account.role} account {account.email} ({scope})")


@app.command("list")
def list_accounts(database: DatabaseOption = None) -> None:
    """Every account: role, connections, active."""
    found = asyncio.run(_with_store(database, lambda store: store.all()))
    if not found:
        typer.echo("no accounts")
        return
    typer.echo(f"{'ACCOUNT':<32} {'ROLE':<9} {'ACTIVE':<6} {'LANG':<4} CONNECTIONS")
    for account in found:
        connections = "*" if account.is_support else ",".join(account.connections)
        typer.echo(
            f"{account.email:<32} {account.role:<9} {'yes' if account.active else 'no':<6} "
            f"{account.language:<4} {connections}"
        )


def _set_active(email: str, active: bool, database: str | None) -> None:
    changed = asyncio.run(_with_store(database, lambda store: store.set_active(email, active)))
    if not changed:
        _fail(f"no account {email!r}")
    typer.echo(f"{'enabled' if active else 'disabled'} {email.strip().lower()}")


@app.command("disable")
def disable(email: str, database: DatabaseOption = None) -> None:
    """Stop an account from logging in; its open sessions end at their next page."""
    _set_active(email, False, database)


@app.command("enable")
def enable(email: str, database: DatabaseOption = None) -> None:
    """Let a disabled account log in again."""
    _set_active(email, True, database)

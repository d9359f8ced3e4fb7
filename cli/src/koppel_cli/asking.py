"""`koppel connections test FILE` and `koppel migrate CONNECTION`: questions the services
answer through Kafka (see `requests.py`), printed for an operator."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from koppel_chassis import SecretsKeyMissing, ServiceSettings
from koppel_contracts import (
    AnswerState,
    ConnectionAnswer,
    ConnectionSettings,
    MigrationProgress,
    RequestKind,
)
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .connections import read_connections
from .requests import NoAnswer, ask, request
from .settings_file import SettingsFileError, load_connection_file

SHOP_SERVICES = {"ccvshop": "ingest-ccv", "prestashop": "ingest-prestashop", "bol": "ingest-bol"}


def _settings() -> ServiceSettings:
    return ServiceSettings(service_name="koppel-cli")


def _no_answer(error: NoAnswer, services: list[str]) -> None:
    typer.secho(
        f"{error}: is {' / '.join(services)} running and consuming? "
        "(locally: `make status`, `make run`; in Kubernetes: its pods and consumer lag)",
        fg=typer.colors.RED,
        err=True,
    )
    raise typer.Exit(2)


def _print_answer(title: str, answer: ConnectionAnswer) -> None:
    ok = answer.state in (AnswerState.OK, AnswerState.DONE) and not answer.problems
    mark = typer.style("OK" if ok else "PROBLEM", fg=typer.colors.GREEN if ok else "red")
    typer.echo(f"{title} ({answer.component}): {mark}")
    for problem in answer.problems:
        typer.echo(f"  - [{problem.code}] {problem.reason}")
        typer.echo(f"    {problem.suggestion}")
    if answer.order_states:
        typer.echo("  order states (shop.options.trigger_statuses takes the code):")
        for state in answer.order_states:
            flags = f"  ({', '.join(state.flags)})" if state.flags else ""
            typer.echo(f"    {state.code:>6}  {state.name}{flags}")
    if answer.vat_codes:
        typer.echo("  VAT codes:")
        for code in answer.vat_codes:
            pct = f"{code.percentage.normalize():f}%" if code.percentage is not None else "-"
            typer.echo(f"    {code.code:>6}  {pct:>6}  {code.name}")
    if answer.accounts:
        typer.echo(f"  ledger accounts: {len(answer.accounts)}")


def test_connection(
    file: Annotated[Path, typer.Argument(help="The connection's settings file (YAML)")],
    timeout: Annotated[float, typer.Option(help="Seconds to wait for an answer")] = 30.0,
) -> None:
    """Test a connection's shop and ledger with the settings in FILE (nothing is saved)."""
    settings = _settings()
    try:
        loaded = load_connection_file(file, settings.sealer())
    except (SettingsFileError, SecretsKeyMissing) as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    connection: ConnectionSettings = loaded.settings
    shop = request(loaded.connection_id, RequestKind.TEST_SHOP, settings=connection)
    ledger = request(loaded.connection_id, RequestKind.TEST_LEDGER, settings=connection)
    services = [
        SHOP_SERVICES.get(connection.shop.system.value, "the shop's ingest service"),
        f"ledger-{connection.ledger.system.value}",
    ]
    try:
        answers = asyncio.run(ask(settings, [shop, ledger], silence_seconds=timeout))
    except NoAnswer as error:
        _no_answer(error, services)
        return
    _print_answer(f"Shop: {connection.shop.system.value}", answers[shop.request_id])
    _print_answer(f"Ledger: {connection.ledger.system.value}", answers[ledger.request_id])
    if any(a.state == AnswerState.FAILED or a.problems for a in answers.values()):
        raise typer.Exit(1)


def _print_migration(found: MigrationProgress, dry_run: bool) -> None:
    typer.echo(f"orders in the period:   {found.orders}")
    typer.echo(f"  not bookable (yet):   {found.skipped}")
    typer.echo(f"  unreadable:           {found.failed}")
    if dry_run:
        typer.echo("  published:            0 (dry run)")
    else:
        typer.echo(f"  published now:        {found.published}")
    typer.echo(f"total incl. VAT:        {found.total_incl_vat:.2f}")
    for rate in found.vat:
        typer.echo(f"  VAT {rate.vat_rate.normalize():f}%:{'':<12}{rate.amount:.2f}")


def migrate(
    connection_id: Annotated[str, typer.Argument(help="The connection to import for")],
    since: Annotated[date, typer.Option("--from", help="First day (YYYY-MM-DD)")],
    until: Annotated[date | None, typer.Option("--to", help="Last day (default today)")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count and total only; publish nothing")
    ] = False,
    timeout: Annotated[float, typer.Option(help="Seconds without news before giving up")] = 60.0,
) -> None:
    """Import a connection's historic orders through its shop's ingest service."""
    settings = _settings()
    known = asyncio.run(read_connections(settings)).get(connection_id)
    if known is None:
        typer.secho(f"no connection {connection_id!r} on the settings topic", fg="red", err=True)
        raise typer.Exit(1)
    asked = request(connection_id, RequestKind.MIGRATE, since=since, until=until, dry_run=dry_run)
    service = SHOP_SERVICES.get(known.settings.shop.system.value, "the shop's ingest service")
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("asking…", total=None)

        def show(answer: ConnectionAnswer) -> None:
            if answer.migration is not None:
                found = answer.migration
                progress.update(
                    task,
                    description=f"{found.orders} orders read, {found.published} published",
                )

        try:
            answers = asyncio.run(ask(settings, [asked], silence_seconds=timeout, on_answer=show))
        except NoAnswer as error:
            progress.stop()
            _no_answer(error, [service])
            return
    answer = answers[asked.request_id]
    typer.echo(f"{'Dry run' if dry_run else 'Import'} {connection_id} {since} – {until or 'today'}")
    if answer.migration is not None:
        _print_migration(answer.migration, dry_run)
    for problem in answer.problems:
        typer.echo(f"  - [{problem.code}] {problem.reason}")
        typer.echo(f"    {problem.suggestion}")
    if answer.state == AnswerState.FAILED:
        raise typer.Exit(1)

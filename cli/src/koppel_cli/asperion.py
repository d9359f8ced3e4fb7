"""`koppel asperion deliveries` — the daily UBL deliveries of ledger-asperion.

    koppel asperion deliveries list CONNECTION          sealed deliveries, newest last
    koppel asperion deliveries download DELIVERY [-o F] the ZIP as sealed (SHA-256 checked)
    koppel asperion deliveries make CONNECTION          make the delivery now (service route)
    koppel asperion deliveries resend DELIVERY          mail/upload it again, same bytes

`list` and `download` read ledger-asperion's MongoDB database directly (read-only):
KOPPEL_MONGODB_URI, and KOPPEL_MONGODB_DATABASE or `--database` (default
`ledger_asperion`). The record and file shape they read is documented in
`koppel_ledger_asperion/archive.py`. `make` and `resend` ask the running service, which
owns sending: KOPPEL_ASPERION_URL (e.g. http://ledger-asperion:8080) and
KOPPEL_ASPERION_OPERATOR_TOKEN.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from gridfs import AsyncGridFSBucket
from koppel_chassis import ServiceSettings
from pymongo import AsyncMongoClient

DELIVERIES = "asperion_deliveries"  # koppel_ledger_asperion.archive.DELIVERIES
BUCKET = "asperion_zips"  # koppel_ledger_asperion.archive.BUCKET

app = typer.Typer(no_args_is_help=True, help="Asperion: the daily UBL deliveries.")
deliveries = typer.Typer(no_args_is_help=True, help="Deliveries (one ZIP of UBL files each).")
app.add_typer(deliveries, name="deliveries")

DatabaseOption = Annotated[
    str | None, typer.Option("--database", help="ledger-asperion's database (ledger_asperion)")
]


def _database(database: str | None) -> tuple[str, str]:
    settings = ServiceSettings(service_name="ledger-asperion")
    return settings.mongodb_uri.get_secret_value(), database or settings.database_name


def _fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "-"


def _status(record: dict[str, Any], what: str, done: str) -> str:
    step = record.get(what)
    if not step:
        return "-"
    if step.get("error"):
        return f"error ({step.get('attempts', 1)}x)"
    if step.get("skipped"):
        return "skipped"
    return _when(step.get(done))


async def read_deliveries(uri: str, database: str, connection_id: str) -> list[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        cursor = client[database][DELIVERIES].find({"connection_id": connection_id})
        return sorted([d async for d in cursor], key=lambda d: d["sealed_at"])
    finally:
        await client.close()


async def read_zip(uri: str, database: str, delivery_id: str) -> tuple[str, bytes]:
    """The sealed ZIP's name and bytes; ValueError when the bytes differ from the seal."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        uri, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        db = client[database]
        record = await db[DELIVERIES].find_one({"_id": delivery_id})
        if record is None:
            raise LookupError(delivery_id)
        stream = await AsyncGridFSBucket(db, bucket_name=BUCKET).open_download_stream(
            record["file_id"]
        )
        data = await stream.read()
    finally:
        await client.close()
    if hashlib.sha256(data).hexdigest() != record["sha256"]:
        raise ValueError(f"the stored bytes of {delivery_id} differ from its seal (SHA-256)")
    return record["name"], data


@deliveries.command("list")
def list_command(connection: str, database: DatabaseOption = None) -> None:
    """The connection's sealed deliveries: id, file name, documents, mail and upload."""
    uri, name = _database(database)
    found = asyncio.run(read_deliveries(uri, name, connection))
    if not found:
        typer.echo(f"no deliveries for {connection}")
        return
    typer.echo(f"{'DELIVERY':<40} {'DOCS':>4}  {'SEALED':<16}  {'MAILED':<16}  {'SFTP':<16}  FILE")
    for record in found:
        typer.echo(
            f"{record['_id']:<40} {record['count']:>4}  {_when(record['sealed_at']):<16}  "
            f"{_status(record, 'mail', 'sent_at'):<16}  "
            f"{_status(record, 'sftp', 'uploaded_at'):<16}  {record['name']}"
        )


@deliveries.command("download")
def download_command(
    delivery: Annotated[str, typer.Argument(help="e.g. koffie-ccv/2026-11-20/1")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default: its name)")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Write a delivery's ZIP exactly as it was sealed (and mailed)."""
    uri, name = _database(database)
    try:
        file_name, data = asyncio.run(read_zip(uri, name, delivery))
    except LookupError:
        _fail(f"no delivery {delivery!r}")
    except ValueError as error:
        _fail(str(error))
    target = output or Path(file_name)
    target.write_bytes(data)
    typer.echo(f"wrote {target} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")


def _service(path: str) -> dict[str, Any]:
    url = os.environ.get("KOPPEL_ASPERION_URL", "http://127.0.0.1:8080").rstrip("/")
    token = os.environ.get("KOPPEL_ASPERION_OPERATOR_TOKEN", "")
    try:
        response = httpx.post(
            f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=120
        )
    except httpx.HTTPError as error:
        _fail(f"ledger-asperion at {url} did not answer: {error}")
    if response.status_code != 200:
        _fail(f"ledger-asperion answered {response.status_code}: {response.text}")
    return dict(response.json())


@deliveries.command("make")
def make_command(connection: str) -> None:
    """Make the connection's delivery now, from what is pending (service route)."""
    answer = _service(f"/deliveries/{connection}")
    if not answer["deliveries"]:
        typer.echo(f"nothing to deliver for {connection}")
    for made in answer["deliveries"]:
        typer.echo(f"{made['delivery_id']}: {made['count']} document(s), {made['name']}")


@deliveries.command("resend")
def resend_command(delivery: str) -> None:
    """Mail (and upload) a delivery again: the same bytes (service route)."""
    answer = _service(f"/deliveries/{delivery}/resend")
    typer.echo(f"re-sent {answer['delivery_id']} ({answer['name']})")

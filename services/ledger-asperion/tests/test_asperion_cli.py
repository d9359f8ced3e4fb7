"""`koppel asperion deliveries list/download` read what ledger-asperion sealed — and refuse
bytes that are not the sealed ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

from koppel_cli.main import app as cli
from koppel_ledger.testing import CONNECTION
from typer.testing import CliRunner

from .conftest import Asperion


async def koppel(asperion: Asperion, mongodb_uri: str, *args: str):
    env = {"KOPPEL_MONGODB_URI": mongodb_uri, "KOPPEL_MONGODB_DATABASE": asperion.db.name}
    return await asyncio.to_thread(CliRunner().invoke, cli, list(args), env=env)


async def test_the_cli_lists_and_downloads_the_sealed_bytes(
    asperion: Asperion, mongodb_uri: str, tmp_path: Path, monkeypatch
) -> None:
    empty = await koppel(asperion, mongodb_uri, "asperion", "deliveries", "list", CONNECTION)
    assert empty.exit_code == 0 and "no deliveries" in empty.output
    await asperion.order("l1")
    [delivery] = await asperion.service.deliver_now(CONNECTION)
    listed = await koppel(asperion, mongodb_uri, "asperion", "deliveries", "list", CONNECTION)
    assert listed.exit_code == 0, listed.output
    assert delivery.id in listed.output and delivery.name in listed.output
    assert "2026-11-20 09:00" in listed.output, "mailed"

    monkeypatch.chdir(tmp_path)
    got = await koppel(asperion, mongodb_uri, "asperion", "deliveries", "download", delivery.id)
    assert got.exit_code == 0, got.output
    assert (tmp_path / delivery.name).read_bytes() == await asperion.service.archive.content(
        delivery
    )

    missing = await koppel(asperion, mongodb_uri, "asperion", "deliveries", "download", "x/y/1")
    assert missing.exit_code == 1 and "no delivery" in missing.output

    # Bytes that are not the sealed ones are refused, not written.
    await asperion.db["asperion_deliveries"].update_one(
        {"_id": delivery.id}, {"$set": {"sha256": "0" * 64}}
    )
    out = tmp_path / "other.zip"
    bad = await koppel(
        asperion, mongodb_uri, "asperion", "deliveries", "download", delivery.id, "-o", str(out)
    )
    assert bad.exit_code == 1 and "differ from its seal" in bad.output
    assert not out.exists()

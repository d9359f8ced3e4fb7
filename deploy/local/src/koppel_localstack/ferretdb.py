"""FerretDB v1 (SQLite backend) built from deploy/local/ferretdb via the Go module proxy."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import process
from .assets import asset, files_digest
from .config import StackConfig, StackError

Progress = Callable[[str], None]

BINARY_NAME = "ferretdb-lite"
SOURCE_FILES = ("go.mod", "go.sum", "main.go")
# ferretdb_no_postgresql drops pgx and the PostgreSQL handler: SQLite is all we
# use, and the binary gets smaller and builds faster.
BUILD_TAGS = "ferretdb_no_postgresql"
# A cold build downloads ~60 modules and compiles modernc.org/sqlite (large).
BUILD_TIMEOUT = 1800.0


def source_digest() -> str:
    return files_digest([asset("ferretdb", name) for name in SOURCE_FILES], BUILD_TAGS)


def binary_path(cfg: StackConfig) -> Path:
    return cfg.cache_dir / "ferretdb" / source_digest() / BINARY_NAME


def ensure_binary(cfg: StackConfig, progress: Progress) -> Path:
    """Build the wrapper once per source hash; later calls are a stat()."""
    binary = binary_path(cfg)
    if binary.is_file():
        return binary
    go = process.require_tool("go", "build FerretDB (Go 1.24+)")
    binary.parent.mkdir(parents=True, exist_ok=True)
    with process.file_lock(binary.parent / ".lock", BUILD_TIMEOUT, "building FerretDB"):
        if binary.is_file():
            return binary
        progress(
            f"building FerretDB (first run only, a few minutes: Go modules + SQLite) into "
            f"{binary.parent}..."
        )
        log = binary.parent / "build.log"
        # Build from a copy so the source tree (or an installed wheel) stays untouched.
        with tempfile.TemporaryDirectory(dir=binary.parent, prefix="src-") as scratch:
            work = Path(scratch)
            for name in SOURCE_FILES:
                shutil.copy2(asset("ferretdb", name), work / name)
            tmp_binary = work / BINARY_NAME
            cmd = [
                go,
                "build",
                "-trimpath",
                # The copy may sit inside some VCS checkout; stamping is pointless here.
                "-buildvcs=false",
                "-tags",
                BUILD_TAGS,
                "-o",
                str(tmp_binary),
                ".",
            ]
            env = dict(os.environ)
            # go.sum is committed; refuse silent changes to the module graph.
            env.setdefault("GOFLAGS", "")
            env["GOFLAGS"] = (env["GOFLAGS"] + " -mod=readonly").strip()
            try:
                with log.open("wb") as handle:
                    result = subprocess.run(
                        cmd,
                        cwd=work,
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        timeout=BUILD_TIMEOUT,
                        check=False,
                    )
            except subprocess.TimeoutExpired:
                raise StackError(
                    f"FerretDB: `go build` did not finish within {BUILD_TIMEOUT:.0f}s.\n"
                    f"Last lines of {log}:\n{process.tail(log)}"
                ) from None
            if result.returncode != 0 or not tmp_binary.is_file():
                raise StackError(
                    f"FerretDB: `go build` failed (exit {result.returncode}). Is the Go module "
                    f"proxy reachable and Go >= 1.24?\nLast lines of {log}:\n{process.tail(log)}"
                )
            tmp_binary.replace(binary)  # atomic: a half-written binary is never cached
        progress("FerretDB built")
    return binary


def server_command(cfg: StackConfig, binary: Path) -> list[str]:
    return [
        str(binary),
        "-listen-addr",
        cfg.mongo_address,
        "-sqlite-dir",
        str(cfg.ferretdb_data_dir),
        "-log-level",
        cfg.ferretdb_log_level,
    ]


def process_marker(cfg: StackConfig) -> str:
    # The sqlite dir identifies this stack's FerretDB in /proc/<pid>/cmdline.
    return str(cfg.ferretdb_data_dir)

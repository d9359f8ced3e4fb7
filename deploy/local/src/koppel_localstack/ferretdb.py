"""FerretDB v1 (SQLite backend) built from deploy/local/ferretdb via the Go module proxy."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
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
FERRETDB_MODULE = "github.com/FerretDB/FerretDB@v1.24.2"


@dataclass(frozen=True)
class SourcePatch:
    """An exact text replacement in FerretDB's module source, applied before building."""

    path: str
    old: str
    new: str
    count: int = 1

    def apply(self, root: Path) -> None:
        target = root / self.path
        text = target.read_text()
        found = text.count(self.old)
        if found != self.count:
            raise StackError(
                f"FerretDB patch no longer fits {self.path}: expected {self.count} "
                f"occurrence(s) of {self.old!r}, found {found}"
            )
        target.write_text(text.replace(self.old, self.new))


# FerretDB 1.24's SQLite backend matches `_id` with `->'$._id'`, but its unique _id index
# is on `->"_id"`: SQLite uses an expression index only for the identical expression, so
# every find/update/delete by _id scanned the whole table (EXPLAIN QUERY PLAN: SCAN), and
# the UPDATE of each matched document scanned it again. It also pushed `_id` down only
# when it was the filter's *only* condition; `{_id: x, lock_owner: y}` decoded every
# document in Go. Real MongoDB uses its _id index in both cases. The handlers re-apply the
# whole filter to what the backend returns, so pushing just `_id` down is safe.
# Measured on 10,000 documents: find by _id 27 ms -> ~1 ms, update by _id plus a
# condition 280 ms -> ~1 ms (see docs/CONVENTIONS.md).
PATCHES = (
    SourcePatch(
        "internal/backends/sqlite/metadata/metadata.go",
        "IDColumn = DefaultColumn + \"->'$._id'\"",
        "IDColumn = DefaultColumn + \"->'_id'\"",
    ),
    SourcePatch(
        "internal/backends/sqlite/collection.go",
        "if params.Filter.Len() == 1 {",
        "if params.Filter.Len() >= 1 {",
        count=2,
    ),
)


def source_digest() -> str:
    patches = [f"{p.path}\0{p.old}\0{p.new}\0{p.count}" for p in PATCHES]
    return files_digest(
        [asset("ferretdb", name) for name in SOURCE_FILES], BUILD_TAGS, FERRETDB_MODULE, *patches
    )


def _patched_module(go: str, work: Path, env: dict[str, str], log: Path) -> Path:
    """FerretDB's module source copied next to the wrapper, patched, and wired in with a
    `replace` directive (the module cache itself is read-only and shared)."""
    with log.open("ab") as handle:
        result = subprocess.run(
            [go, "mod", "download", "-json", FERRETDB_MODULE],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
        handle.write(result.stdout + result.stderr)
    if result.returncode != 0:
        raise StackError(
            f"FerretDB: `go mod download {FERRETDB_MODULE}` failed (exit {result.returncode}). "
            f"Is the Go module proxy reachable?\nLast lines of {log}:\n{process.tail(log)}"
        )
    source = Path(json.loads(result.stdout)["Dir"])
    target = work / "ferretdb-src"
    shutil.copytree(source, target)
    for path in target.rglob("*"):
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    target.chmod(target.stat().st_mode | stat.S_IWUSR)
    for patch in PATCHES:
        patch.apply(target)
    module = FERRETDB_MODULE.split("@")[0]
    subprocess.run(
        [go, "mod", "edit", f"-replace={module}=./ferretdb-src"], cwd=work, env=env, check=True
    )
    return target


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
                (work / name).chmod(0o644)
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
            log.write_bytes(b"")
            _patched_module(go, work, env, log)
            try:
                with log.open("ab") as handle:
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

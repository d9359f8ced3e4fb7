"""Locate the build inputs (Maven pom, log4j2 config, FerretDB wrapper sources)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .config import StackError

_PACKAGE_DIR = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """`deploy/local/<name>` in a source checkout, else the copy packed into the wheel."""
    candidates = (
        _PACKAGE_DIR.parents[1] / name,  # deploy/local/src/koppel_localstack -> deploy/local
        _PACKAGE_DIR / "_assets" / name,
    )
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise StackError(
        f"cannot find the {name!r} build files (looked in {list(map(str, candidates))})"
    )


def asset(name: str, filename: str) -> Path:
    path = asset_dir(name) / filename
    if not path.is_file():
        raise StackError(f"missing build file {path}")
    return path


def files_digest(paths: list[Path], *extra: str) -> str:
    """Short content hash, used to key cache dirs so edited inputs trigger a rebuild."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    for item in extra:
        digest.update(item.encode() + b"\0")
    return digest.hexdigest()[:16]

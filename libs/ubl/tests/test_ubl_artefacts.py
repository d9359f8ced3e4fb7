"""Fetching the artefacts: pinned checksums, atomic cache, clear errors (offline, file:// mirror),
and the real cache matching the pins."""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from koppel_ubl import ArtefactError, Artefacts, ensure_artefacts
from koppel_ubl import artefacts as artefacts_module
from koppel_ubl.artefacts import JARS, SCHEMA_PATH, Jar, artefacts_dir, pins_digest


def _fake_jar(mirror: Path, members: dict[str, bytes]) -> tuple[str, str]:
    """A jar in Maven layout under `mirror`; returns (coordinates path, sha256)."""
    folder = mirror / "org/example/fake-rules/1.0"
    folder.mkdir(parents=True)
    jar_path = folder / "fake-rules-1.0.jar"
    with zipfile.ZipFile(jar_path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return str(jar_path), hashlib.sha256(jar_path.read_bytes()).hexdigest()


def _use_fake(monkeypatch, sha256: str) -> Jar:
    jar = Jar(
        "org.example",
        "fake-rules",
        "1.0",
        sha256,
        (("schemas/common/", "xsd/ubl21/common"), ("rules/en.xslt", "xslt/en.xslt")),
    )
    monkeypatch.setattr(artefacts_module, "JARS", (jar,))
    return jar


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    return tmp_path / "mirror"


def _env(tmp_path: Path, mirror: Path) -> dict[str, str]:
    return {"KOPPEL_CACHE_DIR": str(tmp_path / "cache"), "KOPPEL_MAVEN_REPOSITORY": mirror.as_uri()}


def test_every_pin_is_a_full_sha256_and_versions_are_exact() -> None:
    for jar in JARS:
        assert re.fullmatch(r"[0-9a-f]{64}", jar.sha256), jar.coordinates
        assert re.fullmatch(r"\d+(\.\d+)+", jar.version), jar.coordinates


def test_cache_dir_is_keyed_by_the_pins(monkeypatch) -> None:
    before = pins_digest()
    changed = replace(JARS[0], sha256="0" * 64)
    monkeypatch.setattr(artefacts_module, "JARS", (changed, *JARS[1:]))
    assert pins_digest() != before


def test_cache_location_follows_koppel_cache_dir_then_xdg() -> None:
    assert artefacts_dir({"KOPPEL_CACHE_DIR": "/x/k"}).parent == Path("/x/k/ubl")
    assert artefacts_dir({"XDG_CACHE_HOME": "/x/c"}).parent == Path("/x/c/koppel/ubl")


def test_fetch_verifies_extracts_and_then_serves_from_cache(
    tmp_path: Path, mirror: Path, monkeypatch
) -> None:
    jar_path, sha = _fake_jar(
        mirror,
        {
            "schemas/common/A.xsd": b"<a/>",
            "schemas/common/sub/B.xsd": b"<b/>",
            "rules/en.xslt": b"<x/>",
        },
    )
    _use_fake(monkeypatch, sha)
    env = _env(tmp_path, mirror)
    found = ensure_artefacts(environ=env)
    assert (found.root / "xsd/ubl21/common/sub/B.xsd").read_bytes() == b"<b/>"
    assert (found.root / "xslt/en.xslt").read_bytes() == b"<x/>"
    assert b"CoreComponentTypeSchemaModule" in (found.root / SCHEMA_PATH).read_bytes()
    assert not (found.root / "jars").exists()
    assert found.manifest()["jars"] == [
        {"coordinates": "org.example:fake-rules:1.0", "sha256": sha}
    ]
    Path(jar_path).unlink()  # a second call must not download again
    assert ensure_artefacts(environ=env).root == found.root


def test_jar_with_another_checksum_is_refused_and_leaves_no_cache(
    tmp_path: Path, mirror: Path, monkeypatch
) -> None:
    _fake_jar(mirror, {"schemas/common/A.xsd": b"<a/>", "rules/en.xslt": b"<x/>"})
    _use_fake(monkeypatch, "f" * 64)
    env = _env(tmp_path, mirror)
    with pytest.raises(ArtefactError, match=r"has SHA-256 [0-9a-f]{64}, but f{64} is pinned"):
        ensure_artefacts(environ=env)
    assert not artefacts_dir(env).exists()


def test_jar_without_an_expected_file_is_refused(tmp_path: Path, mirror: Path, monkeypatch) -> None:
    _path, sha = _fake_jar(mirror, {"schemas/common/A.xsd": b"<a/>"})
    _use_fake(monkeypatch, sha)
    with pytest.raises(ArtefactError, match=r"has no 'rules/en\.xslt'"):
        ensure_artefacts(environ=_env(tmp_path, mirror))


def test_unreachable_repository_names_the_artefact_and_the_url(
    tmp_path: Path, mirror: Path, monkeypatch
) -> None:
    _use_fake(monkeypatch, "0" * 64)
    with pytest.raises(ArtefactError, match=r"could not download org\.example:fake-rules:1\.0"):
        ensure_artefacts(environ=_env(tmp_path, mirror))


def test_real_cache_holds_exactly_the_pinned_artefacts(artefacts: Artefacts) -> None:
    manifest = artefacts.manifest()
    assert manifest["jars"] == [{"coordinates": j.coordinates, "sha256": j.sha256} for j in JARS]
    for needed in (artefacts.schema, artefacts.en16931_xslt, artefacts.nlcius_xslt):
        assert needed.is_file(), needed
    assert b"version 1.3.15" in artefacts.en16931_xslt.read_bytes()[:400]

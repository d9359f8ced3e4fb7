"""The official validation artefacts, fetched once from Maven Central into ~/.cache/koppel/ubl.

Pinned jars (version and SHA-256 live here, in the repo): the UBL 2.1 XSDs from ph-ubl21,
the CCTS / XML-DSig / XAdES schemas they import *without* a schemaLocation (each in its own
ph-xsds jar), the CEN EN 16931 UBL schematron compiled to XSLT (phive-rules-en16931) and the
SI-UBL 2.0 / NLCIUS XSLT (phive-rules-simplerinvoicing). Only the files validation needs are
extracted; the jars are dropped afterwards.

The location-less imports are wired by a small driver schema written next to the XSDs: it
imports those namespaces with explicit locations *before* the Invoice and CreditNote
schemas, so libxml2 has them when the UBL schemas ask for them and never goes to the
network.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

Progress = Callable[[str], None]

# What `mvn help:evaluate -Dexpression=project.repositories` shows as "central".
MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
REPOSITORY_ENV = "KOPPEL_MAVEN_REPOSITORY"  # a mirror with the same layout, if any
DOWNLOAD_TIMEOUT = 120.0
LOCK_TIMEOUT = 900.0
# Bump when the extraction layout or the driver schema changes: it keys the cache dir.
LAYOUT_VERSION = "1"

EN16931_VERSION = "1.3.15"
NLCIUS_VERSION = "2.0.3.12"


class ArtefactError(RuntimeError):
    """The artefacts could not be fetched or do not match their pinned checksums."""


@dataclass(frozen=True)
class Jar:
    group: str
    artifact: str
    version: str
    sha256: str
    # (member in the jar, path in the cache); a member ending in '/' copies that folder.
    extract: tuple[tuple[str, str], ...]

    @property
    def file_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"

    @property
    def coordinates(self) -> str:
        return f"{self.group}:{self.artifact}:{self.version}"

    def url(self, repository: str) -> str:
        folder = "/".join((*self.group.split("."), self.artifact, self.version))
        return f"{repository.rstrip('/')}/{folder}/{self.file_name}"


_UBL = "external/schemas/ubl21/"
JARS: tuple[Jar, ...] = (
    Jar(
        "com.helger.ubl",
        "ph-ubl21",
        "10.2.0",
        "7317ddd448f58cdf4e550878d839be8d3324b410771ba462a35ced49ccb26a52",
        (
            (f"{_UBL}common/", "xsd/ubl21/common"),
            (f"{_UBL}maindoc/UBL-Invoice-2.1.xsd", "xsd/ubl21/maindoc/UBL-Invoice-2.1.xsd"),
            (f"{_UBL}maindoc/UBL-CreditNote-2.1.xsd", "xsd/ubl21/maindoc/UBL-CreditNote-2.1.xsd"),
        ),
    ),
    Jar(
        "com.helger.xsd",
        "ph-xsds-ccts-cct-schemamodule",
        "4.1.0",
        "ec0e60be5265b09fac75a57a4b284244820c23f0481a1c75802ba4eb6338b0fd",
        (("schemas/CCTS_CCT_SchemaModule.xsd", "xsd/imports/CCTS_CCT_SchemaModule.xsd"),),
    ),
    Jar(
        "com.helger.xsd",
        "ph-xsds-xmldsig",
        "4.1.0",
        "66590e38b0994d0fd6cd89b1588a3c96fad3a3c85494cf764783fe0c4acc9c3d",
        (("schemas/xmldsig-core-schema.xsd", "xsd/imports/xmldsig-core-schema.xsd"),),
    ),
    Jar(
        "com.helger.xsd",
        "ph-xsds-xades132",
        "4.1.0",
        "d90bdb2359bbef63bd789af238fb135dd7ada0ba9722f4e2825cd210dada013c",
        (("schemas/XAdES01903v132-201601.xsd", "xsd/imports/XAdES01903v132-201601.xsd"),),
    ),
    Jar(
        "com.helger.xsd",
        "ph-xsds-xades141",
        "4.1.0",
        "b34b2670774e9de79653767fd667d86823261c153f706c2344889d0702f54e41",
        (("schemas/XAdES01903v141-201601.xsd", "xsd/imports/XAdES01903v141-201601.xsd"),),
    ),
    Jar(
        "com.helger.phive.rules",
        "phive-rules-en16931",
        "4.3.7",
        "842998fe45911442b711300ab251e46489a9a5e2ffc02ddefc4293f8784c2662",
        (
            (
                f"external/schematron/{EN16931_VERSION}/ubl/EN16931-UBL-validation.xslt",
                f"xslt/EN16931-UBL-validation-{EN16931_VERSION}.xslt",
            ),
        ),
    ),
    Jar(
        "com.helger.phive.rules",
        "phive-rules-simplerinvoicing",
        "4.2.3",
        "c744846f99ca49c7b2889f683e5a464213b7123c2045f0c6ff0e1d03584febbc",
        (
            (
                f"external/schematron/simplerinvoicing/si-ubl-{NLCIUS_VERSION}.xslt",
                f"xslt/si-ubl-{NLCIUS_VERSION}.xslt",
            ),
        ),
    ),
)

SCHEMA_PATH = "xsd/koppel-ubl21-invoice-creditnote.xsd"
EN16931_XSLT_PATH = f"xslt/EN16931-UBL-validation-{EN16931_VERSION}.xslt"
NLCIUS_XSLT_PATH = f"xslt/si-ubl-{NLCIUS_VERSION}.xslt"
MANIFEST = "manifest.json"

_DRIVER_IMPORTS = (
    ("urn:un:unece:uncefact:data:specification:CoreComponentTypeSchemaModule:2",
     "imports/CCTS_CCT_SchemaModule.xsd"),
    ("http://www.w3.org/2000/09/xmldsig#", "imports/xmldsig-core-schema.xsd"),
    ("http://uri.etsi.org/01903/v1.3.2#", "imports/XAdES01903v132-201601.xsd"),
    ("http://uri.etsi.org/01903/v1.4.1#", "imports/XAdES01903v141-201601.xsd"),
    ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
     "ubl21/maindoc/UBL-Invoice-2.1.xsd"),
    ("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
     "ubl21/maindoc/UBL-CreditNote-2.1.xsd"),
)  # fmt: skip


@dataclass(frozen=True)
class Artefacts:
    """Paths of the extracted artefacts in the cache."""

    root: Path

    @property
    def schema(self) -> Path:
        return self.root / SCHEMA_PATH

    @property
    def en16931_xslt(self) -> Path:
        return self.root / EN16931_XSLT_PATH

    @property
    def nlcius_xslt(self) -> Path:
        return self.root / NLCIUS_XSLT_PATH

    def manifest(self) -> dict[str, object]:
        return json.loads((self.root / MANIFEST).read_text())


def cache_base(environ: Mapping[str, str] | None = None) -> Path:
    """`$KOPPEL_CACHE_DIR`, else `${XDG_CACHE_HOME:-~/.cache}/koppel` (as deploy/local)."""
    env = os.environ if environ is None else environ
    explicit = env.get("KOPPEL_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path("~/.cache").expanduser()) / "koppel"


def pins_digest() -> str:
    """Short hash of every pin and the layout: a changed pin gets a fresh cache dir."""
    digest = hashlib.sha256(LAYOUT_VERSION.encode())
    for jar in JARS:
        digest.update(f"\0{jar.coordinates}\0{jar.sha256}\0{jar.extract!r}".encode())
    return digest.hexdigest()[:16]


def artefacts_dir(environ: Mapping[str, str] | None = None) -> Path:
    return cache_base(environ) / "ubl" / pins_digest()


def _complete(root: Path) -> bool:
    return (root / MANIFEST).is_file()


@contextlib.contextmanager
def _file_lock(lock_path: Path, timeout: float) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ArtefactError(
                        f"another process holds {lock_path} for more than {timeout:.0f}s"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _download(jar: Jar, repository: str, target: Path) -> None:
    url = jar.url(repository)
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            with target.open("wb") as out:
                while chunk := response.read(1 << 16):
                    digest.update(chunk)
                    out.write(chunk)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise ArtefactError(
            f"could not download {jar.coordinates} from {url}: {error}. The UBL validation "
            f"artefacts come from Maven Central (or ${REPOSITORY_ENV}); is it reachable?"
        ) from None
    actual = digest.hexdigest()
    if actual != jar.sha256:
        raise ArtefactError(
            f"{jar.coordinates} from {url} has SHA-256 {actual}, but {jar.sha256} is pinned "
            "in koppel_ubl.artefacts; refusing to use it"
        )


def _safe_target(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ArtefactError(f"refusing to extract {relative!r} outside {root}")
    return target


def _extract(jar: Jar, jar_file: Path, root: Path) -> None:
    with zipfile.ZipFile(jar_file) as archive:
        names = archive.namelist()
        for member, destination in jar.extract:
            if member.endswith("/"):
                chosen = [n for n in names if n.startswith(member) and not n.endswith("/")]
                pairs = [(n, str(PurePosixPath(destination) / n[len(member) :])) for n in chosen]
            else:
                pairs = [(member, destination)] if member in names else []
            if not pairs:
                raise ArtefactError(f"{jar.coordinates} has no {member!r}")
            for name, relative in pairs:
                target = _safe_target(root, relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(name))


def _write_driver_schema(root: Path) -> None:
    imports = "\n".join(
        f'  <xsd:import namespace="{namespace}" schemaLocation="{location}"/>'
        for namespace, location in _DRIVER_IMPORTS
    )
    (root / SCHEMA_PATH).write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- Written by koppel_ubl.artefacts: gives the schemas that UBL 2.1 imports without\n"
        "     a schemaLocation an explicit one, then pulls in Invoice and CreditNote. -->\n"
        '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema">\n'
        f"{imports}\n</xsd:schema>\n"
    )


def _fetch_into(root: Path, repository: str, progress: Progress) -> None:
    jars_dir = root / "jars"
    jars_dir.mkdir(parents=True)
    for jar in JARS:
        progress(f"downloading {jar.coordinates}")
        jar_file = jars_dir / jar.file_name
        _download(jar, repository, jar_file)
        _extract(jar, jar_file, root)
    shutil.rmtree(jars_dir)
    _write_driver_schema(root)


def ensure_artefacts(
    *,
    environ: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Artefacts:
    """The extracted artefacts; downloads and verifies them on first use (a few seconds)."""
    env = os.environ if environ is None else environ
    root = artefacts_dir(env)
    if _complete(root):
        return Artefacts(root)
    report = progress or (lambda _message: None)
    repository = env.get(REPOSITORY_ENV, "").strip() or MAVEN_CENTRAL
    with _file_lock(root.parent / ".lock", LOCK_TIMEOUT):
        if _complete(root):
            return Artefacts(root)  # another process finished while we waited
        started = time.monotonic()
        report(f"fetching UBL validation artefacts into {root} (first run only)")
        # Build in a scratch dir and rename: an interrupted fetch never looks complete.
        with tempfile.TemporaryDirectory(dir=root.parent, prefix="fetch-") as scratch:
            work = Path(scratch) / "artefacts"
            _fetch_into(work, repository, report)
            manifest = {
                "repository": repository,
                "jars": [{"coordinates": j.coordinates, "sha256": j.sha256} for j in JARS],
                "en16931_schematron": EN16931_VERSION,
                "si_ubl": NLCIUS_VERSION,
                "fetch_seconds": round(time.monotonic() - started, 2),
            }
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            if root.exists():
                shutil.rmtree(root)  # an incomplete leftover without manifest
            work.replace(root)
        report(f"UBL validation artefacts ready in {root}")
    return Artefacts(root)

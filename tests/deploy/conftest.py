"""Fixtures for the deploy checks: the tools deploy/validate.sh installs, and a chart renderer."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "koppel"
PRODUCTION = CHART / "values-production.yaml"
VALIDATE = ROOT / "deploy" / "validate.sh"

Doc = dict[str, Any]


@pytest.fixture(scope="session")
def deploy_tools() -> dict[str, str]:
    """helm, kubeconform, hadolint... installed (once, cached) by deploy/validate.sh."""
    done = subprocess.run(
        ["bash", str(VALIDATE), "tools"], capture_output=True, text=True, timeout=1500
    )
    assert done.returncode == 0, f"installing the deploy tools failed:\n{done.stderr}"
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


class RenderError(Exception):
    pass


@pytest.fixture(scope="session")
def render(deploy_tools: dict[str, str]) -> Callable[..., list[Doc]]:
    """`helm template` the chart with values files / --set pairs; the parsed documents."""

    def run(*values_files: Path, sets: dict[str, str] | None = None, chart: Path = CHART):
        args = [deploy_tools["HELM"], "template", "koppel", str(chart), "--namespace", "koppel"]
        for f in values_files:
            args += ["-f", str(f)]
        for key, value in (sets or {}).items():
            args += ["--set", f"{key}={value}"]
        done = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RenderError(done.stderr)
        return load_all(done.stdout)

    return run


def load_all(text: str) -> list[Doc]:
    # ruamel.yaml comes with the CLI package; plain dicts/lists out of its safe loader.
    return [d for d in YAML(typ="safe", pure=True).load_all(text) if d]


def find(docs: list[Doc], kind: str, name: str | None = None) -> list[Doc]:
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[Doc], kind: str, name: str) -> Doc:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def component(doc: Doc) -> str | None:
    return doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")

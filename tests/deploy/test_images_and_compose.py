"""The Dockerfiles and the compose file agree with the chart and the code.

No Docker engine here: these read the files. hadolint and the compose-go check
run in deploy/validate.sh (test_helm_chart.py runs it).
"""

from __future__ import annotations

import re

import pytest

from .conftest import CHART, ROOT, load_all

SERVICES = sorted(load_all((CHART / "values.yaml").read_text())[0]["services"])
COMPOSE = load_all((ROOT / "deploy" / "compose" / "compose.yaml").read_text())[0]


def module(service: str) -> str:
    return "koppel_" + service.replace("-", "_")


def prefix(service: str) -> str:
    return "KOPPEL_" + service.replace("-", "_").upper() + "_"


def dockerfile(service: str) -> str:
    return (ROOT / "services" / service / "Dockerfile").read_text()


def normalised(service: str) -> str:
    """A service's Dockerfile with its own names replaced: the shared pattern."""
    text = dockerfile(service)
    for own, placeholder in (
        (prefix(service), "<PREFIX>"),
        (module(service), "<MODULE>"),
        (service, "<SERVICE>"),
    ):
        text = text.replace(own, placeholder)
    return text


def stages(text: str) -> list[str]:
    return re.split(r"^FROM ", text, flags=re.MULTILINE)[1:]


@pytest.mark.parametrize("service", SERVICES)
def test_every_chart_service_has_a_multi_stage_non_root_dockerfile(service) -> None:
    text = dockerfile(service)
    build, runtime = stages(text)
    assert build.startswith("${PYTHON_IMAGE} AS build")
    assert "ARG PYTHON_IMAGE=python:3.11-slim\n" in text
    assert f"ARG PACKAGE=koppel-{service}\n" in build
    assert 'uv sync --frozen --no-dev --no-editable --package "${PACKAGE}"' in build
    # The runtime stage: only the built virtualenv, a non-root user, a health check.
    assert runtime.startswith("${PYTHON_IMAGE} AS runtime")
    copies = re.findall(r"^COPY .*$", runtime, flags=re.MULTILINE)
    assert copies == ["COPY --from=build /app/.venv /app/.venv"]
    assert "uv" not in re.sub(r"#.*", "", runtime).replace("urllib", "")
    assert "USER 10001:10001" in runtime
    assert re.search(r"HEALTHCHECK .*\n.*/livez", runtime)
    assert f"{prefix(service)}HTTP_PORT" in runtime
    assert f'ENTRYPOINT ["python", "-m", "{module(service)}"]' in runtime
    main = ROOT / "services" / service / "src" / module(service) / "__main__.py"
    if (ROOT / "services" / service / "pyproject.toml").exists():
        assert (
            f'name = "koppel-{service}"'
            in (ROOT / "services" / service / "pyproject.toml").read_text()
        )
    if main.parent.exists() and (main.parent / "app.py").exists():
        assert main.exists(), f"{service}: the image runs `python -m {module(service)}`"


def test_the_service_dockerfiles_share_one_pattern() -> None:
    patterns = {normalised(s) for s in SERVICES}
    assert len(patterns) == 1, "services/*/Dockerfile drifted apart; keep them in step"


def test_the_build_context_ships_no_secrets_or_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    for pattern in (".git", "**/.venv", ".local", "**/.env", "**/tests"):
        assert pattern in ignored
    # ...but keeps what `uv sync` needs.
    for needed in ("uv.lock", "pyproject.toml", "libs", "services", "cli"):
        assert needed not in ignored


def test_compose_runs_every_service_with_its_settings() -> None:
    services = COMPOSE["services"]
    for infra in ("kafka", "mongodb", "topics", "sandbox-ccvshop", "sandbox-octopus", "mailpit"):
        assert infra in services
    assert "KAFKA_PROCESS_ROLES" in services["kafka"]["environment"]  # KRaft, no ZooKeeper
    for service in SERVICES:
        spec = services[service]
        assert spec["build"]["dockerfile"] == f"services/{service}/Dockerfile"
        assert spec["build"]["context"] == "../.."
        env = spec["environment"]
        for setting in (
            "KAFKA_BOOTSTRAP_SERVERS",
            "MONGODB_URI",
            "SECRETS_KEY",
            "HTTP_PORT",
            "LOG_LEVEL",
            "TOPIC_PREFIX",
        ):
            assert prefix(service) + setting in env, f"{service}: {setting}"
        assert spec["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    assert services["notifier"]["environment"]["KOPPEL_NOTIFIER_SMTP_HOST"] == "mailpit"
    topics = services["topics"]["command"]
    assert topics[:2] == ["topics", "ensure"]


def test_compose_links_the_notifiers_mails_to_the_published_dashboard() -> None:
    services = COMPOSE["services"]
    dashboard = services["dashboard"]["environment"]
    [published] = services["dashboard"]["ports"]
    host_port, container_port = published.split(":")
    assert container_port == dashboard["KOPPEL_DASHBOARD_HTTP_PORT"]
    public = f"http://localhost:{host_port}"
    assert dashboard["KOPPEL_DASHBOARD_PUBLIC_BASE_URL"] == public
    assert services["notifier"]["environment"]["KOPPEL_NOTIFIER_DASHBOARD_URL"] == public
    # The cookie secret's default must pass the dashboard's own rule (32 characters).
    default = dashboard["KOPPEL_DASHBOARD_COOKIE_SECRET"].split(":-", 1)[1].rstrip("}")
    assert len(default) >= 32
    assert dashboard["KOPPEL_DASHBOARD_SECURE_COOKIES"] == "false", "plain http on localhost"


def test_compose_publishes_every_port_once() -> None:
    published = [
        str(port).split(":")[0]
        for spec in COMPOSE["services"].values()
        for port in spec.get("ports", [])
    ]
    assert len(published) == len(set(published)), sorted(published)


def test_compose_gives_the_ubl_validating_services_a_writable_cache() -> None:
    for service in ("ingest-bol", "ledger-asperion"):
        spec = COMPOSE["services"][service]
        assert spec["environment"]["KOPPEL_CACHE_DIR"].startswith("/tmp/")
        assert "/tmp" in spec["tmpfs"]

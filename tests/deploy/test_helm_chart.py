"""The Helm chart, rendered with the real helm: independent scaling, probes, config/secrets,
topic job, autoscaling, disruption budgets, webhooks, monitoring. And deploy/validate.sh —
the same checks CI runs (helm lint, kubeconform on every manifest, hadolint, compose) —
passes on the chart and fails on a broken one.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import typer.main
from koppel_cli.main import app as cli_app

from .conftest import (
    CHART,
    PRODUCTION,
    ROOT,
    VALIDATE,
    RenderError,
    component,
    find,
    load_all,
    one,
)

# The first run installs helm and kubeconform through the Go module proxy (minutes).
pytestmark = pytest.mark.timeout(1800)

SERVICES = [
    "dashboard",
    "ingest-bol",
    "ingest-ccv",
    "ingest-prestashop",
    "ledger-asperion",
    "ledger-octopus",
    "ledger-snelstart",
    "notifier",
]
VALUES_FILES = {"default": (), "production": (PRODUCTION,)}


def deployment(docs, service):
    return one(docs, "Deployment", f"koppel-{service}")


def container(docs, service):
    [c] = deployment(docs, service)["spec"]["template"]["spec"]["containers"]
    return c


def key(doc) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def changed(before, after) -> set[tuple[str, str]]:
    old = {key(d): d for d in before}
    new = {key(d): d for d in after}
    assert old.keys() == new.keys()
    return {k for k in old if old[k] != new[k]}


# --- the validation CI runs ------------------------------------------------------------


def run_validate(**env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        ["bash", str(VALIDATE)],
        capture_output=True,
        text=True,
        timeout=1500,
        env={**os.environ, **env},
    )


def test_validate_sh_passes_on_the_chart_dockerfiles_and_compose(deploy_tools) -> None:
    done = run_validate()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all deploy checks passed" in done.stdout
    for step in ("helm lint", "kubeconform", "hadolint", "compose file"):
        assert step in done.stderr


@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    target = tmp_path / "koppel"
    shutil.copytree(CHART, target)
    return target


def test_validate_sh_fails_on_a_broken_template(deploy_tools, chart_copy: Path) -> None:
    pdb = chart_copy / "templates" / "pdb.yaml"
    pdb.write_text(pdb.read_text().replace("{{- end }}\n", "", 1))  # an unclosed block
    done = run_validate(KOPPEL_CHART_DIR=str(chart_copy))
    assert done.returncode != 0
    assert "FAILED: helm template (default values)" in done.stderr


def test_validate_sh_fails_on_an_invalid_manifest(deploy_tools, chart_copy: Path) -> None:
    deployment_tpl = chart_copy / "templates" / "deployment.yaml"
    text = deployment_tpl.read_text()
    # Renders fine, but a Deployment has no `spec.replica` nor a string revisionHistoryLimit.
    text = text.replace("  revisionHistoryLimit: 5", "  revisionHistoryLimit: five\n  replica: 1")
    deployment_tpl.write_text(text)
    done = run_validate(KOPPEL_CHART_DIR=str(chart_copy))
    assert done.returncode != 0
    assert "FAILED: kubeconform -strict" in done.stderr
    assert "revisionHistoryLimit" in done.stdout + done.stderr


# --- one service, one values entry ------------------------------------------------------


@pytest.mark.parametrize("values", VALUES_FILES)
def test_every_service_has_its_own_deployment(render, values) -> None:
    docs = render(*VALUES_FILES[values])
    names = {d["metadata"]["name"] for d in find(docs, "Deployment")}
    assert names == {f"koppel-{s}" for s in SERVICES}
    for service in SERVICES:
        selector = deployment(docs, service)["spec"]["selector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == service


@pytest.mark.parametrize("values", VALUES_FILES)
@pytest.mark.parametrize("service", SERVICES)
def test_one_services_replicas_change_only_its_deployment(render, values, service) -> None:
    before = render(*VALUES_FILES[values])
    name = f"koppel-{service}"
    if "replicas" in deployment(before, service)["spec"]:
        after = render(*VALUES_FILES[values], sets={f"services.{service}.replicaCount": "7"})
        assert changed(before, after) == {("Deployment", name)}
        assert deployment(after, service)["spec"]["replicas"] == 7
    else:  # autoscaled: the HPA (or KEDA's) owns replicas; its bounds are the setting
        after = render(
            *VALUES_FILES[values], sets={f"services.{service}.autoscaling.maxReplicas": "9"}
        )
        [(kind, changed_name)] = changed(before, after)
        assert changed_name == name and kind in ("HorizontalPodAutoscaler", "ScaledObject")


@pytest.mark.parametrize("values", VALUES_FILES)
@pytest.mark.parametrize("service", SERVICES)
def test_one_services_resources_change_only_its_deployment(render, values, service) -> None:
    before = render(*VALUES_FILES[values])
    after = render(
        *VALUES_FILES[values],
        sets={
            f"services.{service}.resources.requests.cpu": "1500m",
            f"services.{service}.resources.limits.memory": "3Gi",
        },
    )
    assert changed(before, after) == {("Deployment", f"koppel-{service}")}
    resources = container(after, service)["resources"]
    assert resources["requests"]["cpu"] == "1500m"
    assert resources["limits"]["memory"] == "3Gi"
    for other in set(SERVICES) - {service}:
        assert deployment(before, other) == deployment(after, other)


def test_a_new_service_is_only_a_values_entry(render) -> None:
    docs = render(
        sets={
            "services.ingest-shopify.image.repository": "koppel/ingest-shopify",
            "services.ingest-shopify.replicaCount": "2",
        }
    )
    new = deployment(docs, "ingest-shopify")
    assert new["spec"]["replicas"] == 2
    assert container(docs, "ingest-shopify")["image"] == "koppel/ingest-shopify:0.1.0"
    prefixes = {e["prefix"] for e in container(docs, "ingest-shopify")["envFrom"]}
    assert prefixes == {"KOPPEL_INGEST_SHOPIFY_"}
    assert one(docs, "PodDisruptionBudget", "koppel-ingest-shopify")


def test_disabling_a_service_removes_every_object_of_it(render) -> None:
    docs = render(
        PRODUCTION,
        sets={"services.notifier.enabled": "false", "services.ingest-ccv.pdb.enabled": "false"},
    )
    assert not [d for d in docs if component(d) == "notifier"]
    assert not find(docs, "PodDisruptionBudget", "koppel-ingest-ccv")
    assert find(docs, "PodDisruptionBudget", "koppel-ledger-octopus")


def test_the_values_schema_refuses_typos_and_wrong_types(render) -> None:
    with pytest.raises(RenderError, match="replicas"):
        render(sets={"services.ledger-octopus.replicas": "3"})
    with pytest.raises(RenderError, match="replicaCount"):
        render(sets={"services.ledger-octopus.replicaCount": "-1"})
    with pytest.raises(RenderError, match="Bad_Name"):
        render(sets={"services.Bad_Name.replicaCount": "1"})


# --- the chassis endpoints and settings ----------------------------------------------------


@pytest.mark.parametrize("values", VALUES_FILES)
def test_probes_point_at_the_chassis_health_endpoints(render, values) -> None:
    docs = render(*VALUES_FILES[values])
    for service in SERVICES:
        c = container(docs, service)
        assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
        assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert c["startupProbe"]["httpGet"]["path"] == "/livez"
        pod = deployment(docs, service)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert c["securityContext"]["readOnlyRootFilesystem"] is True


def settings_prefix(service: str) -> str | None:
    """The env prefix the service's settings class declares, when the service exists."""
    module = "koppel_" + service.replace("-", "_")
    source = ROOT / "services" / service / "src" / module / "settings.py"
    if not source.exists():
        return None
    found = re.search(r'env_prefix="(KOPPEL_[A-Z_]+_)"', source.read_text())
    return found.group(1) if found else None


def env_names(docs, service) -> dict[str, str]:
    """Every variable a service's container receives, with the object it comes from."""
    names: dict[str, str] = {}
    for source in container(docs, service)["envFrom"]:
        ref = source.get("configMapRef") or source["secretRef"]
        kind = "ConfigMap" if "configMapRef" in source else "Secret"
        found = find(docs, kind, ref["name"])
        data = (found[0].get("data") or found[0].get("stringData") or {}) if found else {}
        for k in data:
            names[source["prefix"] + k] = f"{kind}/{ref['name']}"
    return names


def test_each_service_gets_the_settings_its_class_reads(render) -> None:
    docs = render(sets={"secrets.secretsKey": "a-key"})
    for service in SERVICES:
        prefix = "KOPPEL_" + service.replace("-", "_").upper() + "_"
        assert settings_prefix(service) in (None, prefix)
        names = env_names(docs, service)
        for setting in ("KAFKA_BOOTSTRAP_SERVERS", "TOPIC_PREFIX", "HTTP_PORT", "LOG_LEVEL"):
            assert names[prefix + setting] == "ConfigMap/koppel-shared"
        for setting in ("MONGODB_URI", "SECRETS_KEY"):
            assert names[prefix + setting] == "Secret/koppel-shared"
    assert env_names(docs, "notifier")["KOPPEL_NOTIFIER_SMTP_HOST"] == "ConfigMap/koppel-notifier"


def test_no_secret_value_lands_in_a_configmap_or_a_pod_spec(render) -> None:
    secrets = {
        "secrets.secretsKey": "SECRETS-KEY-VALUE",
        "secrets.privacyKey": "PRIVACY-KEY-VALUE",
        "secrets.mongodbUri": "mongodb://koppel:MONGO-PASSWORD@mongo:27017/",
        "services.notifier.secretEnv.SMTP_PASSWORD": "SMTP-PASSWORD",
    }
    docs = render(sets=secrets)
    for doc in docs:
        text = repr(doc)
        for value in ("SECRETS-KEY-VALUE", "PRIVACY-KEY-VALUE", "MONGO-PASSWORD", "SMTP-PASSWORD"):
            if doc["kind"] == "Secret":
                continue
            assert value not in text, f"{value} leaked into {key(doc)}"
    shared = one(docs, "Secret", "koppel-shared")["stringData"]
    assert shared["SECRETS_KEY"] == "SECRETS-KEY-VALUE"
    # What the services' settings read as secrets_keys (pydantic parses the JSON).
    assert json.loads(shared["SECRETS_KEYS"]) == {"privacy": "PRIVACY-KEY-VALUE"}
    assert one(docs, "Secret", "koppel-notifier")["stringData"]["SMTP_PASSWORD"] == "SMTP-PASSWORD"


def test_an_existing_secret_replaces_the_charts_secret(render) -> None:
    docs = render(PRODUCTION)
    assert not find(docs, "Secret")
    for service in SERVICES:
        refs = [
            s["secretRef"]["name"] for s in container(docs, service)["envFrom"] if "secretRef" in s
        ]
        assert refs[0] == "koppel-secrets"
    notifier_refs = [
        s["secretRef"]["name"] for s in container(docs, "notifier")["envFrom"] if "secretRef" in s
    ]
    assert notifier_refs == ["koppel-secrets", "koppel-notifier-smtp"]


# --- topics ----------------------------------------------------------------------------


@pytest.mark.parametrize("values", VALUES_FILES)
def test_the_topic_job_runs_koppel_topics_ensure_with_the_values(render, values) -> None:
    docs = render(*VALUES_FILES[values])
    job = one(docs, "Job", "koppel-topics")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    [c] = job["spec"]["template"]["spec"]["containers"]
    args = c["args"]
    assert args[:2] == ["topics", "ensure"]
    expected = {"default": ("6", "1", "2592000000"), "production": ("12", "3", "7776000000")}
    partitions, replication, retention = expected[values]
    assert args[args.index("--partitions") + 1] == partitions
    assert args[args.index("--replication-factor") + 1] == replication
    assert args[args.index("--retention-ms") + 1] == retention
    # The arguments are ones the real CLI accepts (parsed by its own click command).
    ensure = typer.main.get_command(cli_app).commands["topics"].commands["ensure"]  # type: ignore[attr-defined]
    context = ensure.make_context("ensure", list(args[2:]))
    assert context.params["partitions"] == int(partitions)
    assert context.params["retention_ms"] == int(retention)
    if values == "production":
        assert context.params["config"] == ["min.insync.replicas=2"]
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["KOPPEL_KAFKA_BOOTSTRAP_SERVERS"]


def test_topics_values_change_the_job_and_nothing_else(render) -> None:
    before = render()
    after = render(sets={"topics.partitions": "24", "topics.retentionMs": "-1"})
    assert changed(before, after) == {("Job", "koppel-topics")}
    assert not find(render(sets={"topics.create": "false"}), "Job")


# --- scaling, disruption, webhooks, monitoring ---------------------------------------------


def test_autoscaling_cpu_hpa_and_kafka_lag_per_service(render) -> None:
    docs = render(PRODUCTION)
    hpa = one(docs, "HorizontalPodAutoscaler", "koppel-ingest-ccv")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "koppel-ingest-ccv"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in deployment(docs, "ingest-ccv")["spec"]  # the HPA owns it

    assert not find(docs, "HorizontalPodAutoscaler", "koppel-ledger-octopus")  # KEDA's instead
    scaled = one(docs, "ScaledObject", "koppel-ledger-octopus")
    kafka, cpu = scaled["spec"]["triggers"]
    assert kafka["type"] == "kafka" and cpu["type"] == "cpu"
    assert kafka["metadata"]["consumerGroup"] == "ledger-octopus.main"
    assert kafka["metadata"]["topic"] == "shop.orders.v1"
    assert "replicas" not in deployment(docs, "ledger-octopus")["spec"]

    assert deployment(docs, "notifier")["spec"]["replicas"] == 2
    notifier_lag = render(
        PRODUCTION, sets={"services.notifier.autoscaling.kafkaLag.enabled": "true"}
    )
    groups = [
        t["metadata"]["consumerGroup"]
        for t in one(notifier_lag, "ScaledObject", "koppel-notifier")["spec"]["triggers"]
        if t["type"] == "kafka"
    ]
    assert groups == ["notifier.checks", "notifier.alerts", "notifier.bookings"]


@pytest.mark.parametrize("values", VALUES_FILES)
def test_each_service_has_a_disruption_budget_selecting_only_its_pods(render, values) -> None:
    docs = render(*VALUES_FILES[values])
    for service in SERVICES:
        pdb = one(docs, "PodDisruptionBudget", f"koppel-{service}")
        pods = deployment(docs, service)["spec"]["template"]["metadata"]["labels"]
        selector = pdb["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pods.items()
        others = [deployment(docs, s) for s in SERVICES if s != service]
        for other in others:
            assert not selector.items() <= other["spec"]["template"]["metadata"]["labels"].items()


def test_webhooks_get_a_service_and_an_optional_ingress(render) -> None:
    default = render()
    # ingest-ccv for the shops' webhooks; ledger-asperion for operators (make, resend); the
    # dashboard for people.
    services = sorted(d["metadata"]["name"] for d in find(default, "Service"))
    assert services == ["koppel-dashboard", "koppel-ingest-ccv", "koppel-ledger-asperion"]
    assert not find(default, "Ingress")

    docs = render(PRODUCTION)
    ingress = one(docs, "Ingress", "koppel-ingest-ccv")
    [rule] = ingress["spec"]["rules"]
    [path] = rule["http"]["paths"]
    assert path["path"] == "/webhooks/ccvshop"
    assert path["backend"]["service"] == {"name": "koppel-ingest-ccv", "port": {"name": "http"}}
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    assert env_names(docs, "ingest-ccv")["KOPPEL_INGEST_CCV_PUBLIC_BASE_URL"]


def test_service_monitors_scrape_metrics_of_every_service(render) -> None:
    assert not find(render(), "ServiceMonitor")
    docs = render(PRODUCTION)
    for service in SERVICES:
        monitor = one(docs, "ServiceMonitor", f"koppel-{service}")
        assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
        assert monitor["spec"]["endpoints"][0]["port"] == "http"
        target = one(docs, "Service", f"koppel-{service}")
        assert (
            monitor["spec"]["selector"]["matchLabels"].items()
            <= target["metadata"]["labels"].items()
        )


def test_production_values_file_parses_and_mentions_only_known_services() -> None:
    [values] = load_all(PRODUCTION.read_text())
    assert set(values["services"]) <= set(SERVICES)
    defaults = load_all((CHART / "values.yaml").read_text())[0]
    assert set(defaults["services"]) == set(SERVICES)
    assert defaults["serviceDefaults"]["probes"]["liveness"]["path"] == "/livez"


def config_of(docs, service) -> dict[str, str]:
    """The service's own ConfigMap (`services.<name>.config`)."""
    return one(docs, "ConfigMap", f"koppel-{service}")["data"]


@pytest.mark.parametrize("values", VALUES_FILES)
def test_the_notifiers_mails_link_to_the_dashboards_public_address(render, values) -> None:
    docs = render(*VALUES_FILES[values])
    public = config_of(docs, "dashboard")["PUBLIC_BASE_URL"]
    assert config_of(docs, "notifier")["DASHBOARD_URL"] == public
    assert env_names(docs, "dashboard")["KOPPEL_DASHBOARD_PUBLIC_BASE_URL"]


def test_the_dashboard_is_served_behind_its_ingress_with_its_secret(render) -> None:
    docs = render(PRODUCTION)
    ingress = one(docs, "Ingress", "koppel-dashboard")
    [rule] = ingress["spec"]["rules"]
    assert "https://" + rule["host"] == config_of(docs, "dashboard")["PUBLIC_BASE_URL"]
    [path] = rule["http"]["paths"]
    assert path["path"] == "/"
    assert path["backend"]["service"] == {"name": "koppel-dashboard", "port": {"name": "http"}}
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    refs = [
        s["secretRef"]["name"] for s in container(docs, "dashboard")["envFrom"] if "secretRef" in s
    ]
    assert refs == ["koppel-secrets", "koppel-dashboard"], "COOKIE_SECRET and SMTP login"
    # Given in the values instead, the cookie secret goes to a Secret, never a ConfigMap.
    docs = render(sets={"services.dashboard.secretEnv.COOKIE_SECRET": "COOKIE-SECRET-VALUE"})
    assert one(docs, "Secret", "koppel-dashboard")["stringData"]["COOKIE_SECRET"]
    assert "COOKIE-SECRET-VALUE" not in repr(find(docs, "ConfigMap"))


def test_ingest_bol_gets_a_writable_cache_for_its_invoice_validation(render) -> None:
    docs = render(PRODUCTION)
    env = {e["name"]: e.get("value") for e in container(docs, "ingest-bol").get("env", [])}
    cache = env["KOPPEL_CACHE_DIR"]
    mounts = [m["mountPath"] for m in container(docs, "ingest-bol")["volumeMounts"]]
    assert any(cache.startswith(mount + "/") for mount in mounts), (cache, mounts)
    assert container(docs, "ingest-bol")["securityContext"]["readOnlyRootFilesystem"] is True

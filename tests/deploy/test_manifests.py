"""deploy/: the compose file and the Kubernetes manifests validated against their schemas (compose-spec,
kubernetes-validate: no container can be pulled here, so they are checked, not run), kept in step with the
settings class, built from the Dockerfile as shipped; the alert rules and dashboard name only real metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import compose_spec
import kubernetes_validate
import pytest
import yaml

from backend.config import DEPLOY_REQUIRED, OTHER_ENVIRONMENT, Settings, environment_names
from backend.kit import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SECRETS = {"POSTGRES_PASSWORD": "db-password", "SECRET_KEY": "k" * 48, "MINIO_ROOT_USER": "portal",
           "MINIO_ROOT_PASSWORD": "minio-password", "METRICS_TOKEN": "metrics-token"}
KUBERNETES = "1.30.0"
_VARIABLE = re.compile(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable syntax: ${X}, ${X:-default}, ${X:?error}; an unset required variable is an error."""

    def value(match: re.Match[str]) -> str:
        name, op, arg = match.groups()
        if name in env:
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return _VARIABLE.sub(value, text)


def compose(env: dict[str, str] = SECRETS) -> dict[str, Any]:
    data = yaml.safe_load(interpolate((DEPLOY / "compose.yaml").read_text(), env))  # YAML anchors resolved
    compose_spec.PyCompose.from_json(json.dumps(data)).to_spec()  # raises on anything the specification refuses
    return data  # type: ignore[no-any-return]


def manifests() -> list[dict[str, Any]]:
    return [doc for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())]


def kind(name: str) -> dict[str, Any]:
    (found,) = [doc for doc in manifests() if doc["kind"] == name]
    return found


def test_the_compose_file_follows_the_compose_specification_and_needs_its_secrets() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "minio", "migrate", "app", "nginx"}
    for missing in SECRETS:
        with pytest.raises(KeyError, match=missing):
            compose({k: v for k, v in SECRETS.items() if k != missing})
    with pytest.raises(ValueError):  # the validator does refuse a broken file
        compose_spec.PyCompose.from_json(json.dumps({"services": {"app": {"depends_on": {"db": {"condition": "up"}}}}}))


def test_compose_runs_migrations_first_then_n_healthy_replicas_behind_nginx() -> None:
    services = compose({**SECRETS, "PORTAL_REPLICAS": "3"})["services"]
    app, migrate = services["app"], services["migrate"]
    assert migrate["command"] == ["portal", "db", "upgrade"]
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["depends_on"]["minio"]["condition"] == "service_healthy"
    assert app["deploy"]["replicas"] == 3
    assert "/readyz" in " ".join(app["healthcheck"]["test"])
    assert all("healthcheck" in services[name] for name in ("db", "minio", "app", "nginx"))
    assert app["build"] == migrate["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert "ports" not in app  # only nginx is published
    conf = (DEPLOY / services["nginx"]["volumes"][0].split(":")[0]).read_text()
    assert "server app:8000" in conf and "location = /metrics" in conf


def test_kubernetes_manifests_validate_and_fit_together() -> None:
    docs = manifests()
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)
    assert {doc["kind"] for doc in docs} == {
        "ConfigMap", "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job",
    }  # no Secret: referenced, never included
    deployment = kind("Deployment")
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    (container,) = pod["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert kind("Service")["spec"]["selector"].items() <= labels.items()
    assert kind("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert kind("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    backend = kind("Ingress")["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == kind("Service")["metadata"]["name"]
    job = kind("Job")["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == ["portal", "db", "upgrade"] and job["image"] == container["image"]
    with pytest.raises(kubernetes_validate.ValidationError):  # the validator does refuse a broken manifest
        kubernetes_validate.validate({**deployment, "spec": {**deployment["spec"], "replicas": "two"}}, KUBERNETES,
                                     strict=True)


def _kubernetes_environment(container: dict[str, Any]) -> dict[str, str]:
    configmap = kind("ConfigMap")
    names = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == configmap["metadata"]["name"]
        names.update(configmap["data"])
    for item in container.get("env", []):
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        names[item["name"]] = f"<secret {ref['name']}/{ref['key']}>" if ref else item["value"]
    return names


@pytest.mark.parametrize("where", ["compose app", "compose migrate", "kubernetes Deployment", "kubernetes Job"])
def test_every_required_setting_is_set_and_every_setting_set_is_real(where: str) -> None:
    if where.startswith("compose"):
        env = {k: str(v) for k, v in compose()["services"][where.split()[1]]["environment"].items()}
    else:
        env = _kubernetes_environment(kind(where.split()[1])["spec"]["template"]["spec"]["containers"][0])
    assert set(DEPLOY_REQUIRED) - set(env) == set()
    assert set(env) - environment_names() == set(), "a variable no setting reads (a typo, or a setting renamed)"
    if where.startswith("compose"):  # the production settings as compose gives them pass the settings' checks
        own = {k.lower(): v for k, v in env.items() if k not in OTHER_ENVIRONMENT and v != ""}
        settings = Settings(**{k: v for k, v in own.items() if not k.startswith("password_hash_")})
        assert not settings.demo_mode and settings.storage_backend == "s3" and not settings.is_sqlite


def test_the_image_is_multi_stage_non_root_with_the_cjk_font() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM ", dockerfile, flags=re.M)
    assert len(stages) >= 2
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.M)
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert "fonts-noto-cjk" in dockerfile and "postgresql-client" in dockerfile  # pg_dump for portal backup
    for needed in ("backend", "migrations", "web", "alembic.ini"):
        assert re.search(rf"^COPY .*\b{re.escape(needed)}\b", dockerfile, flags=re.M), needed
    ignored = (DEPLOY.parent / ".dockerignore").read_text().split()
    assert ".venv" in ignored and "data" in ignored and ".env" in ignored


def _portal_metrics(text: str) -> set[str]:
    names = set(re.findall(r"\bportal_[a-z_]+", text))
    return {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in names}


def test_alerts_and_dashboard_name_only_metrics_the_portal_exports() -> None:
    exported = {m._name for m in vars(metrics).values() if hasattr(m, "_name") and hasattr(m, "_type")}
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())
    alerts = {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}
    assert {"PortalErrorRate", "PortalHeartbeatLatencyP99", "PortalHeartbeatWriterLag", "PortalDatabaseDown",
            "PortalDiskFilling"} <= set(alerts)
    dashboard = json.loads((DEPLOY / "grafana" / "portal-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = _portal_metrics(" ".join(alerts.values())) | _portal_metrics(" ".join(exprs))
    assert used - exported == set()
    assert exported - _portal_metrics(" ".join(exprs)) == set(), "every metric has a panel"

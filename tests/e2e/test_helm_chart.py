"""
charts/scim-gateway rendered as `helm template` renders it (Helm's Go SDK, through the PyPI wheel
helm-python-sdk) with its default values, with examples/brig-postgres.yaml, and with every optional
part switched on; every manifest validated against the Kubernetes JSON schemas (kubernetes-validate,
strict: an unknown field is an error) of the oldest and newest Kubernetes the chart is checked
for, the ServiceMonitor (a CRD, in no Kubernetes schema) against the fields the chart writes. Then
what the chart promises: no unavailable replica in a rolling update, a non-root read-only
container with a volume under every path the gateway writes, the probes of the internal listener,
a config checksum that follows the config, and a config.yaml the gateway itself accepts.

The tools come from `.ci/helm-tools`; without them every test here skips, saying which is missing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.conftest import REPO_ROOT

CHART = REPO_ROOT / "charts" / "scim-gateway"
EXAMPLE = CHART / "examples" / "brig-postgres.yaml"
RELEASE, NAMESPACE = "scim-gateway", "wire"
# The chart's Chart.yaml kubeVersion floor, and the newest schemas kubernetes-validate ships.
KUBE_VERSIONS = ("1.25", "latest")
CONTRACT = {"liveness": "/i/live", "readiness": "/i/ready", "metrics": "/i/metrics"}
# What a secretKeyRef would bring, for loading the rendered config as the pod would.
SECRET_STAND_INS = {"SCIM_GATEWAY__STORE__DSN": "postgresql://scim:secret@postgres:5432/scim"}

_MISSING = [m for m in ("helm_python", "kubernetes_validate") if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(_MISSING),
        reason=f"{', '.join(_MISSING)} not installed: `bash .ci/helm-tools` installs helm-python-sdk and "
        "kubernetes-validate from PyPI",
    ),
]

# The ServiceMonitor fields the chart writes, as the Prometheus operator's CRD types them
# (monitoring.coreos.com/v1); anything else is an error here, as a typo would be.
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["endpoints", "selector"],
            "additionalProperties": False,
            "properties": {
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["port", "path"],
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string"},
                            "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                        },
                    },
                },
                "selector": {
                    "type": "object",
                    "required": ["matchLabels"],
                    "additionalProperties": False,
                    "properties": {"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}},
                },
            },
        },
    },
}


def example_values() -> dict[str, Any]:
    values = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(values, dict)
    return values


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, mappings merged key by key (as `helm -f a -f b`)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


# Every optional part on, so that every template is rendered and validated at least once.
EVERYTHING_SQLITE = {
    "persistence": {"enabled": True, "storageClass": "fast"},
    "metrics": {"serviceMonitor": {"enabled": True, "interval": "30s", "labels": {"release": "prometheus"}}},
    "imagePullSecrets": [{"name": "registry"}],
    "podAnnotations": {"example.com/team": "identity"},
    "nodeSelector": {"kubernetes.io/os": "linux"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "wire", "effect": "NoSchedule"}],
    "extraEnv": [{"name": "SCIM_GATEWAY__LOG__LEVEL", "value": "debug"}],
}
EVERYTHING_POSTGRES = {
    "migrations": {"job": {"enabled": True}},
    "config": {"store": {"dsn": "postgresql://scim@postgres:5432/scim"}},
    "secrets": {
        "postgres": {"existingSecret": "scim-gateway-postgres", "dsnKey": "", "passwordKey": "password"},
        "cassandra": {"existingSecret": "brig-cassandra"},
    },
    "imagePullSecrets": [{"name": "registry"}],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": "wire", "operator": "Exists"}]}]
            }
        }
    },
}
CASES: dict[str, Any] = {
    "default": lambda: {},
    "brig-postgres": example_values,
    "everything-sqlite": lambda: EVERYTHING_SQLITE,
    "everything-postgres": lambda: merged(example_values(), EVERYTHING_POSTGRES),
}


class Rendered:
    """The chart's output for one set of values: each template's text, and its manifests."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        import helm_python

        with helm_python.Chart.load(str(CHART)) as chart:
            self.files: dict[str, str] = chart.render(dict(values), name=RELEASE, namespace=NAMESPACE)
        self.manifests: list[dict[str, Any]] = [
            doc
            for path, text in sorted(self.files.items())
            if path.endswith(".yaml")
            for doc in yaml.safe_load_all(text)
            if doc is not None
        ]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, name: str = RELEASE) -> dict[str, Any]:
        (found,) = [m for m in self.of_kind(kind) if m["metadata"]["name"] == name]
        return found

    def config(self, name: str = RELEASE) -> dict[str, Any]:
        config = yaml.safe_load(self.one("ConfigMap", name)["data"]["config.yaml"])
        assert isinstance(config, dict)
        return config

    def container(self) -> dict[str, Any]:
        (container,) = self.one("Deployment")["spec"]["template"]["spec"]["containers"]
        assert isinstance(container, dict)
        return container


def render(values: Mapping[str, Any]) -> Rendered:
    return Rendered(values)


@pytest.fixture(name="rendered", params=sorted(CASES), scope="module")
def _rendered(request: pytest.FixtureRequest) -> Rendered:
    return render(CASES[request.param]())


def test_every_manifest_is_valid_against_the_kubernetes_schemas(rendered: Rendered) -> None:
    """Each object (ServiceMonitor aside) passes its kind's strict schema on the oldest and newest Kubernetes."""
    import jsonschema
    import kubernetes_validate

    assert rendered.manifests
    for manifest in rendered.manifests:
        if manifest["kind"] == "ServiceMonitor":
            jsonschema.validate(manifest, SERVICE_MONITOR_SCHEMA)
            continue
        for version in KUBE_VERSIONS:
            wanted = kubernetes_validate.latest_version() if version == "latest" else version
            try:
                kubernetes_validate.validate(manifest, wanted, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = "/".join(str(p) for p in exc.path)
                pytest.fail(f"{manifest['kind']} {manifest['metadata']['name']} on {wanted}: {where}: {exc.message}")


def test_every_template_renders_in_some_case() -> None:
    """The cases between them produce an object from every template (none left unvalidated)."""
    produced: set[str] = set()
    for case in CASES.values():
        rendered = render(case())
        produced |= {p for p, text in rendered.files.items() if p.endswith(".yaml") and any(yaml.safe_load_all(text))}
    templates = {f"scim-gateway/templates/{p.name}" for p in (CHART / "templates").glob("*.yaml")}

    assert set() == templates - produced


def test_rolling_updates_keep_every_replica_serving(rendered: Rendered) -> None:
    """Without a ReadWriteOnce volume, updates roll with maxUnavailable 0 and at least one pod surging."""
    deployment = rendered.one("Deployment")
    strategy = deployment["spec"]["strategy"]
    (state,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "state"]
    if "persistentVolumeClaim" in state:
        assert {"type": "Recreate"} == strategy
        return

    assert "RollingUpdate" == strategy["type"]
    assert 0 == strategy["rollingUpdate"]["maxUnavailable"]
    assert strategy["rollingUpdate"]["maxSurge"] >= 1


def test_the_container_runs_as_a_non_root_user_on_a_read_only_root(rendered: Rendered) -> None:
    """runAsNonRoot with a numeric non-zero user (the image's USER is a name), no privilege, no capabilities."""
    context = rendered.container()["securityContext"]

    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] > 0
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert ["ALL"] == context["capabilities"]["drop"]


def test_every_path_the_gateway_writes_is_a_writable_volume(rendered: Rendered) -> None:
    """With a read-only root, /tmp and the SQLite file's folder are mounted volumes, not read-only."""
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    container = rendered.container()
    volumes = {v["name"] for v in pod["volumes"]}
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    store = rendered.config().get("store", {})
    needed = {"/tmp"} | ({posixpath.dirname(store["path"])} if store.get("kind", "sqlite") == "sqlite" else set())

    assert {m["name"] for m in container["volumeMounts"]} <= volumes
    assert set() == needed - writable


def test_probes_ask_the_internal_listener_for_liveness_and_readiness(rendered: Rendered) -> None:
    """Liveness on /i/live and readiness on /i/ready, on the container port serving config.listen.internal_port."""
    container = rendered.container()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    listen = rendered.config()["listen"]

    assert CONTRACT["liveness"] == container["livenessProbe"]["httpGet"]["path"]
    assert CONTRACT["liveness"] == container["startupProbe"]["httpGet"]["path"]
    assert CONTRACT["readiness"] == container["readinessProbe"]["httpGet"]["path"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert "internal" == container[probe]["httpGet"]["port"]
    assert listen["internal_port"] == ports["internal"]
    assert listen["port"] == ports["http"]


def test_the_service_exposes_the_public_and_the_internal_port_to_the_pods(rendered: Rendered) -> None:
    """Service scim-gateway: http on 8080 (nginz's upstream port) and internal, selecting the pod's labels."""
    service = rendered.one("Service")
    pod_labels = rendered.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"]: p for p in service["spec"]["ports"]}

    assert {"http", "internal"} == set(ports)
    assert 8080 == ports["http"]["port"]
    assert "internal" == ports["internal"]["targetPort"]
    assert service["spec"]["selector"].items() <= pod_labels.items()


def test_the_checksum_annotation_is_the_rendered_configmaps(rendered: Rendered) -> None:
    """checksum/configmap is the SHA-256 of configmap.yaml as rendered, so a config change rolls the pods."""
    annotations = rendered.one("Deployment")["spec"]["template"]["metadata"]["annotations"]
    configmap_text = rendered.files["scim-gateway/templates/configmap.yaml"]

    assert hashlib.sha256(configmap_text.encode()).hexdigest() == annotations["checksum/configmap"]


def test_a_config_change_changes_the_checksum() -> None:
    """Two renders differing in one config value carry different checksums; equal values, equal ones."""

    def checksum(level: str) -> str:
        deployment = render({"config": {"log": {"level": level}}}).one("Deployment")
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/configmap"])

    assert checksum("debug") != checksum("info")
    assert checksum("debug") == checksum("debug")


def test_the_rendered_config_is_one_the_gateway_accepts(rendered: Rendered, tmp_path: Path) -> None:
    """config.yaml with the container's environment loads through the gateway's own load_config."""
    from gateway.config import load_config

    env = container_env(rendered.container())
    path = tmp_path / "config.yaml"
    path.write_text(rendered.one("ConfigMap")["data"]["config.yaml"])  # the file the pod reads

    config = load_config(path, env)

    assert rendered.config()["listen"]["internal_port"] == config.listen.internal_port
    assert "0.0.0.0" == config.listen.host
    if config.store.kind == "sqlite":
        assert rendered.config()["store"]["path"] == config.store.path


def container_env(container: Mapping[str, Any]) -> dict[str, str]:
    """The container's environment as the pod gets it, secrets replaced by stand-ins."""
    env: dict[str, str] = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            env[item["name"]] = SECRET_STAND_INS.get(item["name"], "stand-in-secret")
    return env


def test_the_pod_disruption_budget_and_spread_select_the_gateways_pods() -> None:
    """With several replicas: a PodDisruptionBudget and a spread over nodes, both selecting the pods' labels."""
    rendered = render(example_values())
    pod_labels = rendered.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    budget = rendered.one("PodDisruptionBudget")
    (spread,) = rendered.one("Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]

    assert 1 == budget["spec"]["maxUnavailable"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert spread["labelSelector"]["matchLabels"].items() <= pod_labels.items()
    assert "kubernetes.io/hostname" == spread["topologyKey"]
    assert [] == render({}).of_kind("PodDisruptionBudget")  # one replica: a budget would block drains


def test_the_service_monitor_scrapes_metrics_on_the_internal_port_when_enabled() -> None:
    """metrics.serviceMonitor.enabled renders a ServiceMonitor for /i/metrics on `internal`; off by default."""
    rendered = render({"metrics": {"serviceMonitor": {"enabled": True}}})
    (monitor,) = rendered.of_kind("ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    service = rendered.one("Service")

    assert CONTRACT["metrics"] == endpoint["path"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert "internal" == endpoint["port"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert [] == render({}).of_kind("ServiceMonitor")


def test_without_an_internal_port_probes_and_metrics_use_the_public_one() -> None:
    """config.listen.internal_port null: no `internal` port anywhere, probes and the ServiceMonitor on `http`."""
    rendered = render({"config": {"listen": {"internal_port": None}}, "metrics": {"serviceMonitor": {"enabled": True}}})
    container = rendered.container()

    assert ["http"] == [p["name"] for p in container["ports"]]
    assert ["http"] == [p["name"] for p in rendered.one("Service")["spec"]["ports"]]
    assert "http" == container["livenessProbe"]["httpGet"]["port"]
    assert "http" == rendered.one("ServiceMonitor")["spec"]["endpoints"][0]["port"]


def test_secrets_are_referenced_never_rendered() -> None:
    """The DSN and the Cassandra credentials come from the named Secrets' keys; the chart makes no Secret."""
    both_keys = {"secrets": {"postgres": {"dsnKey": "dsn"}}}
    rendered = render(merged(merged(example_values(), EVERYTHING_POSTGRES), both_keys))
    refs = {
        item["name"]: item["valueFrom"]["secretKeyRef"] for item in rendered.container()["env"] if "valueFrom" in item
    }

    assert [] == rendered.of_kind("Secret")
    assert {"name": "scim-gateway-postgres", "key": "dsn"} == refs["SCIM_GATEWAY__STORE__DSN"]
    assert {"name": "scim-gateway-postgres", "key": "password"} == refs["PGPASSWORD"]
    assert {"name": "brig-cassandra", "key": "username"} == refs["SCIM_GATEWAY__SPAR_STATE__USERNAME"]
    assert {"name": "brig-cassandra", "key": "password"} == refs["SCIM_GATEWAY__SPAR_STATE__PASSWORD"]
    assert not any(n.startswith("SCIM_GATEWAY__SPAR_STATE__") for n in container_env(render({}).container()))


def test_the_migrations_job_runs_migrate_before_the_pods_which_then_do_not() -> None:
    """migrations.job.enabled: a hook Job runs `migrate` from a hook ConfigMap; pods get migrate_at_start false."""
    rendered = render(merged(example_values(), {"migrations": {"job": {"enabled": True}}}))
    job = rendered.one("Job", f"{RELEASE}-migrate")
    hook_config = rendered.one("ConfigMap", f"{RELEASE}-migrate")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    (config_volume,) = [v for v in job["spec"]["template"]["spec"]["volumes"] if "configMap" in v]

    assert "pre-install,pre-upgrade" == job["metadata"]["annotations"]["helm.sh/hook"]
    assert int(hook_config["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert "migrate" == container["command"][1]
    assert f"{RELEASE}-migrate" == config_volume["configMap"]["name"]
    assert rendered.config() == rendered.config(f"{RELEASE}-migrate")
    assert rendered.config()["store"]["migrate_at_start"] is False
    assert "migrate_at_start" not in render(example_values()).config()["store"]  # the lock's way: the default


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicaCount": 2}, "replicaCount > 1 needs config.store.kind: postgres"),
        ({"migrations": {"job": {"enabled": True}}}, "migrations.job.enabled needs config.store.kind: postgres"),
        ({"config": {"store": {"kind": "postgres"}}}, "needs config.store.dsn or secrets.postgres"),
        ({"secrets": {"postgres": {"dsnKey": "dsn"}}}, "needs secrets.postgres.existingSecret"),
    ],
)
def test_values_that_could_only_fail_later_are_refused_at_render(values: dict[str, Any], message: str) -> None:
    """Several SQLite pods, a Job on SQLite, PostgreSQL without a DSN, a key without its Secret: refused by name."""
    import helm_python

    with pytest.raises(helm_python.HelmRenderError) as failure:
        render(values)

    assert message in str(failure.value)


def test_persistence_keeps_the_sqlite_file_on_a_claim_that_outlives_the_release() -> None:
    """persistence.enabled: a PVC (kept on uninstall) mounted as the state volume, fsGroup making it writable."""
    rendered = render({"persistence": {"enabled": True, "size": "2Gi"}})
    claim = rendered.one("PersistentVolumeClaim")
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    (state,) = [v for v in pod["volumes"] if v["name"] == "state"]

    assert "keep" == claim["metadata"]["annotations"]["helm.sh/resource-policy"]
    assert "2Gi" == claim["spec"]["resources"]["requests"]["storage"]
    assert {"claimName": RELEASE} == state["persistentVolumeClaim"]
    assert pod["securityContext"]["fsGroup"] == rendered.container()["securityContext"]["runAsUser"]
    existing = render({"persistence": {"enabled": True, "existingClaim": "old-claim"}})
    assert [] == existing.of_kind("PersistentVolumeClaim")

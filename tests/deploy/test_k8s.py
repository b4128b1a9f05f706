"""deploy/k8s against Kubernetes' rules and the product: every file parses and is part of
the kustomization; every container has resources, probes on ports it declares and a
locked-down security context; the variables it gets are settings of the product; the
Services, budgets and the autoscaler find the pods they are meant for; and, with
kubectl at hand, the kustomization builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from soar.api.health import router as health_router
from soar.runtime.metrics import METRICS_ADDRESS_VARIABLE
from soar.settings import Settings, TemporalSettings, load_settings
from tests.deploy.manifests import (
    K8S,
    PRODUCT_IMAGE,
    check_command,
    k8s_documents,
    k8s_objects,
    kustomization,
    pod_spec,
    read_env_file,
    render_kustomization,
    setting_holds,
    setting_path,
    workloads,
)

OBJECTS = k8s_objects()
WORKLOADS = workloads(OBJECTS)
CONTAINERS = [
    (workload["metadata"]["name"], container)
    for workload in WORKLOADS
    for container in pod_spec(workload)["containers"]
]
SETTINGS_ENV = read_env_file(K8S / "settings.env")


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [item for item in OBJECTS if item["kind"] == kind]


def named(kind: str, name: str) -> dict[str, Any]:
    (found,) = [item for item in by_kind(kind) if item["metadata"]["name"] == name]
    return found


def selects(selector: dict[str, str], workload: dict[str, Any]) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return all(labels.get(key) == value for key, value in selector.items())


def container_ids() -> list[str]:
    return [f"{workload}/{container['name']}" for workload, container in CONTAINERS]


def test_every_file_parses_into_named_objects() -> None:
    files = {path.name for path, _ in k8s_documents()}
    assert files == {path.name for path in K8S.glob("*.yaml")}
    for path, document in k8s_documents():
        assert {"apiVersion", "kind"} <= set(document), path.name
        if document["kind"] != "Kustomization":
            assert document["metadata"]["name"], path.name


def test_the_kustomization_takes_every_manifest_and_its_generated_files() -> None:
    spec = kustomization()
    manifests = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(spec["resources"]) == manifests
    assert spec["namespace"] == named("Namespace", "soar")["metadata"]["name"]
    for generator in spec["configMapGenerator"]:
        for source in [*generator.get("envs", []), *generator.get("files", [])]:
            assert (K8S / source.split("=")[-1]).is_file(), source
    (secret,) = spec["secretGenerator"]
    assert secret["envs"] == ["secrets.env"], "written by make-secrets.sh, never committed"
    assert [image["name"] for image in spec["images"]] == [PRODUCT_IMAGE]


def test_the_product_runs_as_an_api_statefulset_and_a_worker_deployment() -> None:
    assert {(item["kind"], item["metadata"]["name"]) for item in WORKLOADS} == {
        ("StatefulSet", "soar-api"),
        ("Deployment", "soar-worker"),
    }
    assert "replicas" not in named("Deployment", "soar-worker")["spec"], "the autoscaler's"
    api = named("StatefulSet", "soar-api")
    assert api["spec"]["replicas"] >= 2
    (claim,) = api["spec"]["volumeClaimTemplates"]
    mounts = {
        mount["name"]: mount["mountPath"]
        for mount in pod_spec(api)["containers"][0]["volumeMounts"]
    }
    assert mounts[claim["metadata"]["name"]] == "/var/lib/soar", (
        "each API's spool on its own volume"
    )


@pytest.mark.parametrize(("workload", "container"), CONTAINERS, ids=container_ids())
def test_every_container_has_resources_probes_and_a_locked_down_context(
    workload: str, container: dict[str, Any]
) -> None:
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]), workload
    assert "memory" in resources["limits"], workload
    ports = {port["name"] for port in container.get("ports", [])}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        check = container[probe]["httpGet"]
        assert check["port"] in ports, f"{workload} {probe}: port {check['port']}"
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"]["drop"] == ["ALL"]


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda item: item["metadata"]["name"])
def test_every_pod_runs_as_a_non_root_user_without_a_service_account_token(
    workload: dict[str, Any],
) -> None:
    spec = pod_spec(workload)
    context = spec["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] != 0 and context["runAsGroup"] != 0
    assert context["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    volumes = {volume["name"] for volume in spec.get("volumes", [])}
    volumes |= {
        claim["metadata"]["name"] for claim in workload["spec"].get("volumeClaimTemplates", [])
    }
    for container in spec["containers"]:
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        assert set(mounts) <= volumes
        assert "/tmp" in mounts.values(), "a writable /tmp beside the read-only root"


def test_the_api_probes_ask_routes_the_api_serves() -> None:
    (api,) = [container for name, container in CONTAINERS if name == "soar-api"]
    paths = {route.path for route in health_router.routes}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert api[probe]["httpGet"]["path"] in paths
    # Not /readyz: that is 503 while Temporal is down, when the API must keep spooling.
    assert api["readinessProbe"]["httpGet"]["path"] == "/healthz"


def test_the_worker_probes_ask_its_metrics_endpoint() -> None:
    (worker,) = [container for name, container in CONTAINERS if name == "soar-worker"]
    env = {item["name"]: item["value"] for item in worker["env"]}
    port = int(env[METRICS_ADDRESS_VARIABLE].rsplit(":", 1)[1])
    assert {item["containerPort"] for item in worker["ports"]} == {port}
    assert worker["livenessProbe"]["httpGet"]["path"] == "/metrics"


@pytest.mark.parametrize(("workload", "container"), CONTAINERS, ids=container_ids())
def test_every_container_runs_a_command_of_the_soar_cli(
    workload: str, container: dict[str, Any]
) -> None:
    assert container["image"] == PRODUCT_IMAGE
    assert "command" not in container, "the image's entrypoint is `soar`"
    check_command(container["args"])


def env_sources(container: dict[str, Any]) -> set[str]:
    return {
        source[kind]["name"]
        for source in container.get("envFrom", [])
        for kind in ("configMapRef", "secretRef")
        if kind in source
    }


@pytest.mark.parametrize(("workload", "container"), CONTAINERS, ids=container_ids())
def test_every_variable_a_container_gets_is_a_setting_of_the_product(
    workload: str,
    container: dict[str, Any],
    deploy_dir: Path,
    clean_env: pytest.MonkeyPatch,
) -> None:
    spec = kustomization()
    generated = {
        generator["name"]: generator
        for generator in [*spec["configMapGenerator"], *spec["secretGenerator"]]
    }
    assert env_sources(container) <= set(generated)
    env: dict[str, str] = {}
    for name in sorted(env_sources(container)):
        for source in generated[name].get("envs", []):
            env |= read_env_file(deploy_dir / "k8s" / source)
    explicit = {item["name"]: item["value"] for item in container.get("env", [])}
    env |= explicit
    config = Path(env["SOAR_CONFIG"])
    mounted = mounted_config(workload, config)
    env["SOAR_CONFIG"] = str(mounted)
    for name, value in env.items():
        clean_env.setenv(name, value)
    settings = load_settings()
    for name, value in env.items():
        if name in ("SOAR_CONFIG", METRICS_ADDRESS_VARIABLE):
            continue
        path = setting_path(name)
        assert path is not None, f"{workload}: {name} is not a setting of the product"
        assert setting_holds(settings, path, value), f"{workload}: {name} did not set {path}"
    assert {"SOAR_API_TOKEN", "SOAR_WEBHOOK_TOKEN", "SOAR_DATABASE_URL"} <= set(env)
    assert set(SETTINGS_ENV).isdisjoint(
        {"SOAR_API_TOKEN", "SOAR_WEBHOOK_TOKEN", "SOAR_DATABASE_URL"}
    )


def mounted_config(workload: str, config: Path) -> Path:
    """The repository file a workload's SOAR_CONFIG reads, through its configMap mount
    and the generator's `key=file`."""
    (item,) = [entry for entry in WORKLOADS if entry["metadata"]["name"] == workload]
    spec = pod_spec(item)
    (container,) = spec["containers"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    for mount in container["volumeMounts"]:
        if config.parent == Path(mount["mountPath"]) and "configMap" in volumes[mount["name"]]:
            config_map = volumes[mount["name"]]["configMap"]["name"]
            (generator,) = [
                entry
                for entry in kustomization()["configMapGenerator"]
                if entry["name"] == config_map
            ]
            files = dict(entry.split("=") for entry in generator["files"])
            assert mount.get("readOnly") is True
            return K8S / files[config.name]
    raise AssertionError(f"{workload}: {config} is not on a configMap mount")


def test_the_settings_file_of_the_cluster_is_valid(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SOAR_CONFIG", str(K8S / "soar-config.toml"))
    assert isinstance(load_settings(), Settings)


def test_services_and_budgets_select_pods_that_exist() -> None:
    for service in by_kind("Service"):
        selector = service["spec"]["selector"]
        (target,) = [workload for workload in WORKLOADS if selects(selector, workload)]
        ports = {port["name"] for port in pod_spec(target)["containers"][0]["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, service["metadata"]["name"]
    api = named("StatefulSet", "soar-api")
    assert named("Service", api["spec"]["serviceName"])["spec"]["clusterIP"] == "None"
    budgets = by_kind("PodDisruptionBudget")
    covered = set()
    for budget in budgets:
        (target,) = [
            workload
            for workload in WORKLOADS
            if selects(budget["spec"]["selector"]["matchLabels"], workload)
        ]
        covered.add(target["metadata"]["name"])
    assert covered == {workload["metadata"]["name"] for workload in WORKLOADS}


def test_the_workers_scale_on_the_backlog_of_the_task_queue_they_poll() -> None:
    (scaled,) = by_kind("ScaledObject")
    target = scaled["spec"]["scaleTargetRef"]
    worker = named(target.get("kind", "Deployment"), target["name"])
    assert worker["metadata"]["name"] == "soar-worker"
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "temporal"
    metadata = trigger["metadata"]
    defaults = TemporalSettings()
    assert metadata["namespace"] == SETTINGS_ENV.get("SOAR_TEMPORAL__NAMESPACE", defaults.namespace)
    assert metadata["taskQueue"] == SETTINGS_ENV.get(
        "SOAR_TEMPORAL__TASK_QUEUE", defaults.task_queue
    )
    assert set(metadata["queueTypes"].split(",")) == {"workflow", "activity"}
    assert metadata["endpointFromEnv"] in SETTINGS_ENV
    (container,) = pod_spec(worker)["containers"]
    assert "soar-settings" in env_sources(container)
    assert int(metadata["targetQueueSize"]) > 0
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    assert scaled["spec"]["fallback"]["replicas"] >= scaled["spec"]["minReplicaCount"]


def test_the_kustomization_builds(deploy_dir: Path, tmp_path: Path) -> None:
    rendered = render_kustomization(deploy_dir / "k8s", tmp_path / "rendered.yaml")
    if rendered is None:
        pytest.skip("kubectl is not installed: the kustomization was not built")
    kinds = sorted(item["kind"] for item in rendered)
    assert kinds == sorted(
        [item["kind"] for item in OBJECTS] + ["ConfigMap", "ConfigMap", "Secret"]
    )
    generated = {
        item["metadata"]["name"] for item in rendered if item["kind"] in ("ConfigMap", "Secret")
    }
    for item in rendered:
        if item["kind"] != "Namespace":
            assert item["metadata"]["namespace"] == "soar", item["metadata"]["name"]
        if item["kind"] in ("Deployment", "StatefulSet"):
            (container,) = pod_spec(item)["containers"]
            assert container["image"] == "registry.example.com/soar:0.1.0"
            assert env_sources(container) <= generated
            config_maps = {
                volume["configMap"]["name"]
                for volume in pod_spec(item)["volumes"]
                if "configMap" in volume
            }
            assert config_maps <= generated

#!/usr/bin/env python3
"""Tests of the Helm chart, with Helm's own Go library (helm-python-sdk bundles libhelm_c.so,
Helm v4): `helm lint --strict` and `helm template` with each value set in values/, then checks
on what they render — objects parse, the CRDs and RBAC lists are the project's, the pods pass
PodSecurity `restricted`, bad values are refused, and the roles get the conventions' settings.

Run: python charts/tests/render.py  (prints one line per test and `chart: N passed, N failed`).
"""

from __future__ import annotations

import re
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import helm_python as helm
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "testmesh"
VALUES = Path(__file__).resolve().parent / "values"
RELEASE = "tm"
NAMESPACE = "testmesh"
ROLES = ("operator", "executor", "api")
POD_KINDS = {"Deployment", "StatefulSet", "Job", "DaemonSet"}
# The Kubernetes version whose OpenAPI schemas the rendered objects must satisfy.
KUBERNETES_VERSION = "1.33"
# Kinds of add-ons (Prometheus Operator, KEDA) whose schemas kubernetes-validate does not ship.
ADDON_KINDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject", "TriggerAuthentication"}

TESTS: list[Callable[[], None]] = []


class Skip(Exception):
    """A test that cannot run on this branch, with the reason."""


def test(function: Callable[[], None]) -> Callable[[], None]:
    TESTS.append(function)
    return function


def value_set(name: str) -> dict[str, Any]:
    return yaml.safe_load((VALUES / f"{name}.yaml").read_text()) or {}


def value_set_file(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


def value_sets() -> list[str]:
    return sorted(path.stem for path in VALUES.glob("*.yaml"))


_RENDERED: dict[str, list[dict[str, Any]]] = {}


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    """`helm template`: every object of every rendered template, NOTES.txt left out."""
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects = []
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            continue
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as err:
            raise AssertionError(f"{template} does not parse as YAML: {err}\n{text}") from err
        for document in documents:
            if document is None:
                continue
            assert isinstance(document, dict), f"{template}: a document is not an object"
            document["__template"] = template
            objects.append(document)
    return objects


def rendered(name: str) -> list[dict[str, Any]]:
    if name not in _RENDERED:
        _RENDERED[name] = render(value_set(name))
    return _RENDERED[name]


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def rbac_list(role: str, folder: Path = ROOT / "rbac") -> list[dict[str, Any]]:
    return yaml.safe_load((folder / f"{role}.yaml").read_text())["rules"]


def rules_without_scope(rules: list[dict[str, Any]], scope: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "scope"} for r in rules if r["scope"] == scope]


# --- lint and render ---------------------------------------------------------------------------


@test
def lint_strict_passes_with_every_value_set() -> None:
    for name in value_sets():
        report = helm.lint(CHART, value_set(name), strict=True, namespace=NAMESPACE)
        problems = [m for m in report["messages"] if m["severity"] >= 2]
        assert not problems and not report["errors"], f"values/{name}.yaml: {problems or report['errors']}"


@test
def every_rendered_object_parses_and_is_unique() -> None:
    for name in value_sets():
        objects = rendered(name)
        assert objects, f"values/{name}.yaml rendered nothing"
        keys = []
        for o in objects:
            for field in ("apiVersion", "kind", "metadata"):
                assert field in o, f"{o['__template']}: an object without {field}"
            assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", o["metadata"]["name"]), o["metadata"]["name"]
            keys.append((o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]))
        duplicates = [k for k, n in Counter(keys).items() if n > 1]
        assert not duplicates, f"values/{name}.yaml: rendered twice: {duplicates}"


def schema_violations(objects: list[dict[str, Any]], addon_kinds: set[str]) -> list[str]:
    """Objects that the Kubernetes API's own schemas refuse (strict: no unknown fields)."""
    problems = []
    for o in objects:
        document = {k: v for k, v in o.items() if k != "__template"}
        where = f"{o['kind']} {o['metadata'].get('name')}"
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            if o["kind"] not in addon_kinds:
                problems.append(f"{where}: no Kubernetes {KUBERNETES_VERSION} schema for {o['apiVersion']}")
        except kubernetes_validate.ValidationError as err:
            path = ".".join(str(p) for p in err.path)
            problems.append(f"{where}: {path}: {err.message}")
    return problems


@test
def every_rendered_object_is_valid_for_the_kubernetes_api() -> None:
    for name in value_sets():
        problems = schema_violations(rendered(name), ADDON_KINDS)
        assert not problems, f"values/{name}.yaml:\n  " + "\n  ".join(problems)


@test
def bad_values_are_refused_by_the_schema() -> None:
    bad = {
        "a misspelled key": {"operator": {"replica": 3}},
        "a string for a number": {"executor": {"concurrency": "eight"}},
        "a queue timeout that is not a duration": {"operator": {"queueTimeout": "ten minutes"}},
        "an unknown log format": {"logFormat": "xml"},
        "no store at all": {"postgresql": {"enabled": False}},
        "a privileged container": {"securityContext": {"allowPrivilegeEscalation": True, "capabilities": {"drop": ["ALL"]}}},
        "an unknown pull policy": {"image": {"repository": "x", "tag": "1", "pullPolicy": "Sometimes"}},
        "a bad namespace name": {"watchNamespaces": ["Team_A"]},
        "a password that breaks the URL": {"postgresql": {"enabled": True, "auth": {"password": "a@b/c"}}},
        "an ingress path without a slash": {"api": {"ingress": {"enabled": True, "hosts": [{"host": "x", "paths": [{"path": "x", "pathType": "Prefix"}]}]}}},
    }
    with helm.Chart.load(CHART) as chart:
        for reason, values in bad.items():
            try:
                chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
            except helm.HelmValuesError:
                continue
            raise AssertionError(f"the chart accepted {reason}: {values}")


# --- CRDs and RBAC -----------------------------------------------------------------------------


@test
def chart_crds_are_the_top_level_crds() -> None:
    top, chart = ROOT / "crds", CHART / "crds"
    if not top.is_dir() and not chart.is_dir():
        raise Skip("neither crds/ nor charts/testmesh/crds/ exists on this branch yet (the operator generates them)")
    top_files = {p.name: p.read_bytes() for p in top.glob("*.yaml")} if top.is_dir() else {}
    chart_files = {p.name: p.read_bytes() for p in chart.glob("*.yaml")} if chart.is_dir() else {}
    assert top_files.keys() == chart_files.keys(), (
        f"crds/ has {sorted(top_files)}, the chart has {sorted(chart_files)}: run scripts/sync-chart.sh"
    )
    differing = [n for n in top_files if top_files[n] != chart_files[n]]
    assert not differing, f"these CRDs differ from crds/: {differing}: run scripts/sync-chart.sh"
    with helm.Chart.load(CHART) as loaded:
        installed = sorted(Path(crd["filename"]).name for crd in loaded.crds)
    assert installed == sorted(chart_files), f"Helm installs {installed} from the chart's crds/"


@test
def chart_rbac_lists_are_the_top_level_lists() -> None:
    for role in ROLES:
        top = (ROOT / "rbac" / f"{role}.yaml").read_bytes()
        chart = (CHART / "rbac" / f"{role}.yaml").read_bytes()
        assert top == chart, f"charts/testmesh/rbac/{role}.yaml differs from rbac/{role}.yaml: run scripts/sync-chart.sh"


def check_rbac(objects: list[dict[str, Any]], watch_namespaces: list[str]) -> None:
    prefix = f"{RELEASE}-testmesh"
    roles = of_kind(objects, "Role")
    cluster_roles = of_kind(objects, "ClusterRole")
    bindings = of_kind(objects, "RoleBinding") + of_kind(objects, "ClusterRoleBinding")
    expected_names = set()
    for role in ROLES:
        rules = rbac_list(role)
        watched = rules_without_scope(rules, "watched")
        release = rules_without_scope(rules, "release")
        cluster = rules_without_scope(rules, "cluster")
        name = f"{prefix}-{role}"
        if watched and watch_namespaces:
            for namespace in watch_namespaces:
                found = [r for r in roles if r["metadata"]["name"] == name and r["metadata"]["namespace"] == namespace]
                assert len(found) == 1 and found[0]["rules"] == watched, f"Role {namespace}/{name}: {found}"
                expected_names.add(("Role", namespace, name))
        elif watched:
            assert named(cluster_roles, "ClusterRole", name)["rules"] == watched, f"ClusterRole {name}"
            expected_names.add(("ClusterRole", None, name))
        if release:
            found = named(roles, "Role", f"{name}-release")
            assert found["metadata"]["namespace"] == NAMESPACE and found["rules"] == release
            expected_names.add(("Role", NAMESPACE, f"{name}-release"))
        if cluster:
            assert named(cluster_roles, "ClusterRole", f"{name}-cluster")["rules"] == cluster, f"ClusterRole {name}-cluster"
            expected_names.add(("ClusterRole", None, f"{name}-cluster"))
    actual = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in roles + cluster_roles}
    assert actual == expected_names, f"RBAC beyond the lists: {sorted(map(str, actual - expected_names))}"
    for binding in bindings:
        role = binding["roleRef"]["name"]
        component = role.removeprefix(f"{prefix}-").removesuffix("-release").removesuffix("-cluster")
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "name": f"{prefix}-{component}", "namespace": NAMESPACE}
        ], f"{binding['kind']} {binding['metadata']['name']} binds {binding['subjects']}"
    assert len(bindings) == len(expected_names), "one binding per Role/ClusterRole"


@test
def rbac_is_exactly_the_lists_cluster_wide() -> None:
    check_rbac(rendered("default"), [])


@test
def rbac_is_exactly_the_lists_in_each_watched_namespace() -> None:
    namespaces = value_set("namespaced")["watchNamespaces"]
    check_rbac(rendered("namespaced"), namespaces)
    cluster_roles = [o["metadata"]["name"] for o in of_kind(rendered("namespaced"), "ClusterRole")]
    assert cluster_roles == [f"{RELEASE}-testmesh-api-cluster"], f"namespaced mode rendered {cluster_roles}"
    for deployment in of_kind(rendered("namespaced"), "Deployment"):
        env = env_of(pod_spec(deployment)["containers"][0])
        assert env["TESTMESH_WATCH_NAMESPACES"] == ",".join(namespaces)


@test
def the_api_may_only_ask_for_token_and_access_reviews_cluster_wide() -> None:
    cluster = rules_without_scope(rbac_list("api"), "cluster")
    assert cluster == [
        {"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]},
        {"apiGroups": ["authorization.k8s.io"], "resources": ["subjectaccessreviews"], "verbs": ["create"]},
    ], cluster


@test
def api_auth_defaults_to_kubernetes_and_each_mode_gets_its_settings() -> None:
    env = env_of(pod_spec(named(rendered("default"), "Deployment", f"{RELEASE}-testmesh-api"))["containers"][0])
    assert env["TESTMESH_API_AUTH"] == "kubernetes"
    assert env["TESTMESH_API_AUTH_CACHE_TTL"] == "30s"
    assert env["TESTMESH_API_AUTH_FAILURES_PER_MINUTE"] == "10"
    assert "TESTMESH_API_TOKEN" not in env and "TESTMESH_INSECURE_NO_AUTH" not in env
    token = render({"api": {"auth": {"mode": "token", "tokenSecret": {"name": "api-token", "key": "t"}}}})
    env = env_of(pod_spec(named(token, "Deployment", f"{RELEASE}-testmesh-api"))["containers"][0])
    assert env["TESTMESH_API_AUTH"] == "token"
    assert env["TESTMESH_API_TOKEN"] == {"secretKeyRef": {"name": "api-token", "key": "t"}}
    proxied = render(value_set_file(CHART / "examples" / "oauth2-proxy-values.yaml"))
    env = env_of(pod_spec(named(proxied, "Deployment", f"{RELEASE}-testmesh-api"))["containers"][0])
    assert env["TESTMESH_API_AUTH"] == "kubernetes"
    assert env["TESTMESH_API_AUTH_PROXY_HEADER"] == "X-Forwarded-Access-Token"
    opened = render({"api": {"auth": {"mode": "none", "insecureNoAuth": True}}})
    env = env_of(pod_spec(named(opened, "Deployment", f"{RELEASE}-testmesh-api"))["containers"][0])
    assert env["TESTMESH_INSECURE_NO_AUTH"] == "true"


@test
def draft_runs_are_off_unless_the_value_turns_them_on() -> None:
    env = env_of(pod_spec(named(rendered("default"), "Deployment", f"{RELEASE}-testmesh-api"))["containers"][0])
    assert "TESTMESH_ALLOW_DRAFT_RUNS" not in env
    assert "TESTMESH_REDIS_URL" in env, "draft runs go to the run queue"
    drafts = render({"api": {"draftRuns": {"enabled": True}}})
    env = env_of(pod_spec(named(drafts, "Deployment", f"{RELEASE}-testmesh-api"))["containers"][0])
    assert env["TESTMESH_ALLOW_DRAFT_RUNS"] == "true"


@test
def api_auth_values_that_cannot_work_are_refused() -> None:
    for values, expected in (
        ({"api": {"auth": {"mode": "none"}}}, "insecureNoAuth"),
        ({"api": {"auth": {"mode": "token"}}}, "tokenSecret"),
        ({"api": {"auth": {"mode": "oidc"}}}, "mode"),
    ):
        try:
            render(values)
        except Exception as err:  # helm reports schema and `fail` errors alike
            assert expected in str(err), f"{values}: {err}"
        else:
            raise AssertionError(f"{values} rendered")


@test
def each_role_has_its_own_service_account() -> None:
    for name in value_sets():
        objects = rendered(name)
        accounts = {o["metadata"]["name"] for o in of_kind(objects, "ServiceAccount")}
        for role in ROLES:
            deployment = named(objects, "Deployment", f"{RELEASE}-testmesh-{role}")
            assert pod_spec(deployment)["serviceAccountName"] == f"{RELEASE}-testmesh-{role}"
            assert f"{RELEASE}-testmesh-{role}" in accounts


# --- security ----------------------------------------------------------------------------------


def restricted_violations(workload: dict[str, Any]) -> list[str]:
    """What PodSecurity `restricted` (v1.27+) would reject in a workload's pod template."""
    spec = pod_spec(workload)
    where = f"{workload['kind']} {workload['metadata']['name']}"
    problems = []
    pod = spec.get("securityContext", {})
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            problems.append(f"{where}: {field}")
    for volume in spec.get("volumes", []):
        if "hostPath" in volume:
            problems.append(f"{where}: hostPath volume {volume['name']}")
    if pod.get("runAsUser") == 0:
        problems.append(f"{where}: pod runAsUser 0")
    for container in spec.get("initContainers", []) + spec["containers"]:
        ctx = container.get("securityContext", {})
        cwhere = f"{where} container {container['name']}"
        if ctx.get("privileged"):
            problems.append(f"{cwhere}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{cwhere}: allowPrivilegeEscalation is not false")
        if "ALL" not in ctx.get("capabilities", {}).get("drop", []):
            problems.append(f"{cwhere}: capabilities do not drop ALL")
        if set(ctx.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{cwhere}: adds capabilities")
        if not (ctx.get("runAsNonRoot") or pod.get("runAsNonRoot")):
            problems.append(f"{cwhere}: runAsNonRoot is not set")
        if ctx.get("runAsUser") == 0:
            problems.append(f"{cwhere}: runAsUser 0")
        seccomp = ctx.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{cwhere}: seccompProfile {seccomp}")
        for port in container.get("ports", []):
            if port.get("hostPort"):
                problems.append(f"{cwhere}: hostPort")
    return problems


@test
def every_pod_is_podsecurity_restricted() -> None:
    for name in value_sets():
        workloads = [o for o in rendered(name) if o["kind"] in POD_KINDS]
        assert workloads
        problems = [p for w in workloads for p in restricted_violations(w)]
        assert not problems, f"values/{name}.yaml:\n  " + "\n  ".join(problems)


@test
def the_restricted_check_catches_a_privileged_pod() -> None:
    workload = {
        "kind": "Deployment",
        "metadata": {"name": "bad"},
        "spec": {"template": {"spec": {"hostNetwork": True, "containers": [{"name": "c", "securityContext": {"privileged": True}}]}}},
    }
    problems = restricted_violations(workload)
    assert any("hostNetwork" in p for p in problems) and any("privileged" in p for p in problems), problems


# --- the roles, as the conventions name them ---------------------------------------------------


@test
def roles_get_the_conventions_arguments_env_and_ports() -> None:
    objects = rendered("default")
    expected = {
        "operator": ("metrics", 9090, {"TESTMESH_METRICS_ADDR": "0.0.0.0:9090", "TESTMESH_QUEUE_TIMEOUT": "10m",
                                       "TESTMESH_LOST_RUN_CHECK_INTERVAL": "30s", "TESTMESH_MAX_RUN_DURATION": "1h"}),
        "executor": ("metrics", 9090, {"TESTMESH_METRICS_ADDR": "0.0.0.0:9090", "TESTMESH_EXECUTOR_CONCURRENCY": "8"}),
        "api": ("http", 8080, {"TESTMESH_LISTEN": "0.0.0.0:8080", "TESTMESH_DASHBOARD_DIR": "/usr/share/testmesh/dashboard"}),
    }
    for role, (port_name, port, env_values) in expected.items():
        container = pod_spec(named(objects, "Deployment", f"{RELEASE}-testmesh-{role}"))["containers"][0]
        assert container["args"] == [role]
        env = env_of(container)
        for key, value in env_values.items():
            assert env.get(key) == value, f"{role}: {key}={env.get(key)!r}"
        for key in ("POD_NAME", "POD_NAMESPACE", "TESTMESH_DATABASE_URL", "TESTMESH_REDIS_URL", "TESTMESH_LOG_FORMAT"):
            assert key in env, f"{role}: no {key}"
        assert container["ports"] == [{"name": port_name, "containerPort": port}]
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            assert container[probe]["httpGet"] == {"path": path, "port": port_name}
    operator = named(objects, "Deployment", f"{RELEASE}-testmesh-operator")
    assert operator["spec"]["replicas"] == 2
    assert named(objects, "PodDisruptionBudget", f"{RELEASE}-testmesh-operator")["spec"]["minAvailable"] == 1
    job = named(objects, "Job", f"{RELEASE}-testmesh-migrations")
    assert pod_spec(job)["containers"][0]["args"] == ["migrate"]


@test
def bundled_stores_compose_urls_from_secrets() -> None:
    objects = rendered("default")
    env = env_of(pod_spec(named(objects, "Deployment", f"{RELEASE}-testmesh-api"))["containers"][0])
    assert env["TESTMESH_DATABASE_URL"] == f"postgres://testmesh:$(TESTMESH_POSTGRES_PASSWORD)@{RELEASE}-testmesh-postgresql:5432/testmesh"
    assert env["TESTMESH_REDIS_URL"] == f"redis://:$(TESTMESH_REDIS_PASSWORD)@{RELEASE}-testmesh-redis:6379/0"
    postgres = named(objects, "StatefulSet", f"{RELEASE}-testmesh-postgresql")
    assert pod_spec(postgres)["containers"][0]["image"].startswith("timescale/timescaledb:")
    assert postgres["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "8Gi"
    named(objects, "StatefulSet", f"{RELEASE}-testmesh-redis")
    secret = named(objects, "Secret", f"{RELEASE}-testmesh-datastores")
    assert set(secret["stringData"]) == {"postgres-password", "redis-password"}
    hook = named(objects, "Job", f"{RELEASE}-testmesh-migrations")["metadata"]["annotations"]["helm.sh/hook"]
    assert hook == "post-install,post-upgrade", "the bundled database exists only after install"


@test
def external_stores_run_no_statefulset_and_migrate_before_install() -> None:
    objects = rendered("external")
    assert not of_kind(objects, "StatefulSet")
    env = env_of(pod_spec(named(objects, "Deployment", f"{RELEASE}-testmesh-executor"))["containers"][0])
    assert env["TESTMESH_DATABASE_URL"] == {"secretKeyRef": {"name": f"{RELEASE}-testmesh-datastores", "key": "database-url"}}
    assert env["TESTMESH_REDIS_URL"] == {"secretKeyRef": {"name": "testmesh-redis", "key": "url"}}
    job = named(objects, "Job", f"{RELEASE}-testmesh-migrations")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    job_env = env_of(pod_spec(job)["containers"][0])
    assert job_env["TESTMESH_DATABASE_URL"] == {"secretKeyRef": {"name": f"{RELEASE}-testmesh-migrations", "key": "database-url"}}
    hook_secret = named(objects, "Secret", f"{RELEASE}-testmesh-migrations")
    assert hook_secret["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10"


@test
def executors_scale_on_cpu_or_on_stream_lag() -> None:
    hpa = named(rendered("default"), "HorizontalPodAutoscaler", f"{RELEASE}-testmesh-executor")
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert "replicas" not in named(rendered("default"), "Deployment", f"{RELEASE}-testmesh-executor")["spec"]
    full = rendered("full")
    assert not of_kind(full, "HorizontalPodAutoscaler"), "KEDA makes its own HPA"
    trigger = named(full, "ScaledObject", f"{RELEASE}-testmesh-executor")["spec"]["triggers"][0]
    assert trigger["type"] == "redis-streams"
    assert trigger["metadata"]["stream"] == "testmesh:runs" and trigger["metadata"]["consumerGroup"] == "executors"
    assert trigger["metadata"]["lagCount"] == "10"
    assert trigger["metadata"]["address"] == f"{RELEASE}-testmesh-redis.{NAMESPACE}.svc:6379"
    auth = named(full, "TriggerAuthentication", f"{RELEASE}-testmesh-executor-redis")
    assert auth["spec"]["secretTargetRef"][0]["name"] == f"{RELEASE}-testmesh-datastores"


@test
def optional_objects_follow_their_values() -> None:
    default, full = rendered("default"), rendered("full")
    for kind in ("Ingress", "NetworkPolicy", "ServiceMonitor", "PrometheusRule", "ScaledObject"):
        assert not of_kind(default, kind), f"{kind} rendered by default"
        assert of_kind(full, kind), f"{kind} not rendered when enabled"
    ingress = named(full, "Ingress", f"{RELEASE}-testmesh-api")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "testmesh-tls", "hosts": ["testmesh.example.com"]}]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    api = pod_spec(named(full, "Deployment", f"{RELEASE}-testmesh-api"))
    assert api["containers"][0]["image"] == "registry.example.com/testmesh:1.2.3"
    assert api["imagePullSecrets"] == [{"name": "regcred"}]
    env = env_of(api["containers"][0])
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318" and env["RUST_LOG"] == "info"
    assert env_of(pod_spec(named(full, "Job", f"{RELEASE}-testmesh-migrations"))["containers"][0])["RUST_LOG"] == "info"
    executor = pod_spec(named(full, "Deployment", f"{RELEASE}-testmesh-executor"))
    assert executor["tolerations"][0]["key"] == "dedicated"
    assert env_of(executor["containers"][0])["TESTMESH_EXECUTOR_CONCURRENCY"] == "16"
    stores = [p for p in of_kind(full, "NetworkPolicy") if p["metadata"]["name"].endswith(("-postgresql", "-redis"))]
    assert len(stores) == 2


@test
def alerts_cover_failing_flows_a_stalled_scheduler_growing_lag_and_sign_in_abuse() -> None:
    rule = of_kind(rendered("full"), "PrometheusRule")[0]
    alerts = {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}
    assert set(alerts) == {"TestMeshFlowFailing", "TestMeshSchedulerStalled", "TestMeshStreamLagGrowing",
                           "TestMeshApiSignInsThrottled"}
    assert 'reason="throttled"}[10m]' in alerts["TestMeshApiSignInsThrottled"]["expr"]
    assert ">= 5" in alerts["TestMeshFlowFailing"]["expr"]
    assert "> 120" in alerts["TestMeshSchedulerStalled"]["expr"]
    assert "{{ $labels.flow }}" in alerts["TestMeshFlowFailing"]["annotations"]["summary"]


@test
def alerts_use_metrics_the_roles_export() -> None:
    sources = "".join(p.read_text() for p in (ROOT / "src").rglob("*.rs"))
    if not all((ROOT / "src" / role).is_dir() for role in ("operator", "executor")):
        raise Skip("src/operator and src/executor are not on this branch yet, so the metric names cannot be checked")
    rule = of_kind(rendered("full"), "PrometheusRule")[0]
    used = set()
    for alert in rule["spec"]["groups"][0]["rules"]:
        used |= set(re.findall(r"\btestmesh_[a-z_]+", alert["expr"]))
    missing = [m for m in sorted(used) if m not in sources and m.removeprefix("testmesh_") not in sources]
    assert not missing, f"the PrometheusRule uses metrics no role defines: {missing}"


# The Kubernetes types a role's code reads by `Api<Kind>`, and the resource each one is.
API_RESOURCES = {
    "Secret": ("", "secrets"),
    "ConfigMap": ("", "configmaps"),
    "TestEnvironment": ("testmesh.io", "testenvironments"),
    "TestFlow": ("testmesh.io", "testflows"),
}


@test
def the_executor_list_grants_exactly_the_gets_its_code_makes() -> None:
    folder = ROOT / "src" / "executor"
    if not folder.is_dir():
        raise Skip("src/executor is not on this branch yet")
    sources = "".join(p.read_text() for p in folder.rglob("*.rs"))
    used = {API_RESOURCES[kind] for kind in re.findall(r"\bApi<(\w+)>", sources)}
    granted = set()
    for rule in rbac_list("executor"):
        assert rule["verbs"] == ["get"], f"the executor only gets objects by name: {rule}"
        granted |= {(group, resource) for group in rule["apiGroups"] for resource in rule["resources"]}
    assert used == granted, f"code reads {sorted(used)}, rbac/executor.yaml grants {sorted(granted)}"


def main() -> int:
    passed = failed = skipped = 0
    for function in TESTS:
        try:
            function()
        except Skip as reason:
            skipped += 1
            print(f"chart {function.__name__} ... skipped: {reason}")
        except Exception:  # noqa: BLE001 - a test runner reports every failure and goes on
            failed += 1
            print(f"chart {function.__name__} ... FAILED")
            traceback.print_exc()
        else:
            passed += 1
            print(f"chart {function.__name__} ... ok")
    print(f"chart: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Tests of examples/gitops: the manifests parse, the Argo CD health checks and the "run" action
behave as documented when Lua 5.1 (the dialect of Argo CD's gopher-lua) runs them against
sample TestFlows and TestSchedules, the chart accepts the values the Argo CD Application and the
Flux HelmRelease give it, and the paths they sync exist.

Run: python charts/tests/gitops.py  (prints one line per test and `gitops: N passed, N failed`).
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any, Callable

import helm_python as helm
import yaml
from lupa import lua51
from render import schema_violations

ROOT = Path(__file__).resolve().parents[2]
GITOPS = ROOT / "examples" / "gitops"
CHART = ROOT / "charts" / "testmesh"
BINARY = ROOT / "target" / "debug" / "testmesh"

TESTS: list[Callable[[], None]] = []


class Skip(Exception):
    """A test that cannot run here, with the reason."""


def test(function: Callable[[], None]) -> Callable[[], None]:
    TESTS.append(function)
    return function


def documents() -> list[tuple[Path, dict[str, Any]]]:
    found = []
    for path in sorted(GITOPS.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document is not None:
                found.append((path, document))
    return found


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [d for _, d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name} in examples/gitops, found {len(matches)}"
    return matches[0]


def argocd_settings() -> dict[str, str]:
    return find("ConfigMap", "argocd-cm")["data"]


def to_lua(runtime: Any, value: Any) -> Any:
    """Python data as Lua tables: lists become 1-based arrays, as Argo CD hands objects over."""
    if isinstance(value, dict):
        return runtime.table_from({k: to_lua(runtime, v) for k, v in value.items()})
    if isinstance(value, list):
        return runtime.table_from([to_lua(runtime, v) for v in value])
    return value


def from_lua(value: Any) -> Any:
    if lua51.lua_type(value) == "table":
        keys = list(value.keys())
        if keys and all(isinstance(k, int) for k in keys):
            return [from_lua(value[k]) for k in sorted(keys)]
        return {k: from_lua(v) for k, v in value.items()}
    return value


def run_lua(script: str, obj: dict[str, Any]) -> Any:
    runtime = lua51.LuaRuntime(unpack_returned_tuples=True)
    runtime.globals().obj = to_lua(runtime, obj)
    return from_lua(runtime.execute(script))


def flow(status: dict[str, Any] | None, generation: int = 3, kind: str = "TestFlow") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "testmesh.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": "checkout", "namespace": "qa", "generation": generation},
        "spec": {"name": "Checkout", "steps": [{"id": "cart", "action": "http_request"}]},
    }
    if status is not None:
        obj["status"] = status
    return obj


def ready(status: str, message: str = "") -> list[dict[str, Any]]:
    return [{"type": "Ready", "status": status, "reason": "Validated", "message": message}]


SAMPLES = [
    ("a flow the operator has not seen", flow(None), "Progressing", "Waiting"),
    ("an older generation", flow({"observedGeneration": 2, "conditions": ready("True")}), "Progressing", "generation 3"),
    (
        "an invalid flow",
        flow({"observedGeneration": 3, "conditions": ready("False", "steps[1].action: unknown action `htp_request`")}),
        "Degraded",
        "unknown action",
    ),
    (
        "a stalled flow",
        flow({"observedGeneration": 3, "conditions": ready("True") + [{"type": "Stalled", "status": "True", "reason": "EnvironmentMissing"}]}),
        "Degraded",
        "EnvironmentMissing",
    ),
    (
        "a failed last run",
        flow({"observedGeneration": 3, "conditions": ready("True"), "lastRun": {"id": "r-42", "result": "failed", "failedSteps": 2}}),
        "Degraded",
        "Last run r-42 failed (2 failed steps)",
    ),
    (
        "a timed-out last run",
        flow({"observedGeneration": 3, "conditions": ready("True"), "lastRun": {"id": "r-43", "result": "timed_out"}}),
        "Degraded",
        "timed_out",
    ),
    (
        "a running run",
        flow({"observedGeneration": 3, "conditions": ready("True"), "lastRun": {"id": "r-44", "result": "running"}}),
        "Progressing",
        "r-44 is running",
    ),
    (
        "a schedule with an active run",
        flow(
            {"observedGeneration": 3, "conditions": ready("True"), "active": ["s-1"], "lastRun": {"id": "r-1", "result": "failed"}},
            kind="TestSchedule",
        ),
        "Progressing",
        "s-1 is active",
    ),
    ("a valid flow never run", flow({"observedGeneration": 3, "conditions": ready("True")}), "Healthy", "not run yet"),
    (
        "a passed last run",
        flow({"observedGeneration": 3, "conditions": ready("True"), "lastRun": {"id": "r-45", "result": "passed", "failedSteps": 0}}),
        "Healthy",
        "r-45 passed",
    ),
]


@test
def every_manifest_parses_and_names_itself() -> None:
    found = documents()
    assert len(found) >= 8, f"only {len(found)} manifests in examples/gitops"
    for path, document in found:
        for field in ("apiVersion", "kind", "metadata"):
            assert field in document, f"{path}: a document without {field}"
        assert document["metadata"].get("name"), f"{path}: a {document['kind']} without a name"


@test
def kubernetes_objects_are_valid_for_the_kubernetes_api() -> None:
    addons = {"Application", "HelmRelease", "GitRepository", "Kustomization", "TestFlow", "TestSchedule"}
    problems = schema_violations([d for _, d in documents()], addons)
    assert not problems, "\n  ".join(problems)


@test
def health_checks_match_the_documented_states() -> None:
    settings = argocd_settings()
    for kind in ("TestFlow", "TestSchedule"):
        script = settings[f"resource.customizations.health.testmesh.io_{kind}"]
        for description, sample, status, message in SAMPLES:
            sample = copy.deepcopy(sample)
            sample["kind"] = kind
            health = run_lua(script, sample)
            assert health["status"] == status, f"{kind}, {description}: {health}"
            assert message in health["message"], f"{kind}, {description}: {health['message']!r}"


@test
def run_action_sets_a_new_run_requested_token() -> None:
    for kind in ("TestFlow", "TestSchedule"):
        actions = yaml.safe_load(argocd_settings()[f"resource.customizations.actions.testmesh.io_{kind}"])
        discovered = run_lua(actions["discovery.lua"], flow(None, kind=kind))
        assert discovered == {"run": {"disabled": False, "iconClass": "fa fa-fw fa-play"}}, discovered
        (definition,) = [d for d in actions["definitions"] if d["name"] == "run"]
        for annotations in (None, {"team": "payments", "testmesh.io/run-requested": "old"}):
            obj = flow({"observedGeneration": 3}, kind=kind)
            if annotations is not None:
                obj["metadata"]["annotations"] = annotations
            changed = run_lua(definition["action.lua"], obj)
            token = changed["metadata"]["annotations"]["testmesh.io/run-requested"]
            assert re.fullmatch(r"argocd-\d{8}T\d{6}Z", token), token
            if annotations is not None:
                assert changed["metadata"]["annotations"]["team"] == "payments"
            assert changed["spec"] == obj["spec"], "the action changes nothing but the annotation"


@test
def chart_accepts_the_values_of_argocd_and_flux() -> None:
    given = {
        "Argo CD Application testmesh": find("Application", "testmesh")["spec"]["source"]["helm"]["valuesObject"],
        "Flux HelmRelease testmesh": find("HelmRelease", "testmesh")["spec"]["values"],
    }
    with helm.Chart.load(CHART) as chart:
        for where, values in given.items():
            manifests = chart.render(values, name="testmesh", namespace="testmesh", is_install=True)
            assert any("kind: Deployment" in text for text in manifests.values()), where


@test
def synced_paths_exist() -> None:
    application = find("Application", "testmesh-flows")["spec"]["source"]["path"]
    kustomization = find("Kustomization", "testmesh-flows")["spec"]["path"]
    helm_release = find("HelmRelease", "testmesh")["spec"]["chart"]["spec"]["chart"]
    chart_app = find("Application", "testmesh")["spec"]["source"]["path"]
    for path in (application, kustomization, helm_release, chart_app):
        assert (ROOT / path).is_dir(), f"{path} does not exist in the repository"
    kinds = {d["kind"] for p, d in documents() if (ROOT / application) in p.parents}
    assert kinds == {"TestFlow", "TestSchedule"}, f"the synced flows folder holds {kinds}"


@test
def postsync_hook_flow_validates() -> None:
    if not BINARY.exists():
        raise Skip(f"{BINARY} is not built (cargo build --bins)")
    job = find("Job", "orders-smoke-test")
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PostSync"
    assert job["spec"]["backoffLimit"] == 0, "a failed flow must fail the sync, not retry"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][:2] == ["run", "/flows/smoke.yaml"]
    flow_text = find("ConfigMap", "orders-smoke-flow")["data"]["smoke.yaml"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "smoke.yaml"
        path.write_text(flow_text)
        result = subprocess.run([str(BINARY), "validate", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def main() -> int:
    passed = failed = skipped = 0
    for function in TESTS:
        try:
            function()
        except Skip as reason:
            skipped += 1
            print(f"gitops {function.__name__} ... skipped: {reason}")
        except Exception:  # noqa: BLE001 - a test runner reports every failure and goes on
            failed += 1
            print(f"gitops {function.__name__} ... FAILED")
            traceback.print_exc()
        else:
            passed += 1
            print(f"gitops {function.__name__} ... ok")
    print(f"gitops: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

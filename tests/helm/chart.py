"""Rendering the chart with the real helm binary (`make helm-tools` puts it in the venv)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "percept"
PRODUCTION = CHART / "values-production.yaml"
TOOLS = Path(sys.prefix) / "helm-tools"
HELM = TOOLS / "bin" / "helm"
RELEASE, NAMESPACE = "percept", "percept"
# Everything optional switched on, for the checks that must see every template.
EVERYTHING = ("--set", "monitoring.serviceMonitor.enabled=true", "--set", "monitoring.prometheusRule.enabled=true",
              "--set", "admissionPolicy.enabled=true")


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    if not HELM.exists():
        raise RuntimeError(f"{HELM} is missing: run `make helm-tools`")
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, timeout=60, check=check)


def template(*args: str) -> list[dict]:
    """The rendered objects of `helm template` with these extra arguments (-f FILE, --set k=v)."""
    out = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def template_error(*args: str) -> str:
    done = helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *args, check=False)
    assert done.returncode != 0, "the render was expected to fail"
    return done.stderr


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


def one(objects: list[dict], kind: str, component: str) -> dict:
    found = [o for o in by_kind(objects, kind)
             if o["metadata"]["labels"].get("app.kubernetes.io/component") == component]
    assert len(found) == 1, f"{len(found)} {kind} objects of component {component}"
    return found[0]


def pod_specs(objects: list[dict]) -> list[tuple[str, dict]]:
    """(workload name, pod spec) of every workload that makes pods."""
    return [(o["metadata"]["name"], o["spec"]["template"]["spec"]) for o in objects
            if o["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job")]


def env_of(container: dict) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}

"""The dashboard and the alerts: they parse, and every metric they use is one the running services export.

The metric names are checked against the real local stack (`python -m services.devstack up`, as
`make up` runs it: real tritonserver, sandbox-runner, code-perception service and gateway), after
one request through each path, by scraping each component's /metrics page.
"""
from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.helm.chart import CHART, by_kind, one
from tests.helm.promql import metric_names
from tests.integration.test_devstack import Stack, _image_to_code, _locate, stack_artifacts  # noqa: F401
from tests.prometheus_text import scrape

DASHBOARD = CHART / "files" / "dashboard.json"
# Not the services' own metrics: kube-state-metrics' (pod restarts, available replicas), which any
# cluster running the Prometheus operator stack has.
FROM_KUBE_STATE_METRICS = {"kube_pod_container_status_restarts_total", "kube_deployment_status_replicas_available"}
METRICS_PORTS = {"gateway": "PERCEPT_GATEWAY_PORT", "triton": "PERCEPT_TRITON_METRICS_PORT",
                 "sandbox-runner": "PERCEPT_SANDBOX_METRICS_PORT",
                 "codeperception": "PERCEPT_CODEPERCEPTION_METRICS_PORT"}
_TYPE = re.compile(r"^# TYPE (\S+) (\w+)")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)")
_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count"),
             "counter": ("", "_total")}


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):  # label_values(metric, label) is Grafana's, not PromQL: its metric
            exprs.append(re.fullmatch(r"label_values\((\w+), *\w+\)", query["query"]).group(1))
    return exprs


def alert_expressions(objects: list[dict]) -> dict[str, str]:
    (rule,) = by_kind(objects, "PrometheusRule")
    return {r["alert"]: r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]}


def exported_names(page: str) -> set[str]:
    """Sample names a /metrics page serves, with those its declared families may serve (a labelled
    histogram or counter shows its TYPE line before its first observation)."""
    names = set()
    for line in page.splitlines():
        declared = _TYPE.match(line)
        if declared:
            family, kind = declared.groups()
            base = family.removesuffix("_total") if kind == "counter" else family
            names.update(base + suffix for suffix in _SUFFIXES.get(kind, ("",)))
        elif line and not line.startswith("#"):
            names.add(_SAMPLE.match(line).group(1))
    return names


def test_the_dashboard_ships_as_a_sidecar_config_map(all_objects):
    config = one(all_objects, "ConfigMap", "dashboard")
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config["data"]["percept.json"]) == json.loads(DASHBOARD.read_text())
    titles = " | ".join(p["title"] for p in json.loads(DASHBOARD.read_text())["panels"])
    for panel in ("Request rate per endpoint", "Latency per endpoint", "Errors per endpoint", "Queue time",
                  "Compute time", "Average batch size", "Render latency", "Render outcomes", "Queue depth",
                  "Fidelity score", "Candidates per request"):
        assert panel in titles


def test_every_dashboard_and_alert_expression_parses(all_objects):
    alerts = alert_expressions(all_objects)
    assert {"PerceptGatewayErrorRate", "PerceptGatewayLatencyHigh", "PerceptSandboxRenderFailures",
            "PerceptSandboxTimeouts", "PerceptTritonNotReady", "PerceptTritonQueueTimeHigh",
            "PerceptPodsRestarting"} <= alerts.keys()
    for expression in [*dashboard_expressions(), *alerts.values()]:
        assert metric_names(expression), expression
    with pytest.raises(ValueError, match="does not parse"):
        metric_names(alerts["PerceptGatewayErrorRate"].replace("[5m]", "[5m", 1))


def test_service_monitors_select_a_rendered_service_port(all_objects):
    monitors = by_kind(all_objects, "ServiceMonitor")
    assert len(monitors) == 4
    for monitor in monitors:
        assert monitor["spec"]["endpoints"][0]["interval"] == "15s"
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [s for s in by_kind(all_objects, "Service")
                    if selector.items() <= s["metadata"]["labels"].items()]
        port = monitor["spec"]["endpoints"][0]["port"]
        assert any(port in {p["name"] for p in s["spec"]["ports"]} for s in services), monitor["metadata"]["name"]
    labelled = by_kind(__import__("tests.helm.chart", fromlist=["template"]).template(
        "--set", "monitoring.serviceMonitor.enabled=true",
        "--set", "monitoring.serviceMonitor.additionalLabels.release=prom"), "ServiceMonitor")
    assert all(m["metadata"]["labels"]["release"] == "prom" for m in labelled)


def test_every_metric_name_is_exported_by_the_running_stack(stack_artifacts, triton_stub_site, tmp_path,  # noqa: F811
                                                             all_objects):
    used = set().union(*map(metric_names, [*dashboard_expressions(), *alert_expressions(all_objects).values()]))
    stack = Stack(stack_artifacts, tmp_path / "devstack")
    try:
        stack.wait_for("percept is up", 300)
        # one request down each path, so the labelled series exist too
        assert _locate(stack.url("PERCEPT_GATEWAY_PORT")).status_code == 200
        image = next((stack_artifacts / "stem2code-sample" / "images").glob("*.png")).read_bytes()
        _image_to_code(f"127.0.0.1:{stack.ports['PERCEPT_CODEPERCEPTION_GRPC_PORT']}", image)
        pages = {name: scrape(stack.url(port) + "/metrics") for name, port in METRICS_PORTS.items()}
        assert httpx.get(stack.url("PERCEPT_GATEWAY_PORT") + "/readyz", timeout=10).status_code == 200
    finally:
        assert stack.interrupt() == 0, stack.output
    exported = set().union(*map(exported_names, pages.values()))
    missing = sorted(used - exported - FROM_KUBE_STATE_METRICS)
    assert not missing, f"used by the dashboard or the alerts but exported by no service: {missing}"
    # each component's page is really read (Triton's names come from the real tritonserver)
    assert "nv_inference_queue_duration_us" in exported_names(pages["triton"])
    assert "percept_sandbox_isolation_layer_enabled" in exported_names(pages["sandbox-runner"])

"""The chart, checked with the real helm binary and the Kubernetes schemas (offline: no API server here).

Renders: default values, the production example (values-production.yaml) and everything optional on.
"""
from __future__ import annotations

import re

import kubernetes_validate
import pytest
import yaml

from services import settings_docs
from tests.helm.chart import CHART, PRODUCTION, by_kind, env_of, helm, one, pod_specs, template, template_error

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas at hand.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Custom resources of the Prometheus operator: no schema ships offline; test_monitoring checks them.
OPERATOR_KINDS = {"ServiceMonitor", "PrometheusRule"}


@pytest.mark.parametrize("values", [(), ("-f", str(PRODUCTION))], ids=["default", "production"])
def test_helm_lint_strict(values):
    done = helm("lint", "--strict", str(CHART), *values, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


def test_every_rendered_object_is_valid_against_the_kubernetes_schemas_strict(rendered):
    for obj in rendered:
        if obj["kind"] in OPERATOR_KINDS:
            assert obj["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        for version in KUBERNETES_VERSIONS:
            # strict: an unknown or misspelt field is an error, not ignored
            kubernetes_validate.validate(obj, version, strict=True)


def test_schema_validation_catches_a_misplaced_field():
    """The check above can fail: a typo in a pod spec is refused by the strict schema."""
    deployment = one(template(), "Deployment", "gateway")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {"path": "/"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


# --- policies over every rendered pod -----------------------------------------------------

def _containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_every_container_is_restricted_with_limits(rendered):
    specs = pod_specs(rendered)
    assert {name.rsplit("-", 1)[-1] for name, _ in specs} >= {"gateway", "triton", "codeperception", "sandbox"}
    for name, spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name
        for container in _containers(spec):
            where = f"{name}/{container['name']}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context.get("privileged", False) is False, where
            assert context["capabilities"]["drop"] == ["ALL"] and not context["capabilities"].get("add"), where
            assert context["seccompProfile"]["type"] == "RuntimeDefault", where
            limits, requests = container["resources"]["limits"], container["resources"]["requests"]
            assert {"cpu", "memory", "ephemeral-storage"} <= limits.keys(), where
            assert {"cpu", "memory"} <= requests.keys(), where


def test_writable_paths_are_size_limited_empty_dirs(rendered):
    for name, spec in pod_specs(rendered):
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in _containers(spec):
            for mount in container.get("volumeMounts", []):
                volume = volumes[mount["name"]]
                if "emptyDir" in volume:
                    assert volume["emptyDir"].get("sizeLimit"), f"{name}: {mount['name']} has no sizeLimit"
                elif not mount.get("readOnly"):
                    # the init container fills the object-storage copy; nothing else writes outside emptyDirs
                    raise AssertionError(f"{name}: writable mount {mount['name']} is not an emptyDir")


def test_no_pod_mounts_a_service_account_token(rendered):
    for name, spec in pod_specs(rendered):
        assert spec["automountServiceAccountToken"] is False, name


def test_sandbox_pods_have_the_runtime_class_and_a_no_egress_policy(rendered):
    sandbox = one(rendered, "Deployment", "sandbox")
    pod_labels = sandbox["spec"]["template"]["metadata"]["labels"]
    assert sandbox["spec"]["template"]["spec"]["runtimeClassName"] == "gvisor"
    policies = [p for p in by_kind(rendered, "NetworkPolicy")
                if p["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()]
    assert policies, "no NetworkPolicy selects the sandbox pods"
    for policy in policies:
        assert "Egress" in policy["spec"]["policyTypes"] and not policy["spec"].get("egress")
    (policy,) = policies
    codeperception_labels = one(rendered, "Deployment", "codeperception")["spec"]["template"]["metadata"]["labels"]
    grpc_rule, metrics_rule = policy["spec"]["ingress"]
    sources = [peer["podSelector"]["matchLabels"] for peer in grpc_rule["from"]]
    assert sources[0].items() <= codeperception_labels.items()  # the code-perception pods
    assert sources[1] == {"app.kubernetes.io/name": "percept-eval"}  # eval jobs (services/evaluation/k8s_job.py)
    ports = settings_docs.chart_settings()["ports"]["sandbox"]
    assert grpc_rule["ports"] == [{"port": ports["grpc"], "protocol": "TCP"}]
    assert metrics_rule["ports"] == [{"port": ports["metrics"], "protocol": "TCP"}]
    assert all("namespaceSelector" in peer for peer in metrics_rule["from"])


def test_the_runtime_class_is_configurable():
    sandbox = one(template("--set", "sandbox.runtimeClassName=kata"), "Deployment", "sandbox")
    assert sandbox["spec"]["template"]["spec"]["runtimeClassName"] == "kata"


def test_the_admission_policy_enforces_the_sandbox_rules(all_objects):
    (policy,) = by_kind(all_objects, "ValidatingAdmissionPolicy")
    (binding,) = by_kind(all_objects, "ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    assert binding["spec"]["validationActions"] == ["Deny"]
    rules = " ".join(v["expression"] for v in policy["spec"]["validations"])
    for must in ("runtimeClassName == 'gvisor'", "automountServiceAccountToken == false", "hostNetwork",
                 "'ALL'", "readOnlyRootFilesystem", "runAsNonRoot", "'memory' in c.resources.limits"):
        assert must in rules
    assert not by_kind(template(), "ValidatingAdmissionPolicy")  # off by default (cluster-scoped)


# --- probes, images, secrets, settings ----------------------------------------------------

def test_probes(default_objects):
    triton = one(default_objects, "Deployment", "triton")["spec"]["template"]["spec"]["containers"][0]
    startup = triton["startupProbe"]
    assert startup["httpGet"]["path"] == "/v2/health/ready"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300  # model loading and warmup
    assert triton["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert triton["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    gateway = one(default_objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0]
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    stem_only = one(template("--set", "gateway.readinessDomain=stem"), "Deployment", "gateway")
    assert stem_only["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == \
        "/readyz?domain=stem"
    for component, port in (("codeperception", 50071), ("sandbox", 50061)):
        container = one(default_objects, "Deployment", component)["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["grpc"] == {"port": port}  # grpc.health.v1
        assert container["readinessProbe"]["grpc"] == {"port": port}


def test_image_tags_default_to_the_app_version(production_objects):
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    images = {c["name"]: c["image"] for _, spec in pod_specs(template()) for c in spec["containers"]}
    assert images == {"gateway": f"percept/gateway:{app_version}", "triton": f"percept/triton:{app_version}-gpu",
                      "codeperception": f"percept/codeperception:{app_version}",
                      "sandbox-runner": f"percept/sandbox-runner:{app_version}"}
    cpu = one(template("--set", "triton.variant=cpu"), "Deployment", "triton")["spec"]["template"]["spec"]
    assert cpu["containers"][0]["image"] == f"percept/triton:{app_version}-cpu"
    assert "nvidia.com/gpu" not in cpu["containers"][0]["resources"]["limits"] and "nodeSelector" not in cpu
    prod = {c["name"]: c["image"] for _, spec in pod_specs(production_objects) for c in spec["containers"]}
    assert prod["gateway"] == f"registry.example.com/ml/percept/gateway:{app_version}"
    pinned = one(template("--set", "gateway.image.tag=abc"), "Deployment", "gateway")
    assert pinned["spec"]["template"]["spec"]["containers"][0]["image"] == "percept/gateway:abc"


def _secret_files(spec: dict, container: dict) -> dict[str, tuple[str, str]]:
    """{file path: (Secret name, key)} of the Secret volumes the container mounts."""
    volumes = {v["name"]: v["secret"] for v in spec.get("volumes", []) if "secret" in v}
    return {f"{mount['mountPath']}/{item['path']}": (volumes[mount["name"]]["secretName"], item["key"])
            for mount in container.get("volumeMounts", []) if mount["name"] in volumes
            for item in volumes[mount["name"]]["items"]}


def test_gateway_api_keys_come_from_a_secret_file(default_objects, production_objects):
    for objects, secret in ((default_objects, "percept-gateway"), (production_objects, "percept-api-keys")):
        spec = one(objects, "Deployment", "gateway")["spec"]["template"]["spec"]
        container = spec["containers"][0]
        env = env_of(container)
        assert "PERCEPT_API_KEYS" not in env
        assert _secret_files(spec, container)[env["PERCEPT_API_KEYS_FILE"]] == (secret, "api-keys")
    created = one(template("--set", "gateway.apiKeys.keys={k1,k2}"), "Secret", "gateway")
    assert created["stringData"] == {"api-keys": "k1,k2"}
    assert not by_kind(production_objects, "Secret")  # an existing Secret: the chart makes none


def _checksums(*args: str) -> dict[str, dict[str, str]]:
    return {name: {k: v for k, v in (o["spec"]["template"]["metadata"].get("annotations") or {}).items()
                   if k.startswith("checksum/")}
            for o in template(*args) if o["kind"] == "Deployment" for name in [o["metadata"]["name"]]}


def test_config_and_secret_changes_roll_the_pods():
    base = _checksums()
    limits = _checksums("--set-string", "sharedSettings.PERCEPT_MAX_QUERY_CHARS=512")
    keys = _checksums("--set", "gateway.apiKeys.keys={new-key}")
    for name in base:
        assert base[name]["checksum/settings"] != limits[name]["checksum/settings"], name
    assert base["percept-gateway"]["checksum/api-keys"] != keys["percept-gateway"]["checksum/api-keys"]


def test_shared_settings_are_rendered_from_the_env_declarations(default_objects):
    generated = settings_docs.chart_settings()
    config = one(default_objects, "ConfigMap", "settings")["data"]
    assert {k: v for k, v in config.items() if k in generated["shared"]} == generated["shared"]
    assert set(generated["shared"]) == {"PERCEPT_MAX_BODY_BYTES", "PERCEPT_MAX_IMAGE_PIXELS",
                                        "PERCEPT_MAX_QUERY_CHARS", "PERCEPT_MAX_QUERY_TOKENS",
                                        "PERCEPT_MAX_CODE_BYTES", "PERCEPT_MAX_CANDIDATES",
                                        "PERCEPT_MAX_REFINE_RENDERS"}
    # one ConfigMap for the gateway, the code-perception service and the Triton models
    for component in ("gateway", "codeperception", "triton"):
        container = one(default_objects, "Deployment", component)["spec"]["template"]["spec"]["containers"][0]
        assert container["envFrom"] == [{"configMapRef": {"name": "percept-settings"}}]
    override = one(template("--set-string", "sharedSettings.PERCEPT_MAX_BODY_BYTES=41943040"), "ConfigMap", "settings")
    assert override["data"]["PERCEPT_MAX_BODY_BYTES"] == "41943040"
    assert "not a shared setting" in template_error("--set-string", "sharedSettings.PERCEPT_MAX_BODY=1")


def test_the_generated_settings_file_is_current():
    assert settings_docs.CHART_FILE.read_text() == settings_docs.chart_file(), \
        "run: python -m services.settings_docs --write"


def test_ports_come_from_the_generated_settings(default_objects):
    ports = settings_docs.chart_settings()["ports"]
    gateway = one(default_objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0]
    assert gateway["ports"][0]["containerPort"] == ports["gateway"]["http"]
    triton = one(default_objects, "Service", "triton")
    assert {p["name"]: p["port"] for p in triton["spec"]["ports"]} == ports["triton"]


# --- Triton's model repository and the autoscalers ----------------------------------------

def _triton(*args: str) -> dict:
    return one(template(*args), "Deployment", "triton")["spec"]["template"]["spec"]


def test_model_repository_from_the_image_a_pvc_or_object_storage():
    baked = _triton()
    assert "--model-repository=/opt/percept/model_repository" in baked["containers"][0]["args"]
    pvc = _triton("-f", str(PRODUCTION))
    claim = next(v for v in pvc["volumes"] if v["name"] == "model-repository")
    assert claim["persistentVolumeClaim"] == {"claimName": "percept-model-repository", "readOnly": True}
    assert "--model-repository=/models" in pvc["containers"][0]["args"]
    s3 = _triton("--set", "triton.modelRepository.source=objectStorage",
                 "--set", "triton.modelRepository.objectStorage.uri=s3://models/percept",
                 "--set", "triton.modelRepository.objectStorage.credentialsSecret=s3-credentials")
    (init,) = s3["initContainers"]
    assert init["args"][-2:] == ["s3://models/percept", "/models"]
    assert "envFrom" not in init  # the credentials are a file the AWS CLI reads, not environment variables
    assert _secret_files(s3, init)[env_of(init)["AWS_SHARED_CREDENTIALS_FILE"]] == ("s3-credentials", "credentials")
    assert "emptyDir" in next(v for v in s3["volumes"] if v["name"] == "model-repository")
    assert "uri is required" in template_error("--set", "triton.modelRepository.source=objectStorage")
    assert "must be one of" in template_error("--set", "triton.modelRepository.source=ftp")


def test_autoscalers(default_objects, production_objects):
    hpas = {o["metadata"]["name"]: o for o in by_kind(default_objects, "HorizontalPodAutoscaler")}
    assert {o["apiVersion"] for o in hpas.values()} == {"autoscaling/v2"}
    assert hpas["percept-gateway"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert hpas["percept-sandbox"]["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    triton = hpas["percept-triton"]["spec"]["metrics"][0]
    assert triton["type"] == "Pods" and triton["pods"]["metric"]["name"] == "triton_queue_time_per_request_us"
    sandbox = one(production_objects, "HorizontalPodAutoscaler", "sandbox")["spec"]["metrics"][0]
    assert sandbox["pods"]["metric"]["name"] == "percept_sandbox_queue_depth"
    # the HPA owns the replica count; PDBs for every workload
    for name, _ in pod_specs(default_objects):
        deployment = next(o for o in default_objects if o["metadata"]["name"] == name and o["kind"] == "Deployment")
        assert ("replicas" in deployment["spec"]) == (name not in hpas), name
    pdbs = {o["metadata"]["name"] for o in by_kind(default_objects, "PodDisruptionBudget")}
    assert pdbs == {name for name, _ in pod_specs(default_objects)}


def test_every_value_is_documented():
    """Each key in values.yaml has a comment on the line above it (or is inside a commented block)."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    undocumented = []
    for number, line in enumerate(lines):
        key = re.match(r"^(\s*)([A-Za-z][\w.-]*):", line)
        if not key:
            continue
        above = next((lines[i].strip() for i in range(number - 1, -1, -1) if lines[i].strip()), "")
        is_parent = line.rstrip().endswith(":")  # a section: its children carry the comments
        if not above.startswith("#") and not is_parent:
            undocumented.append(line.strip())
    assert not undocumented, f"values without a comment: {undocumented}"


def test_the_values_schema_refuses_unknown_and_mistyped_values():
    assert "additional properties" in template_error("--set", "gateway.replica=3").lower() or \
        "not allowed" in template_error("--set", "gateway.replica=3").lower()
    assert "sandbox/isolation" in template_error("--set", "sandbox.isolation=none")


def test_the_backend_value_takes_exactly_the_backends_code_perception_has():
    import json

    from services.codeperception.backends.registry import BACKEND_NAMES

    schema = json.loads((CHART / "values.schema.json").read_text())
    assert schema["properties"]["codeperception"]["properties"]["backend"]["enum"] == list(BACKEND_NAMES)
    assert "codeperception/backend" in template_error("--set", "codeperception.backend=lookup")


def test_notes_document_the_pod_security_labels():
    notes = helm("install", "percept", str(CHART), "--dry-run=client", "--namespace", "percept").stdout
    notes = notes[notes.index("NOTES:"):]
    assert "pod-security.kubernetes.io/enforce=restricted" in notes
    assert "kubectl label namespace percept" in notes
    assert "no API keys are set" in notes  # the default values leave auth off: said loudly

"""What the chart's hardening promises: namespaced objects, high uids matching the images, secrets only as
files (never in the sandbox), image digests, and NetworkPolicies that admit exactly the platform's calls."""
from __future__ import annotations

import re

import pytest

from services import settings_docs
from services.common import settings
from services.settings_catalog import import_all_settings
from tests.helm.chart import (
    NAMESPACE,
    PRODUCTION,
    ROOT,
    by_kind,
    env_of,
    helm,
    one,
    pod_specs,
    template,
    template_error,
)
from tests.helm.netpol import Endpoint, allowed_connections

CLUSTER_SCOPED = {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
DOCKERFILES = (*sorted((ROOT / "docker").glob("*.Dockerfile")), ROOT / "sandbox-runner" / "Dockerfile")
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


# --- namespaces -----------------------------------------------------------------------------

def test_every_namespaced_object_states_the_release_namespace(rendered):
    for obj in rendered:
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in obj["metadata"], where
        else:
            assert obj["metadata"].get("namespace") == NAMESPACE, where


def test_the_namespace_follows_the_release():
    objects = helm("template", "percept", str(ROOT / "helm" / "percept"), "--namespace", "elsewhere").stdout
    assert "namespace: elsewhere" in objects and f"namespace: {NAMESPACE}\n" not in objects


# --- uids -----------------------------------------------------------------------------------

def _image_user(dockerfile) -> str:
    users = re.findall(r"^USER\s+(\S+)", dockerfile.read_text(), re.M)
    assert users, f"{dockerfile.name} sets no USER"
    return users[-1]


def test_every_pod_runs_as_a_high_uid_that_the_images_run_as(rendered):
    uids = set()
    for name, spec in pod_specs(rendered):
        context = spec["securityContext"]
        assert context["runAsUser"] >= 10000, f"{name}: uid {context['runAsUser']} may clash with a host account"
        assert context["runAsGroup"] == context["fsGroup"] == context["runAsUser"], name
        uids.add(context["runAsUser"])
    (uid,) = uids
    assert len(DOCKERFILES) == 4
    for dockerfile in DOCKERFILES:
        assert _image_user(dockerfile) == str(uid), f"{dockerfile.name}: USER is not the chart's uid {uid}"


# --- secrets --------------------------------------------------------------------------------

SECRETS_EVERYWHERE = ("-f", str(PRODUCTION), "--set", "triton.modelRepository.source=objectStorage",
                      "--set", "triton.modelRepository.objectStorage.uri=s3://models/percept",
                      "--set", "triton.modelRepository.objectStorage.credentialsSecret=s3-credentials")


def _secret_mounts(spec: dict, container: dict) -> list[str]:
    secrets = {v["name"] for v in spec.get("volumes", []) if "secret" in v}
    return [m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in secrets]


@pytest.mark.parametrize("values", [(), SECRETS_EVERYWHERE], ids=["default", "every-secret"])
def test_secrets_reach_pods_only_as_files(values):
    import_all_settings()
    secret_files = {var.file_variable for var in settings.registered() if var.secret}
    seen = set()
    for name, spec in pod_specs(template(*values)):
        for container in _containers(spec):
            where = f"{name}/{container['name']}"
            assert not any("secretRef" in source for source in container.get("envFrom", [])), where
            for variable in container.get("env", []):
                assert "secretKeyRef" not in (variable.get("valueFrom") or {}), f"{where}: {variable['name']}"
                if variable["name"].endswith("_FILE") and variable["name"].startswith("PERCEPT_"):
                    assert variable["name"] in secret_files, f"{where}: {variable['name']} is no secret's file"
                    mounts = _secret_mounts(spec, container)
                    assert any(variable["value"].startswith(m + "/") for m in mounts), where
                    seen.add(variable["name"])
    if values:
        assert seen == {"PERCEPT_API_KEYS_FILE", "PERCEPT_CODEPERCEPTION_OPENAI_API_KEY_FILE"}


def test_secrets_never_reach_the_sandbox(rendered):
    spec = one(rendered, "Deployment", "sandbox")["spec"]["template"]["spec"]
    assert not any("secret" in v or "projected" in v for v in spec.get("volumes", []))
    for container in _containers(spec):
        assert not container.get("envFrom")
        assert not any(variable.get("valueFrom") for variable in container.get("env", []))
        assert not any(name.endswith("_FILE") for name in env_of(container))


def test_the_openai_key_is_a_secret_file(production_objects):
    spec = one(production_objects, "Deployment", "codeperception")["spec"]["template"]["spec"]
    (volume,) = [v for v in spec["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == "codepercept-vllm"
    assert volume["secret"]["items"] == [{"key": "api-key", "path": "api-key"}]
    assert env_of(spec["containers"][0])["PERCEPT_CODEPERCEPTION_OPENAI_API_KEY_FILE"] == \
        "/var/run/secrets/percept/openai/api-key"
    assert not any("secret" in v for v in one(template(), "Deployment", "codeperception")["spec"]["template"]
                   ["spec"]["volumes"])  # no key configured: nothing mounted


# --- images ---------------------------------------------------------------------------------

def test_an_image_digest_replaces_the_tag():
    objects = template("-f", str(PRODUCTION), "--set", f"gateway.image.digest={DIGEST}",
                       "--set", f"triton.image.digest={DIGEST}", "--set", "triton.modelRepository.source=objectStorage",
                       "--set", "triton.modelRepository.objectStorage.uri=s3://m",
                       "--set", f"triton.modelRepository.objectStorage.image.digest={DIGEST}")
    gateway = one(objects, "Deployment", "gateway")["spec"]["template"]["spec"]["containers"][0]
    assert gateway["image"] == f"registry.example.com/ml/percept/gateway@{DIGEST}"
    triton = one(objects, "Deployment", "triton")["spec"]["template"]["spec"]
    assert triton["containers"][0]["image"] == f"registry.example.com/ml/percept/triton@{DIGEST}"
    assert triton["initContainers"][0]["image"] == f"amazon/aws-cli@{DIGEST}"  # not percept's registry
    sandbox = one(objects, "Deployment", "sandbox")["spec"]["template"]["spec"]["containers"][0]
    assert "@" not in sandbox["image"]  # no digest set for it: its tag
    assert "digest" in template_error("--set", "gateway.image.digest=latest")


def test_the_pull_policy_is_a_value():
    for _, spec in pod_specs(template("--set", "image.pullPolicy=Always", *SECRETS_EVERYWHERE[2:])):
        assert {c["imagePullPolicy"] for c in _containers(spec)} == {"Always"}


# --- network policies -----------------------------------------------------------------------

def test_every_pod_is_selected_by_a_network_policy(rendered):
    policies = by_kind(rendered, "NetworkPolicy")
    for name, _ in pod_specs(rendered):
        labels = next(o for o in rendered if o["metadata"]["name"] == name and o["kind"] == "Deployment") \
            ["spec"]["template"]["metadata"]["labels"]
        assert any(p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
                   and p["spec"]["policyTypes"] == ["Ingress", "Egress"] for p in policies), name


def test_network_policies_can_be_turned_off():
    assert not by_kind(template("--set", "networkPolicy.enabled=false"), "NetworkPolicy")


PORTS = settings_docs.chart_settings()["ports"]
GATEWAY, TRITON = PORTS["gateway"]["http"], PORTS["triton"]
CODEPERCEPTION, SANDBOX = PORTS["codeperception"], PORTS["sandbox"]
DNS = (("kube-dns", 53, "UDP"), ("kube-dns", 53, "TCP"))


def _world(objects: list[dict]) -> list[Endpoint]:
    """The release's pods, and the others around them: clients, DNS, Prometheus, an eval job, a stranger."""
    pods = [Endpoint(o["metadata"]["labels"]["app.kubernetes.io/component"], NAMESPACE,
                     o["spec"]["template"]["metadata"]["labels"],
                     tuple((p["containerPort"], p["protocol"]) for c in o["spec"]["template"]["spec"]["containers"]
                           for p in c["ports"]))
            for o in by_kind(objects, "Deployment")]
    return [*pods,
            Endpoint("internet", None, ports=((443, "TCP"), (8000, "TCP"))),
            Endpoint("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, ((53, "UDP"), (53, "TCP"))),
            Endpoint("prometheus", "monitoring", {"app": "prometheus"}),
            Endpoint("eval-job", NAMESPACE, {"app.kubernetes.io/name": "percept-eval"}),
            Endpoint("stranger", NAMESPACE, {"app": "something-else"}),
            Endpoint("vllm", NAMESPACE, {"app": "codepercept-vllm"}, ((8000, "TCP"),))]


def _connections(objects: list[dict]) -> set[tuple[str, str, int, str]]:
    """Allowed connections that start or end at a pod of the release."""
    ours = {"gateway", "triton", "codeperception", "sandbox"}
    return {c for c in allowed_connections(by_kind(objects, "NetworkPolicy"), _world(objects))
            if c[0] in ours or c[1] in ours}


def _expected(*, codeperception_calls: tuple = ()) -> set[tuple[str, str, int, str]]:
    public = {(source, "gateway", GATEWAY, "TCP")
              for source in ("internet", "prometheus", "eval-job", "stranger", "vllm", "kube-dns")}
    calls = {("gateway", "triton", TRITON["grpc"], "TCP"), ("gateway", "codeperception", CODEPERCEPTION["grpc"], "TCP"),
             ("codeperception", "sandbox", SANDBOX["grpc"], "TCP"), ("eval-job", "sandbox", SANDBOX["grpc"], "TCP"),
             *codeperception_calls}
    scrapes = {("prometheus", "triton", TRITON["metrics"], "TCP"),
               ("prometheus", "codeperception", CODEPERCEPTION["metrics"], "TCP"),
               ("prometheus", "sandbox", SANDBOX["metrics"], "TCP")}
    dns = {(component, *lookup) for component in ("gateway", "codeperception", "triton") for lookup in DNS}
    return public | calls | scrapes | dns


def test_network_policies_admit_exactly_the_platform_calls(default_objects):
    assert _connections(default_objects) == _expected()


def test_network_policies_follow_the_generation_backend(production_objects):
    # openai backend at http://codepercept-vllm...:8000/v1: that port, wherever the name resolves
    openai = {("codeperception", "vllm", 8000, "TCP"), ("codeperception", "internet", 8000, "TCP")}
    assert _connections(production_objects) == _expected(codeperception_calls=tuple(openai))
    # the triton backend, and verified (retrieval and the triton model's samples), call Triton
    for backend in ("triton", "verified"):
        assert _connections(template("--set", f"codeperception.backend={backend}")) == _expected(
            codeperception_calls=(("codeperception", "triton", TRITON["grpc"], "TCP"),))


def test_a_narrowed_gateway_keeps_its_scrapes():
    narrowed = template("--set-json", 'networkPolicy.gateway.ingressFrom=[{"namespaceSelector":{"matchLabels":'
                                      '{"kubernetes.io/metadata.name":"ingress-nginx"}}}]')
    public = {c for c in _connections(narrowed) if c[1] == "gateway"}
    assert public == {("prometheus", "gateway", GATEWAY, "TCP")}  # no modelled pod is in ingress-nginx


def test_object_storage_opens_only_its_endpoint_port():
    objects = template("--set", "triton.modelRepository.source=objectStorage",
                       "--set", "triton.modelRepository.objectStorage.uri=s3://m",
                       "--set", "triton.modelRepository.objectStorage.endpointUrl=http://minio.storage:9000")
    egress = one(objects, "NetworkPolicy", "triton")["spec"]["egress"]
    assert [rule["ports"] for rule in egress if "to" not in rule] == [[{"port": 9000, "protocol": "TCP"}]]
    default_s3 = template("--set", "triton.modelRepository.source=objectStorage",
                          "--set", "triton.modelRepository.objectStorage.uri=s3://m")
    assert {"port": 443, "protocol": "TCP"} in one(default_s3, "NetworkPolicy", "triton")["spec"]["egress"][-1]["ports"]

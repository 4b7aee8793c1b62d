"""The Indexed Job `percept-eval k8s-job` writes: valid against the Kubernetes schema (checked
offline, strict), one shard per index, no service-account token, limits set. There is no API
server here, so submission is only shown to fail with a clear message."""
import pytest
import yaml
from kubernetes_validate import validate

from services.evaluation.cli import main
from services.evaluation.k8s_job import build_job, to_dict

K8S_VERSION = "1.37.0"


def job_yaml(tmp_path, *flags: str) -> dict:
    path = tmp_path / "job.yaml"
    assert main(["k8s-job", "--name", "stem2code-eval", "--image", "registry.example/percept:1.0",
                 "--data-pvc", "stem2code-data", "--out-pvc", "eval-results", "-o", str(path), *flags]) == 0
    return yaml.safe_load(path.read_text())


@pytest.mark.parametrize("task", ["run", "synth"])
def test_the_job_is_schema_valid_and_indexed(tmp_path, task):
    args = ("--data /data/test.jsonl --images /data/images --backend openai" if task == "run"
            else "--split /out/split --count 100000 --seed 1")
    job = job_yaml(tmp_path, "--task", task, "--parallelism", "8", "--completions", "32", "--args", args,
                   "--sandbox", "percept-sandbox:50061")
    validate(job, K8S_VERSION, strict=True)  # raises on any schema violation or unknown field
    spec = job["spec"]
    assert (spec["completionMode"], spec["parallelism"], spec["completions"]) == ("Indexed", 8, 32)
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env["PERCEPT_EVAL_SHARD_COUNT"]["value"] == "32"
    assert env["JOB_COMPLETION_INDEX"]["valueFrom"]["fieldRef"]["fieldPath"] == \
        "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    assert container["resources"]["limits"] == {"cpu": "2", "memory": "4Gi"} == container["resources"]["requests"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
    assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert mounts["/data"]["readOnly"] is True and "/out" in mounts and "/tmp" in mounts  # scratch: root is read-only
    claims = {volume["name"]: volume["persistentVolumeClaim"]["claimName"] for volume in pod["volumes"]
              if "persistentVolumeClaim" in volume}
    assert claims == {"data": "stem2code-data", "out": "eval-results"}
    if task == "run":
        assert container["command"][:2] == ["percept-eval", "run"]
        assert container["command"][-2:] == ["--out", "/out/shard-$(JOB_COMPLETION_INDEX)"]
        assert env["PERCEPT_EVAL_SANDBOX_URL"]["value"] == "percept-sandbox:50061"
    else:
        assert container["command"] == ["percept-eval", "synth", "--split", "/out/split", "--count", "100000",
                                        "--seed", "1"]


def test_completions_default_to_parallelism():
    job = to_dict(build_job(task="run", name="e", image="i", parallelism=4, data_pvc="d", out_pvc="o"))
    assert job["spec"]["completions"] == 4 and job["spec"]["parallelism"] == 4


def test_a_schema_violation_is_caught_offline():
    from kubernetes_validate import ValidationError

    job = to_dict(build_job(task="run", name="e", image="i", parallelism=2, data_pvc="d", out_pvc="o"))
    job["spec"]["completionMode"] = 3
    with pytest.raises(ValidationError):
        validate(job, K8S_VERSION, strict=True)


def test_bad_parallelism_is_refused(tmp_path, capsys):
    assert main(["k8s-job", "--task", "run", "--name", "e", "--image", "i", "--parallelism", "0",
                 "--data-pvc", "d", "--out-pvc", "o"]) == 2
    assert "parallelism and completions must be 1 or more" in capsys.readouterr().err


def test_submit_without_a_cluster_fails_with_a_clear_message(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["k8s-job", "--task", "run", "--name", "e", "--image", "i", "--parallelism", "2",
                 "--data-pvc", "d", "--out-pvc", "o", "-o", str(tmp_path / "job.yaml"), "--submit"]) == 1
    assert "not submitted: no Kubernetes configuration found" in capsys.readouterr().err
    assert (tmp_path / "job.yaml").is_file()  # the YAML is written all the same


def test_submit_to_an_unreachable_api_server_fails_with_a_clear_message(tmp_path, capsys, monkeypatch):
    from tests.sandbox.harness import free_port

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "none",
        "clusters": [{"name": "none", "cluster": {"server": f"http://127.0.0.1:{free_port()}"}}],
        "users": [{"name": "none", "user": {}}],
        "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}]}))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    assert main(["k8s-job", "--task", "run", "--name", "e", "--image", "i", "--parallelism", "2",
                 "--data-pvc", "d", "--out-pvc", "o", "-o", str(tmp_path / "job.yaml"), "--submit"]) == 1
    assert "not submitted: the Kubernetes API server cannot be reached" in capsys.readouterr().err

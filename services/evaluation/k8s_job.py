"""`percept-eval k8s-job`: a Kubernetes Indexed Job that runs the harness (or the data engine)
one shard per pod.

`completionMode: Indexed` gives pod k the index k in `JOB_COMPLETION_INDEX`; the Job also sets
`PERCEPT_EVAL_SHARD_COUNT` to its completions, so `Shard.from_env()` in each pod names shard
k of n -- Kubernetes schedules, retries (`backoffLimitPerIndex`) and reports; there is no
scheduler of our own. Every pod mounts the data read-only at /data and the output volume at
/out, writes into /out/shard-k (a shard's run directory, resumable when the pod is retried),
(the data engine: one shared directory of shard files), runs without a service-account token,
with resource requests and limits and a restricted security context.
`percept-eval merge --out /out/merged /out/shard-*` combines them.

Built from the `kubernetes` client's models and serialised with its ApiClient, so the
output is what the API server takes; tests validate it offline against the schema.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys

import yaml
from kubernetes import client

from .shards import COUNT_ENV, INDEX_ENV

DATA_MOUNT = "/data"
OUT_MOUNT = "/out"
SCRATCH_MOUNT = "/tmp"
SCRATCH_SIZE = "1Gi"
TASKS = ("run", "synth")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, choices=TASKS, help="run: the harness; synth: the data engine")
    parser.add_argument("--name", required=True, help="the Job's name (a DNS label)")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--image", required=True, help="container image holding percept (percept-eval on PATH)")
    parser.add_argument("--parallelism", type=int, required=True, help="pods running at the same time")
    parser.add_argument("--completions", type=int, default=None, help="shards (default: --parallelism)")
    parser.add_argument("--data-pvc", required=True, help="PersistentVolumeClaim holding the split (mounted "
                        f"read-only at {DATA_MOUNT})")
    parser.add_argument("--out-pvc", required=True, help=f"PersistentVolumeClaim for the outputs ({OUT_MOUNT})")
    parser.add_argument("--sandbox", default=None, help="sandbox-runner host:port the pods render with "
                        "(e.g. the helm chart's service)")
    parser.add_argument("--cpu", default="2", help="CPU request and limit per pod")
    parser.add_argument("--memory", default="4Gi", help="memory request and limit per pod")
    parser.add_argument("--backoff-limit-per-index", type=int, default=3)
    parser.add_argument("--args", dest="task_args", default="",
                        help="the task's own arguments, paths under /data and /out "
                             "(e.g. \"--data /data/test.jsonl --images /data/images --backend openai\")")
    parser.add_argument("--output", "-o", default="-", help="where to write the YAML (default stdout)")
    parser.add_argument("--submit", action="store_true", help="also create the Job through the Kubernetes API "
                        "(kubeconfig or in-cluster configuration)")


def container_command(task: str, task_args: list[str]) -> list[str]:
    """The pod's command. `run`: each shard writes its own run directory under the output
    volume (merge them with `percept-eval merge`). `synth`: the data engine names its shard
    files itself, so its --out/--split (in the task's arguments) is one directory under /out."""
    if task == "run":
        shard_dir = f"{OUT_MOUNT}/shard-$({INDEX_ENV})"  # Kubernetes expands $(VAR) from the container's env
        return ["percept-eval", "run", *task_args, "--out", shard_dir]
    return ["percept-eval", "synth", *task_args]


def build_job(*, task: str, name: str, image: str, parallelism: int, completions: int | None = None,
              data_pvc: str, out_pvc: str, namespace: str = "default", sandbox: str | None = None,
              cpu: str = "2", memory: str = "4Gi", backoff_limit_per_index: int = 3,
              task_args: list[str] | None = None) -> client.V1Job:
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}")
    completions = parallelism if completions is None else completions
    if parallelism < 1 or completions < 1:
        raise ValueError("parallelism and completions must be 1 or more")
    labels = {"app.kubernetes.io/name": "percept-eval", "app.kubernetes.io/component": task,
              "app.kubernetes.io/instance": name}
    env = [# the Job controller sets this one too; declared here so the command's $(...) expansion can name it
           client.V1EnvVar(name=INDEX_ENV, value_from=client.V1EnvVarSource(field_ref=client.V1ObjectFieldSelector(
               field_path="metadata.annotations['batch.kubernetes.io/job-completion-index']"))),
           client.V1EnvVar(name=COUNT_ENV, value=str(completions)),
           client.V1EnvVar(name="PYTHONUNBUFFERED", value="1"),
           # the root filesystem is read-only: scratch space (matplotlib's cache for the report) is /tmp
           client.V1EnvVar(name="HOME", value=SCRATCH_MOUNT),
           client.V1EnvVar(name="MPLCONFIGDIR", value=f"{SCRATCH_MOUNT}/matplotlib")]
    if sandbox:
        env.append(client.V1EnvVar(name="PERCEPT_EVAL_SANDBOX_URL" if task == "run" else "PERCEPT_SYNTH_SANDBOX_URL",
                                   value=sandbox))
    resources = client.V1ResourceRequirements(requests={"cpu": cpu, "memory": memory},
                                              limits={"cpu": cpu, "memory": memory})
    container = client.V1Container(
        name=task, image=image, command=container_command(task, task_args or []), env=env, resources=resources,
        volume_mounts=[client.V1VolumeMount(name="data", mount_path=DATA_MOUNT, read_only=True),
                       client.V1VolumeMount(name="out", mount_path=OUT_MOUNT),
                       client.V1VolumeMount(name="scratch", mount_path=SCRATCH_MOUNT)],
        security_context=client.V1SecurityContext(
            allow_privilege_escalation=False, run_as_non_root=True, read_only_root_filesystem=True,
            capabilities=client.V1Capabilities(drop=["ALL"]),
            seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault")))
    pod = client.V1PodSpec(
        restart_policy="Never", automount_service_account_token=False, enable_service_links=False,
        containers=[container],
        security_context=client.V1PodSecurityContext(run_as_non_root=True, run_as_user=65532, run_as_group=65532,
                                                     fs_group=65532,
                                                     seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault")),
        volumes=[client.V1Volume(name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                     claim_name=data_pvc, read_only=True)),
                 client.V1Volume(name="out", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
                     claim_name=out_pvc)),
                 client.V1Volume(name="scratch", empty_dir=client.V1EmptyDirVolumeSource(size_limit=SCRATCH_SIZE))])
    return client.V1Job(
        api_version="batch/v1", kind="Job",
        metadata=client.V1ObjectMeta(name=name, namespace=namespace, labels=labels),
        spec=client.V1JobSpec(
            completion_mode="Indexed", completions=completions, parallelism=parallelism,
            backoff_limit_per_index=backoff_limit_per_index, max_failed_indexes=completions,
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=pod)))


def to_dict(job: client.V1Job) -> dict:
    return client.ApiClient().sanitize_for_serialization(job)


def to_yaml(job: client.V1Job) -> str:
    return yaml.safe_dump(to_dict(job), sort_keys=False)


class SubmitError(RuntimeError):
    """The Job could not be created through the Kubernetes API."""


def submit(job: client.V1Job) -> str:
    from kubernetes import config as kube_config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException

    try:
        try:
            kube_config.load_incluster_config()
        except ConfigException:
            # read KUBECONFIG now (the client reads it once, when first imported)
            kube_config.load_kube_config(config_file=os.environ.get("KUBECONFIG") or None)
    except (ConfigException, OSError) as exc:
        raise SubmitError(f"no Kubernetes configuration found (in-cluster or kubeconfig): {exc}") from None
    try:
        created = client.BatchV1Api().create_namespaced_job(job.metadata.namespace, job, _request_timeout=30)
    except ApiException as exc:
        raise SubmitError(f"the API server refused the Job: HTTP {exc.status} {exc.reason}") from None
    except Exception as exc:  # urllib3's connection errors and the like: the cluster cannot be reached
        raise SubmitError(f"the Kubernetes API server cannot be reached ({type(exc).__name__}: {exc})") from None
    return created.metadata.name


def main(args: argparse.Namespace) -> int:
    try:
        job = build_job(task=args.task, name=args.name, image=args.image, parallelism=args.parallelism,
                        completions=args.completions, data_pvc=args.data_pvc, out_pvc=args.out_pvc,
                        namespace=args.namespace, sandbox=args.sandbox, cpu=args.cpu, memory=args.memory,
                        backoff_limit_per_index=args.backoff_limit_per_index,
                        task_args=shlex.split(args.task_args))
    except ValueError as exc:
        print(f"percept-eval k8s-job: {exc}", file=sys.stderr)
        return 2
    text = to_yaml(job)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    if args.submit:
        try:
            name = submit(job)
        except SubmitError as exc:
            print(f"percept-eval k8s-job: not submitted: {exc}", file=sys.stderr)
            return 1
        print(f"percept-eval k8s-job: created job {args.namespace}/{name}", file=sys.stderr)
    return 0

"""`make up` / `make down`: the whole platform as local processes.

Each component runs as a real process in its own process group, so stopping it
(Ctrl-C, `make down`, or a failed start) also stops everything it spawned. The pids
are written to a state file, which `down` reads; ports are checked free before a
start so a stale process is reported instead of silently shadowing the new one.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.common.net import http_ok, port_is_free
from services.common.settings import env

COMPONENT = "devstack"
STATE_DIR = env("PERCEPT_DEVSTACK_DIR", ".devstack",
                "Where `make up` keeps its pid file and component logs.", component=COMPONENT)
START_TIMEOUT_S = env("PERCEPT_DEVSTACK_START_TIMEOUT_S", 180.0,
                      "How long `make up` waits for each component to become healthy.", component=COMPONENT)
BIND_HOST = "127.0.0.1"


@dataclass
class Component:
    name: str
    command: list[str]
    health_url: str
    ports: list[int]
    urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None


def plan_components(artifacts: Path) -> list[Component]:
    """The processes `make up` starts, in dependency order, with ports from the settings."""
    from gateway import settings as gateway_settings
    from percept_sandbox import settings as sandbox_settings
    from services.triton import settings as triton_settings

    python = sys.executable
    triton_http = triton_settings.HTTP_PORT.get()
    triton_grpc = triton_settings.GRPC_PORT.get()
    triton_metrics = triton_settings.METRICS_PORT.get()
    sandbox_grpc = sandbox_settings.GRPC_PORT.get()
    sandbox_metrics = sandbox_settings.METRICS_PORT.get()
    gateway_port = gateway_settings.PORT.get()
    repository = artifacts / "model_repository"

    return [
        Component(
            name="triton",
            command=[python, "-m", "services.triton.launcher", "--model-repository", str(repository)],
            health_url=f"http://{BIND_HOST}:{triton_http}/v2/health/ready",
            ports=[triton_http, triton_grpc, triton_metrics],
            urls={
                "Triton HTTP (KServe v2)": f"http://{BIND_HOST}:{triton_http}",
                "Triton gRPC": f"{BIND_HOST}:{triton_grpc}",
                "Triton metrics": f"http://{BIND_HOST}:{triton_metrics}/metrics",
            },
        ),
        Component(
            name="sandbox-runner",
            command=[python, "-m", "percept_sandbox.cli", "serve"],
            health_url=f"http://{BIND_HOST}:{sandbox_metrics}/metrics",
            ports=[sandbox_grpc, sandbox_metrics],
            urls={
                "sandbox-runner gRPC": f"{BIND_HOST}:{sandbox_grpc}",
                "sandbox-runner metrics": f"http://{BIND_HOST}:{sandbox_metrics}/metrics",
            },
        ),
        Component(
            name="gateway",
            command=[python, "-m", "gateway"],
            health_url=f"http://{BIND_HOST}:{gateway_port}/readyz",
            ports=[gateway_port],
            urls={
                "gateway": f"http://{BIND_HOST}:{gateway_port}",
                "gateway OpenAPI docs": f"http://{BIND_HOST}:{gateway_port}/docs",
                "gateway metrics": f"http://{BIND_HOST}:{gateway_port}/metrics",
            },
            env={"PERCEPT_TRITON_URL": f"{BIND_HOST}:{triton_grpc}"},
        ),
    ]


def _state_file() -> Path:
    return Path(STATE_DIR.get()) / "state.json"


def _write_state(components: list[Component]) -> None:
    groups = {c.name: c.process.pid for c in components if c.process is not None}
    _state_file().write_text(json.dumps({"supervisor": os.getpid(), "groups": groups}))


def _stop_group(pid: int, grace_s: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after the grace period."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        # Reap our own child so the group can disappear.
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_all(components: list[Component]) -> None:
    for component in reversed(components):
        if component.process is not None:
            print(f"stopping {component.name} ...", flush=True)
            _stop_group(component.process.pid)
            component.process.wait()
    _state_file().unlink(missing_ok=True)


def _start(component: Component, log_dir: Path) -> None:
    busy = [p for p in component.ports if not port_is_free(p, BIND_HOST)]
    if busy:
        raise RuntimeError(f"{component.name}: port(s) {busy} already in use "
                           "(is an earlier `make up` still running? try `make down`)")
    log_path = log_dir / f"{component.name}.log"
    log = open(log_path, "ab")
    env_vars = {**os.environ, **component.env}
    component.process = subprocess.Popen(component.command, stdout=log, stderr=subprocess.STDOUT,
                                         env=env_vars, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S.get()
    while not http_ok(component.health_url):
        if component.process.poll() is not None:
            raise RuntimeError(f"{component.name} exited with code {component.process.returncode}; "
                               f"see {log_path}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{component.name} not healthy after {START_TIMEOUT_S.get():.0f}s; see {log_path}")
        time.sleep(0.5)
    print(f"  {component.name} is healthy (pid {component.process.pid}, log {log_path})", flush=True)


def up(artifacts: Path) -> int:
    state_dir = Path(STATE_DIR.get())
    state_dir.mkdir(parents=True, exist_ok=True)
    if _state_file().exists():
        down()
    components = plan_components(artifacts)
    stopping = False

    def on_signal(signum, _frame):  # Ctrl-C or `make down` from another shell
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for component in components:
            print(f"starting {component.name} ...", flush=True)
            _start(component, state_dir)
            _write_state(components)
        print("\npercept is up:")
        for component in components:
            for label, url in component.urls.items():
                print(f"  {label:28s} {url}")
        print("\nCtrl-C (or `make down` from another shell) stops everything.", flush=True)
        while True:
            for component in components:
                if component.process.poll() is not None:
                    print(f"{component.name} exited with code {component.process.returncode}; stopping",
                          flush=True)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(components)
        print("stopped.", flush=True)


def down() -> int:
    path = _state_file()
    if not path.exists():
        print("nothing to stop")
        return 0
    state = json.loads(path.read_text())
    # Ask the supervisor first: it stops its components in order and removes the state file.
    supervisor = state.get("supervisor")
    if supervisor and supervisor != os.getpid():
        try:
            os.kill(supervisor, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while path.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
        except ProcessLookupError:
            pass
    # Whatever is still there (the supervisor was killed hard, say) is stopped by group.
    for name, pid in reversed(list(state.get("groups", {}).items())):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            continue
        print(f"stopping {name} (pid {pid}) ...", flush=True)
        _stop_group(pid)
    path.unlink(missing_ok=True)
    print("stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start every component and wait until healthy")
    up_parser.add_argument("--artifacts", type=Path, default=Path("artifacts"))
    sub.add_parser("down", help="stop what `up` started")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args.artifacts)
    return down()


if __name__ == "__main__":
    sys.exit(main())

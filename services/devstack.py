"""`make up` / `make down`: the whole platform as local, supervised processes.

Each component runs as a real process in its own process group, so stopping it
(Ctrl-C, `make down`, a restart) also stops everything it spawned. Components start in
dependency order, each ready before the next starts. From then on devstack supervises
them: a component that exits is restarted after a backoff (1 s, 2 s, 4 s ... capped),
and counts as back once its health check passes again; the others keep running (the
gateway answers 503 while Triton is away and recovers by itself). A failure is an exit,
or a start that does not get healthy in time; after PERCEPT_DEVSTACK_MAX_RESTARTS
consecutive failed restarts of one component the whole stack stops and `make up` exits
non-zero. A restarted component that stays up for PERCEPT_DEVSTACK_STABLE_S has its
count reset. Every restart is announced on devstack's stdout and in the component's log.

The pids are written to a state file, which `down` reads; ports are checked free before
the first start so a stale process is reported instead of silently shadowing the new one.
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

from percept_sandbox import settings as sandbox_settings
from services.common import limits
from services.common.net import http_ok, port_is_free
from services.common.settings import env, exit_on_invalid, non_negative, positive
from services.settings_catalog import import_all_settings

COMPONENT = "devstack"
STATE_DIR = env("PERCEPT_DEVSTACK_DIR", ".devstack",
                "Where `make up` keeps its pid file and component logs.", component=COMPONENT)
START_TIMEOUT_S = env("PERCEPT_DEVSTACK_START_TIMEOUT_S", 180.0,
                      "How long `make up` waits for a component to become healthy (after each restart too).",
                      component=COMPONENT, check=positive)
MAX_RESTARTS = env("PERCEPT_DEVSTACK_MAX_RESTARTS", 5,
                   "Consecutive failed restarts of one component after which `make up` stops everything "
                   "and exits non-zero.", component=COMPONENT, check=non_negative)
RESTART_BACKOFF_S = env("PERCEPT_DEVSTACK_RESTART_BACKOFF_S", 1.0,
                        "Delay before restarting a component that exited; doubles with each consecutive failure.",
                        component=COMPONENT, check=positive)
RESTART_BACKOFF_MAX_S = env("PERCEPT_DEVSTACK_RESTART_BACKOFF_MAX_S", 30.0,
                            "Longest delay between two restarts of a component.", component=COMPONENT,
                            check=positive)
STABLE_S = env("PERCEPT_DEVSTACK_STABLE_S", 60.0,
               "How long a restarted component must stay up for its count of failed restarts to reset.",
               component=COMPONENT, check=positive)
BIND_HOST = "127.0.0.1"
POLL_S = 0.2
PORT_RELEASE_S = 10.0   # a component that just died may hold its ports a moment longer (children exiting)
SETTINGS_CHECKED_AT_START = (COMPONENT, "triton", "gateway", "limits", "codeperception")
SAMPLE_DATASET = "stem2code-sample"   # under --artifacts: the reference backend's data (`make models` builds it)
RETRIEVAL_INDEX = "retrieval-index.npz"  # under --artifacts: the retrieval backend's (`make retrieval-index`)


@dataclass
class Component:
    name: str
    command: list[str]
    health_url: str            # "it is up": checked after every (re)start
    ports: list[int]
    urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # The first start waits for this instead (e.g. the gateway's readiness, which needs Triton);
    # a restart only needs the component's own health, whatever its dependencies are doing.
    ready_url: str | None = None
    stop_grace_s: float = 10.0
    process: subprocess.Popen | None = None
    log_path: Path | None = None


@dataclass(frozen=True)
class RestartPolicy:
    max_restarts: int
    backoff_s: float
    backoff_max_s: float
    stable_s: float
    start_timeout_s: float

    @classmethod
    def from_settings(cls) -> "RestartPolicy":
        return cls(max_restarts=MAX_RESTARTS.get(), backoff_s=RESTART_BACKOFF_S.get(),
                   backoff_max_s=RESTART_BACKOFF_MAX_S.get(), stable_s=STABLE_S.get(),
                   start_timeout_s=START_TIMEOUT_S.get())

    def delay(self, failures: int) -> float:
        """Seconds before restart number `failures` (1, 2, ...): doubling from backoff_s, capped."""
        return min(self.backoff_s * 2 ** (failures - 1), self.backoff_max_s)


class GiveUp(RuntimeError):
    """A component kept failing: the stack stops."""


def codeperception_backend(artifacts: Path, codepercept_mini: Path | None) -> dict[str, str]:
    """The code-perception backend `make up` runs, unless one is configured: `verified` (CodePercept-mini,
    which `make models` serves, and the retrieval index published beside it) when that index is in the
    published directory, else `reference` (the embedded sample; a fork without trained weights)."""
    from services.codeperception import settings as codeperception_settings
    from services.models.codepercept.config import INDEX_FILE

    published = codepercept_mini / INDEX_FILE if codepercept_mini is not None else None
    verified = published is not None and published.is_file()
    return {
        codeperception_settings.BACKEND.name: os.environ.get(codeperception_settings.BACKEND.name)
        or ("verified" if verified else "reference"),
        # the embedded dataset of this --artifacts, unless one is configured
        codeperception_settings.DATASET_DIR.name: os.environ.get(codeperception_settings.DATASET_DIR.name)
        or str(artifacts / SAMPLE_DATASET),
        # the published retrieval index, else this --artifacts' (`make retrieval-index`), unless one is configured
        codeperception_settings.RETRIEVAL_INDEX.name: os.environ.get(codeperception_settings.RETRIEVAL_INDEX.name)
        or str(published if verified else artifacts / RETRIEVAL_INDEX),
    }


def plan_components(artifacts: Path, codepercept_mini: Path | None = None) -> list[Component]:
    """The processes `make up` starts, in dependency order, with ports from the settings
    (`codepercept_mini`: the directory CodePercept-mini is published in, if any)."""
    from gateway import settings as gateway_settings
    from services.codeperception import settings as codeperception_settings
    from services.triton import settings as triton_settings

    python = sys.executable
    triton_http = triton_settings.HTTP_PORT.get()
    triton_grpc = triton_settings.GRPC_PORT.get()
    triton_metrics = triton_settings.METRICS_PORT.get()
    sandbox_grpc = sandbox_settings.GRPC_PORT.get()
    sandbox_metrics = sandbox_settings.METRICS_PORT.get()
    codeperception_grpc = codeperception_settings.GRPC_PORT.get()
    codeperception_metrics = codeperception_settings.METRICS_PORT.get()
    codeperception_url = f"{BIND_HOST}:{codeperception_grpc}"
    gateway_port = gateway_settings.PORT.get()
    repository = artifacts / "model_repository"
    gateway_url = f"http://{BIND_HOST}:{gateway_port}"

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
            # The launcher itself waits this long for tritonserver before killing it.
            stop_grace_s=triton_settings.STOP_GRACE_S.get() + 5,
        ),
        sandbox_component(sandbox_grpc, sandbox_metrics),
        Component(
            name="codeperception",
            command=[python, "-m", "services.codeperception"],
            # /metrics is served once the backend is checked and the gRPC port is bound.
            health_url=f"http://{BIND_HOST}:{codeperception_metrics}/metrics",
            ports=[codeperception_grpc, codeperception_metrics],
            urls={
                "code-perception gRPC": codeperception_url,
                "code-perception metrics": f"http://{BIND_HOST}:{codeperception_metrics}/metrics",
            },
            env={"PERCEPT_CODEPERCEPTION_SANDBOX_URL": f"{BIND_HOST}:{sandbox_grpc}",
                 codeperception_settings.TRITON_URL.name: f"{BIND_HOST}:{triton_grpc}",
                 **codeperception_backend(artifacts, codepercept_mini)},
        ),
        Component(
            name="gateway",
            command=[python, "-m", "gateway"],
            health_url=f"{gateway_url}/healthz",
            ready_url=f"{gateway_url}/readyz",
            ports=[gateway_port],
            urls={
                "gateway": gateway_url,
                "try it in a browser": f"{gateway_url}/ui/",
                "gateway OpenAPI docs": f"{gateway_url}/docs",
                "gateway metrics": f"{gateway_url}/metrics",
            },
            env={"PERCEPT_GATEWAY_TRITON_URL": f"{BIND_HOST}:{triton_grpc}",
                 "PERCEPT_CODEPERCEPTION_URL": codeperception_url},
        ),
    ]


def sandbox_component(grpc_port: int, metrics_port: int, *args: str) -> Component:
    """The sandbox-runner as `make up` runs it, on these ports, with the platform's code-size limit
    (PERCEPT_MAX_CODE_BYTES, which the gateway and code perception check: the runner cannot import
    it); its own settings for the rest. `args`: more `percept-sandbox serve` flags, e.g. --workers."""
    return Component(
        name="sandbox-runner",
        command=[sys.executable, "-m", "percept_sandbox.cli", "serve", *args],
        health_url=f"http://{BIND_HOST}:{metrics_port}/metrics",
        ports=[grpc_port, metrics_port],
        urls={
            "sandbox-runner gRPC": f"{BIND_HOST}:{grpc_port}",
            "sandbox-runner metrics": f"http://{BIND_HOST}:{metrics_port}/metrics",
        },
        env={"PERCEPT_SANDBOX_GRPC_PORT": str(grpc_port), "PERCEPT_SANDBOX_METRICS_PORT": str(metrics_port),
             sandbox_settings.MAX_CODE_BYTES.name: str(limits.MAX_CODE_BYTES.get())},
    )


# --- processes ----------------------------------------------------------------------------

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


def stop_component(component: Component) -> None:
    """Stop a component and everything it spawned (its process group)."""
    if component.process is not None:
        _stop_group(component.process.pid, component.stop_grace_s)
        component.process.wait()


def stop_all(components: list[Component]) -> None:
    for component in reversed(components):
        if component.process is not None:
            print(f"stopping {component.name} ...", flush=True)
            stop_component(component)
    _state_file().unlink(missing_ok=True)


def _busy_ports(component: Component) -> list[int]:
    return [p for p in component.ports if not port_is_free(p, BIND_HOST)]


def _spawn(component: Component, log_dir: Path) -> None:
    component.log_path = log_dir / f"{component.name}.log"
    with open(component.log_path, "ab") as log:
        component.process = subprocess.Popen(component.command, stdout=log, stderr=subprocess.STDOUT,
                                             env={**os.environ, **component.env}, start_new_session=True)


def _note(component: Component, message: str, *, to_stderr: bool = False) -> None:
    """A supervision event, on devstack's output and in the component's own log. The stream
    is looked up when the event happens (not bound at import), so it is the current one."""
    print(message, file=sys.stderr if to_stderr else sys.stdout, flush=True)
    if component.log_path is not None:
        with open(component.log_path, "a") as log:
            log.write(f"[devstack {time.strftime('%H:%M:%S')}] {message}\n")


def start_once(component: Component, log_dir: Path, timeout_s: float | None = None) -> None:
    """Start one component and wait until it is healthy, without supervision: for a tool that
    needs a component for its own lifetime (`make eval-demo`); stop it with stop_component.
    Raises RuntimeError (the component stopped) when it exits or is not healthy in time."""
    _spawn(component, log_dir)
    timeout_s = START_TIMEOUT_S.get() if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    while not http_ok(component.ready_url or component.health_url):
        code = component.process.poll()
        if code is not None or time.monotonic() > deadline:
            stop_component(component)
            why = f"exited with code {code}" if code is not None else f"not healthy after {timeout_s:.0f}s"
            raise RuntimeError(f"{component.name} did not start: {why} (log {component.log_path})")
        time.sleep(POLL_S)


# --- supervision ----------------------------------------------------------------------------

@dataclass
class _Watch:
    """Where one component stands: starting (until healthy or deadline), up, or waiting to restart."""
    component: Component
    failures: int = 0                 # consecutive failures since it was last stably up
    up_since: float | None = None     # healthy since (monotonic); None while starting or waiting
    deadline: float = 0.0             # while starting: when the start counts as failed
    restart_at: float | None = None   # while waiting: when to start it again
    first_start: bool = True          # until the first start is healthy: wait for ready_url


class Supervisor:
    def __init__(self, components: list[Component], log_dir: Path, policy: RestartPolicy) -> None:
        self.components = components
        self.log_dir = log_dir
        self.policy = policy
        self.watches: list[_Watch] = []
        self.stopping = False

    def run(self) -> None:
        """Start in dependency order, then supervise until `stopping`; GiveUp if a component keeps failing."""
        pending = list(self.components)
        announced = False
        while not self.stopping:
            now = time.monotonic()
            for watch in self.watches:
                self._check(watch, now)
            all_up = all(w.up_since is not None for w in self.watches)
            if pending and all_up:
                self._start_first(pending.pop(0))
            elif not pending and all_up and not announced:
                self._announce()
                announced = True
            time.sleep(POLL_S)

    def _start_first(self, component: Component) -> None:
        busy = _busy_ports(component)
        if busy:
            raise RuntimeError(f"{component.name}: port(s) {busy} already in use "
                               "(is an earlier `make up` still running? try `make down`)")
        print(f"starting {component.name} ...", flush=True)
        watch = _Watch(component)
        self.watches.append(watch)
        self._launch(watch, time.monotonic())

    def _launch(self, watch: _Watch, now: float) -> None:
        _spawn(watch.component, self.log_dir)
        watch.up_since, watch.restart_at = None, None
        watch.deadline = now + self.policy.start_timeout_s
        _write_state(self.components)

    def _check(self, watch: _Watch, now: float) -> None:
        component = watch.component
        if watch.restart_at is not None:
            if now >= watch.restart_at:
                self._restart(watch)
            return
        code = component.process.poll()
        if code is not None:
            self._failed(watch, f"exited unexpectedly with code {code}")
        elif watch.up_since is None:
            url = component.ready_url if watch.first_start and component.ready_url else component.health_url
            if http_ok(url):
                watch.up_since, watch.first_start = now, False
                again = (f" again (restart attempt {watch.failures}/{self.policy.max_restarts})"
                         if watch.failures else "")
                _note(component, f"  {component.name} is healthy{again} (pid {component.process.pid}, "
                                 f"log {component.log_path})")
            elif now > watch.deadline:
                self._failed(watch, f"was not healthy {self.policy.start_timeout_s:.0f}s after starting")
        elif watch.failures and now - watch.up_since >= self.policy.stable_s:
            _note(component, f"{component.name} has stayed up for {self.policy.stable_s:.0f}s; "
                             "its count of failed restarts is reset")
            watch.failures = 0

    def _failed(self, watch: _Watch, reason: str) -> None:
        component = watch.component
        stop_component(component)  # what it spawned goes too, before anything takes its ports again
        watch.failures += 1
        watch.up_since = None
        limit = self.policy.max_restarts
        if watch.failures > limit:
            message = (f"{component.name} {reason}; it failed {limit} restart(s) in a row, giving up "
                       f"(see {component.log_path})")
            _note(component, f"error: {message}", to_stderr=True)
            raise GiveUp(message)
        delay = self.policy.delay(watch.failures)
        _note(component, f"{component.name} {reason}; restarting it in {delay:.1f}s "
                         f"(attempt {watch.failures}/{limit})")
        watch.restart_at = time.monotonic() + delay

    def _restart(self, watch: _Watch) -> None:
        component = watch.component
        deadline = time.monotonic() + PORT_RELEASE_S
        while _busy_ports(component) and time.monotonic() < deadline and not self.stopping:
            time.sleep(POLL_S)
        if self.stopping:
            return
        _note(component, f"restarting {component.name} (attempt {watch.failures}/{self.policy.max_restarts}) ...")
        self._launch(watch, time.monotonic())

    def _announce(self) -> None:
        print("\npercept is up:")
        for component in self.components:
            for label, url in component.urls.items():
                print(f"  {label:28s} {url}")
        print("\nCtrl-C (or `make down` from another shell) stops everything.", flush=True)


# --- commands --------------------------------------------------------------------------------

def up(artifacts: Path, codepercept_mini: Path | None = None) -> int:
    state_dir = Path(STATE_DIR.get())
    state_dir.mkdir(parents=True, exist_ok=True)
    if _state_file().exists():
        down()
    components = plan_components(artifacts, codepercept_mini)
    supervisor = Supervisor(components, state_dir, RestartPolicy.from_settings())

    def on_signal(signum, _frame):  # Ctrl-C or `make down` from another shell
        supervisor.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        supervisor.run()
        return 0
    except GiveUp:
        return 1
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
            deadline = time.monotonic() + 60
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
    parser = argparse.ArgumentParser(prog="python -m services.devstack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start every component, wait until healthy, supervise")
    up_parser.add_argument("--artifacts", type=Path, default=Path("artifacts"))
    up_parser.add_argument("--codepercept-mini", type=Path, default=None, metavar="DIR",
                           help="where CodePercept-mini is published (make up: models/codepercept-mini); with "
                                "its retrieval index there, code perception runs the verified backend")
    sub.add_parser("down", help="stop what `up` started")
    args = parser.parse_args(argv)
    if args.command == "up":
        # Its own settings and those of the components it starts, checked before anything starts:
        # a malformed value is one clear message, not a component failing its restarts.
        import_all_settings()
        exit_on_invalid("make up", *SETTINGS_CHECKED_AT_START)
        return up(args.artifacts, args.codepercept_mini)
    return down()


if __name__ == "__main__":
    sys.exit(main())

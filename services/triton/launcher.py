"""Start and stop a real tritonserver process.

Locally (and in CI) the server is the one shipped in the `nvidia-pytriton` wheel:
its binary, python backend, per-Python-version stubs and shared libraries. The
launcher assembles a backend directory (the python backend plus the stub for the
running interpreter), points the loader at the wheel's libraries and the running
interpreter's libpython, and gives the stub an environment (services.triton.stubenv)
in which the python models import `services.*` and everything this venv has. In a
container image with NVIDIA's tritonserver the binary and backend directory are given
through the settings instead.

The server runs in its own process group; stopping sends SIGTERM to the group, then
SIGKILL to whatever is left, so no python-backend stub outlives it.

CLI (used by `make up`): python -m services.triton.launcher --model-repository DIR
"""
from __future__ import annotations

import argparse
import ctypes
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from pathlib import Path
from typing import Sequence

from services.common.net import find_free_ports, http_ok, port_is_free
from services.common.settings import exit_on_invalid
from services.triton import settings, stubenv

REPO_ROOT = Path(__file__).resolve().parents[2]
_LOG_TAIL_CHARS = 4000
_LOG_LINE_CHARS = 600


class TritonLaunchError(RuntimeError):
    """The server could not be found, assembled, started or made ready."""


# --- locating the wheel's server -------------------------------------------------

def wheel_server_dir() -> Path:
    """`<site-packages>/pytriton/tritonserver`, found without importing pytriton
    (its Python API pins numpy<2; only the binary and backend are used)."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.submodule_search_locations:
        raise TritonLaunchError("nvidia-pytriton is not installed (run `make setup`)")
    server_dir = Path(list(spec.submodule_search_locations)[0]) / "tritonserver"
    if not (server_dir / "bin" / "tritonserver").is_file():
        raise TritonLaunchError(f"no tritonserver binary under {server_dir}")
    return server_dir


def wheel_libs_dir(server_dir: Path) -> Path:
    # auditwheel's vendored libraries sit beside the package: site-packages/nvidia_pytriton.libs
    return server_dir.parent.parent / "nvidia_pytriton.libs"


def python_stub(server_dir: Path) -> Path:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = server_dir / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.is_file():
        raise TritonLaunchError(f"the wheel has no python backend stub for Python {version}")
    return stub


def assemble_backend_directory(server_dir: Path, workspace: Path) -> Path:
    """backends/python = the wheel's python backend + the stub for this Python.

    The backend looks for the stub next to libtriton_python.so, so both are copied
    into one directory (the wheel keeps one stub per Python version elsewhere)."""
    backends = workspace / "backends"
    python_dir = backends / "python"
    python_dir.mkdir(parents=True, exist_ok=True)
    for item in (server_dir / "backends" / "python").iterdir():
        if item.is_file():
            shutil.copy2(item, python_dir / item.name)
    shutil.copy2(python_stub(server_dir), python_dir / "triton_python_backend_stub")
    return backends


def server_environment(libs_dirs: Sequence[Path], stub_bin: Path | None,
                       base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the server and, through it, of the python-backend stubs.

    The stub embeds libpython (the running interpreter's comes first on the loader
    path) and takes its environment from the first `python3` on PATH; it ignores
    PYTHONPATH. `stub_bin` is the overlay environment of services.triton.stubenv; without
    it the stub runs in this interpreter's (virtual) environment."""
    env = dict(os.environ if base is None else base)
    loader_path = [str(p) for p in libs_dirs]
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir and sysconfig.get_config_var("Py_ENABLE_SHARED"):
        loader_path.insert(0, libdir)
    if env.get("LD_LIBRARY_PATH"):
        loader_path.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = os.pathsep.join(loader_path)
    path = [str(stub_bin)] if stub_bin is not None else []
    path.append(str(Path(sys.executable).parent))
    env["PATH"] = os.pathsep.join(path + [env.get("PATH", "")])
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def has_nvidia_gpu() -> bool:
    return Path("/dev/nvidiactl").exists()


# --- process-group helpers ---------------------------------------------------------

def process_group_members(pgid: int) -> list[int]:
    """Pids of non-zombie processes in a process group (zombies hold no ports)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..."; comm may contain spaces, so split after ')'
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _die_with_parent() -> None:
    """preexec: SIGTERM the server if the launching thread dies (e.g. a killed test run)."""
    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


# --- the server ----------------------------------------------------------------------

class TritonServer:
    """A tritonserver subprocess serving one model repository.

        with TritonServer("artifacts/model_repository", http_port=0, ...) as server:
            server.grpc_url  # "127.0.0.1:8001"

    Ports default to the settings; pass 0 to pick free ones. `start()` returns once
    the process is spawned, `wait_ready()` once /v2/health/ready answers 200 (every
    model loaded and warmed up); the context manager does both, and `stop()`.

    With `die_with_parent` (the default) the server gets SIGTERM when the *thread* that
    started it exits (Linux's parent-death signal); start it from a long-lived thread,
    or pass False and rely on stop().
    """

    def __init__(
        self,
        model_repository: str | os.PathLike,
        *,
        host: str | None = None,
        http_port: int | None = None,
        grpc_port: int | None = None,
        metrics_port: int | None = None,
        log_verbose: int | None = None,
        server_binary: str | os.PathLike | None = None,
        backend_directory: str | os.PathLike | None = None,
        workspace: str | os.PathLike | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        inherit_output: bool = False,
        die_with_parent: bool = True,
        startup_timeout_s: float | None = None,
        stop_grace_s: float | None = None,
    ) -> None:
        self.model_repository = Path(model_repository).resolve()
        self.host = host or settings.HOST.get()
        requested = [settings.HTTP_PORT.get() if http_port is None else http_port,
                     settings.GRPC_PORT.get() if grpc_port is None else grpc_port,
                     settings.METRICS_PORT.get() if metrics_port is None else metrics_port]
        free = iter(find_free_ports(requested.count(0), self.host))
        self.http_port, self.grpc_port, self.metrics_port = (p or next(free) for p in requested)
        self.log_verbose = settings.LOG_VERBOSE.get() if log_verbose is None else log_verbose
        self._server_binary = server_binary or settings.SERVER_BINARY.get() or None
        self._backend_directory = backend_directory or settings.BACKEND_DIRECTORY.get() or None
        self._workspace_arg = workspace or settings.WORKSPACE.get() or None
        self.extra_args = list(extra_args)
        self._env_overrides = dict(env or {})
        self.inherit_output = inherit_output
        self.die_with_parent = die_with_parent
        self.startup_timeout_s = settings.STARTUP_TIMEOUT_S.get() if startup_timeout_s is None \
            else startup_timeout_s
        self.stop_grace_s = settings.STOP_GRACE_S.get() if stop_grace_s is None else stop_grace_s
        self.process: subprocess.Popen | None = None
        self.workspace: Path | None = None
        self._owns_workspace = False
        self._log_path: Path | None = None
        self._final_log = ""
        self.shm_prefix = f"percept_triton_{uuid.uuid4().hex[:12]}_"

    # URLs in the forms the clients expect
    @property
    def http_url(self) -> str:
        return f"http://{self._client_host}:{self.http_port}"

    @property
    def grpc_url(self) -> str:
        """host:port, as tritonclient.grpc.InferenceServerClient(url=...) takes it."""
        return f"{self._client_host}:{self.grpc_port}"

    @property
    def http_address(self) -> str:
        """host:port, as tritonclient.http.InferenceServerClient(url=...) takes it."""
        return f"{self._client_host}:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self._client_host}:{self.metrics_port}/metrics"

    @property
    def _client_host(self) -> str:
        return "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- lifecycle -----------------------------------------------------------------
    def command(self) -> list[str]:
        """The tritonserver command line (assembles the workspace on first use)."""
        binary, backend_dir, libs = self._resolve_server()
        args = [
            str(binary),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={backend_dir}",
            f"--http-address={self.host}", f"--http-port={self.http_port}",
            f"--grpc-address={self.host}", f"--grpc-port={self.grpc_port}",
            f"--metrics-address={self.host}", f"--metrics-port={self.metrics_port}",
            f"--log-verbose={self.log_verbose}",
            # Our generated configs are complete: the server must not invent fields.
            "--disable-auto-complete-config",
            "--strict-readiness=true",
            f"--exit-timeout-secs={max(1, int(self.stop_grace_s) - 2)}",
            # Our own name for the python backend's /dev/shm regions, so stop() can remove what a
            # crashed stub leaves behind without touching another server's.
            f"--backend-config=python,shm-region-prefix-name={self.shm_prefix}",
        ]
        if not self._server_binary:
            args.append(f"--cache-directory={wheel_server_dir() / 'caches'}")
            if not has_nvidia_gpu():
                # The wheel's server is a CUDA build: without a GPU, skip pinned memory and GPU metrics.
                args += ["--pinned-memory-pool-byte-size=0", "--allow-gpu-metrics=false"]
        self._libs = libs
        return args + self.extra_args

    def start(self) -> "TritonServer":
        if self.is_running():
            return self
        if not self.model_repository.is_dir():
            raise TritonLaunchError(f"model repository {self.model_repository} does not exist "
                                    "(run `make models`)")
        busy = [p for p in (self.http_port, self.grpc_port, self.metrics_port) if not port_is_free(p, self.host)]
        if busy:
            raise TritonLaunchError(f"port(s) {busy} already in use on {self.host} "
                                    "(is another tritonserver running? `make down`)")
        command = self.command()
        site = stubenv.stub_site()
        stub_bin = stubenv.build_overlay(self._ensure_workspace(), site) if site is not None else None
        env = server_environment(self._libs, stub_bin)
        env.update(self._env_overrides)
        if self.inherit_output:
            stdout = None
        else:
            self._log_path = self._ensure_workspace() / "tritonserver.log"
            stdout = open(self._log_path, "wb")
        try:
            self.process = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=stdout,
                stderr=subprocess.STDOUT if stdout is not None else None,
                start_new_session=True,  # own process group: stop() takes the stubs too
                preexec_fn=_die_with_parent if self.die_with_parent else None,
            )
        finally:
            if stdout is not None:
                stdout.close()
        return self

    def wait_ready(self, timeout_s: float | None = None) -> "TritonServer":
        """Block until every model is loaded and warmed up; raise with the log tail if not."""
        deadline = time.monotonic() + (self.startup_timeout_s if timeout_s is None else timeout_s)
        url = f"{self.http_url}/v2/health/ready"
        while True:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                summary = failure_summary(self.logs())
                self.stop()  # what it spawned, its workspace and shared memory go too
                raise TritonLaunchError(f"tritonserver exited with code {code} before it was ready\n{summary}")
            if http_ok(url):
                return self
            if time.monotonic() > deadline:
                summary = failure_summary(self.logs())
                self.stop()
                raise TritonLaunchError(f"tritonserver not ready after {timeout_s or self.startup_timeout_s:.0f}s\n"
                                        f"{summary}")
            time.sleep(0.2)

    def is_ready(self) -> bool:
        return self.is_running() and http_ok(f"{self.http_url}/v2/health/ready")

    def stop(self) -> int | None:
        """SIGTERM the process group, SIGKILL what is left after the grace period.

        Returns the server's exit code (None if it never started). Idempotent."""
        process, self.process = self.process, None
        code = None
        if process is not None:
            pgid = process.pid
            _signal_group(pgid, signal.SIGTERM)
            try:
                code = process.wait(timeout=self.stop_grace_s)
            except subprocess.TimeoutExpired:
                _signal_group(pgid, signal.SIGKILL)
                code = process.wait()
            # The stubs exit with the server; make sure of it before the ports are reused.
            deadline = time.monotonic() + self.stop_grace_s
            while process_group_members(pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if process_group_members(pgid):
                _signal_group(pgid, signal.SIGKILL)
                while process_group_members(pgid):
                    time.sleep(0.05)
        for leftover in Path("/dev/shm").glob(f"{self.shm_prefix}*"):
            leftover.unlink(missing_ok=True)
        if self._log_path is not None and self._log_path.exists():
            self._final_log = self._log_path.read_text(errors="replace")
        if self._owns_workspace and self.workspace is not None:
            shutil.rmtree(self.workspace, ignore_errors=True)
            self.workspace, self._owns_workspace, self._log_path = None, False, None
        return code

    def logs(self) -> str:
        """The server's output so far (empty when it goes to the console)."""
        if self._log_path is not None and self._log_path.exists():
            return self._log_path.read_text(errors="replace")
        return self._final_log

    def __enter__(self) -> "TritonServer":
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- internals -------------------------------------------------------------------
    def _ensure_workspace(self) -> Path:
        if self.workspace is None:
            if self._workspace_arg:
                self.workspace = Path(self._workspace_arg).resolve()
                self.workspace.mkdir(parents=True, exist_ok=True)
            else:
                self.workspace = Path(tempfile.mkdtemp(prefix="percept-triton-"))
                self._owns_workspace = True
        return self.workspace

    def _resolve_server(self) -> tuple[Path, Path, list[Path]]:
        if self._server_binary:
            # A full tritonserver install (NVIDIA's container): its own RPATHs and backends.
            binary = Path(self._server_binary)
            backend_dir = Path(self._backend_directory or binary.parent.parent / "backends")
            return binary, backend_dir, []
        server_dir = wheel_server_dir()
        libs = [wheel_libs_dir(server_dir)]
        if self._backend_directory:
            backend_dir = Path(self._backend_directory)
        else:
            backend_dir = assemble_backend_directory(server_dir, self._ensure_workspace())
        return server_dir / "bin" / "tritonserver", backend_dir, libs


def failure_summary(log: str, max_errors: int = 12) -> str:
    """Error lines first (glog 'E' lines carry the model load failures), then the log tail."""
    errors = [line for line in log.splitlines() if line.startswith("E") and "CudaDriverHelper" not in line]
    head = "\n".join(line[:_LOG_LINE_CHARS] for line in errors[:max_errors])
    return f"errors:\n{head}\n--- log tail ---\n{log[-_LOG_TAIL_CHARS:]}" if head else log[-_LOG_TAIL_CHARS:]


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


# --- CLI -------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    # Every PERCEPT_TRITON_* value is parsed and checked before anything starts: a malformed one
    # ends start-up here, named, rather than as a traceback from deep inside the launch.
    exit_on_invalid("triton launcher", settings.COMPONENT)
    parser = argparse.ArgumentParser(prog="python -m services.triton.launcher",
                                     description="Run tritonserver on a model repository until SIGTERM/Ctrl-C.")
    parser.add_argument("--model-repository", type=Path, default=Path(settings.MODEL_REPOSITORY.get()))
    parser.add_argument("--host", default=None)
    parser.add_argument("--http-port", type=int, default=None)
    parser.add_argument("--grpc-port", type=int, default=None)
    parser.add_argument("--metrics-port", type=int, default=None)
    parser.add_argument("--log-verbose", type=int, default=None)
    parser.add_argument("extra", nargs="*", help="extra tritonserver arguments (after --)")
    args = parser.parse_args(argv)

    server = TritonServer(args.model_repository, host=args.host, http_port=args.http_port,
                          grpc_port=args.grpc_port, metrics_port=args.metrics_port,
                          log_verbose=args.log_verbose, extra_args=args.extra, inherit_output=True)
    stopping = False

    def on_signal(signum, _frame):  # make down / Ctrl-C: leave the loop, stop the group
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.start()
        print(f"tritonserver pid {server.pid}: HTTP {server.http_url}, gRPC {server.grpc_url}, "
              f"metrics {server.metrics_url}", flush=True)
        while not stopping and server.is_running():
            time.sleep(0.5)
    except (TritonLaunchError, stubenv.StubEnvError) as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        server.stop()
        return 1
    died = not stopping
    code = server.stop()
    if died:
        print(f"tritonserver exited with code {code}", file=sys.stderr, flush=True)
        return code or 1
    return 0

if __name__ == "__main__":
    sys.exit(main())

"""Hostile programs, each asserting containment.

Each program runs in the real jail behind the real gRPC server and prints what
it managed to do; the test checks the program's report *and* the host side
(listeners that must receive nothing, files that must not appear, processes that
must not survive, the secret that must never come back).
"""
from __future__ import annotations

import hashlib
import socket
import textwrap
import threading
import time
from pathlib import Path

import matplotlib
import pytest

from percept_sandbox.api import sandbox_pb2
from tests.sandbox.harness import corpus_program

from .conftest import REFERENCE_PROGRAM, TMPFS_MB
from .host_probes import MIB, Sampler, tree_tasks

OK = sandbox_pb2.RENDER_STATUS_OK
EXEC_ERROR = sandbox_pb2.RENDER_STATUS_EXEC_ERROR
TIMEOUT = sandbox_pb2.RENDER_STATUS_TIMEOUT
MEMORY_LIMIT = sandbox_pb2.RENDER_STATUS_MEMORY_LIMIT
OUTPUT_LIMIT = sandbox_pb2.RENDER_STATUS_OUTPUT_LIMIT
NO_FIGURE = sandbox_pb2.RENDER_STATUS_NO_FIGURE
REPO = Path(__file__).resolve().parents[2]


def run(hostile, program: str, **options):
    response = hostile.client.render(textwrap.dedent(program), **options)
    assert not hostile.leaks(response), "the secret came back"
    return response


def lines(response) -> dict[str, str]:
    """The program's `name: outcome` report lines."""
    report = {}
    for line in response.stdout.text.splitlines():
        name, _, outcome = line.partition(": ")
        report[name] = outcome
    return report


TRY = """
def attempt(name, action):
    try:
        result = action()
        print(f"{name}: ok {result!r}"[:300])
    except BaseException as exc:
        print(f"{name}: {type(exc).__name__} {exc}"[:300])
"""


# -- network ---------------------------------------------------------------------


class _Listener:
    """A loopback TCP listener that counts connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_tcp_connection_to_a_loopback_listener_fails(hostile):
    listener = _Listener()
    try:
        response = run(hostile, TRY + f"""
import socket
attempt("ipv4", lambda: socket.create_connection(("127.0.0.1", {listener.port}), timeout=2))
attempt("ipv6", lambda: socket.create_connection(("::1", {listener.port}), timeout=2))
""")
    finally:
        time.sleep(0.3)
        listener.close()
    report = lines(response)
    assert report["ipv4"].startswith("PermissionError") and report["ipv6"].startswith("PermissionError")
    assert listener.accepted == 0


def test_dns_lookup_fails(hostile):
    response = run(hostile, TRY + """
import socket
attempt("name", lambda: socket.getaddrinfo("example.com", 443))
attempt("localhost", lambda: socket.gethostbyname("localhost"))
""")
    report = lines(response)
    assert report["name"].startswith("gaierror")
    assert report["localhost"].startswith("gaierror")


def test_udp_send_fails(hostile):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(0.5)
    port = receiver.getsockname()[1]
    response = run(hostile, TRY + f"""
import socket
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {port})))
""")
    assert lines(response)["udp"].startswith("PermissionError")
    with pytest.raises(socket.timeout):
        receiver.recvfrom(16)
    receiver.close()


def test_only_unix_sockets_can_be_created(hostile):
    response = run(hostile, TRY + """
import socket
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("pair_inet", lambda: socket.socketpair(socket.AF_INET))
attempt("unix", lambda: socket.socketpair(socket.AF_UNIX)[0].family.name)
""")
    report = lines(response)
    for name in ("netlink", "packet", "raw"):
        assert report[name].startswith("PermissionError"), report[name]
    assert not report["pair_inet"].startswith("ok")
    assert report["unix"] == "ok 'AF_UNIX'"


def test_host_abstract_unix_socket_is_unreachable(hostile):
    name = "\0percept-test-" + hostile.secret[-8:]
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(name)
    server.listen()
    server.settimeout(0.5)
    response = run(hostile, TRY + f"""
import socket
attempt("abstract", lambda: socket.socket(socket.AF_UNIX).connect({name!r}))
""")
    assert lines(response)["abstract"].startswith("ConnectionRefusedError")
    with pytest.raises(socket.timeout):
        server.accept()
    server.close()


# -- reading what it must not see --------------------------------------------------


def test_secret_file_outside_the_jail_is_invisible(hostile):
    response = run(hostile, TRY + f"""
import os
attempt("read", lambda: open({str(hostile.secret_file)!r}).read())
attempt("dir", lambda: os.listdir({str(hostile.secret_file.parent)!r}))
""")
    report = lines(response)
    assert report["read"].startswith("FileNotFoundError") and report["dir"].startswith("FileNotFoundError")


def test_proc_is_not_mounted(hostile):
    response = run(hostile, TRY + """
attempt("init_environ", lambda: open("/proc/1/environ", "rb").read())
attempt("self_environ", lambda: open("/proc/self/environ", "rb").read())
attempt("self_mem", lambda: open("/proc/self/mem", "rb").read(1))
""")
    assert all(outcome.startswith("FileNotFoundError") for outcome in lines(response).values())


def test_parent_environment_never_reaches_the_program(hostile):
    response = run(hostile, """
import ctypes, os
names = sorted(os.environ)
print("names:", ",".join(names))
libc = ctypes.CDLL(None)
environ = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, "environ")
raw = []
i = 0
while environ[i]:
    raw.append(environ[i].decode(errors="replace"))
    i += 1
print("raw:", len(raw), all("SECRET" not in entry for entry in raw))
""")
    report = lines(response)
    assert "PERCEPT_TEST_SECRET" not in report["names"]
    assert set(report["names"].split(",")) <= {"MPLBACKEND", "MPLCONFIGDIR", "LANG", "OPENBLAS_NUM_THREADS",
                                               "OMP_NUM_THREADS", "MKL_NUM_THREADS", "HOME", "TMPDIR",
                                               "XDG_CACHE_HOME", "MALLOC_ARENA_MAX"}
    assert report["raw"].endswith("True")


def test_host_paths_are_absent(hostile):
    response = run(hostile, TRY + """
import os
for path in ("/etc/shadow", "/etc/passwd", "/etc/hostname", "/root/.bash_history", "/home", "/var/log",
             "/sys/class/net", "/boot", "/usr/bin/python3", "/bin/sh"):
    attempt(path, lambda path=path: os.listdir(path) if os.path.isdir(path) else open(path).read(1))
print("root:", ",".join(sorted(os.listdir("/"))))
""")
    report = lines(response)
    root = set(report.pop("root").split(","))
    assert all(outcome.startswith("FileNotFoundError") for outcome in report.values()), report
    assert root <= {"dev", "etc", "lib", "lib32", "lib64", "root", "run", "tmp", "usr", REPO.parts[1]}


def test_the_repository_is_not_visible(hostile):
    response = run(hostile, TRY + f"""
import os
attempt("readme", lambda: open({str(REPO / "Makefile")!r}).read(10))
attempt("listing", lambda: sorted(os.listdir({str(REPO)!r})))
""")
    report = lines(response)
    assert report["readme"].startswith("FileNotFoundError")
    listing = report["listing"]
    assert "Makefile" not in listing and "services" not in listing and "tests" not in listing


def test_one_render_cannot_see_anothers_files(hostile):
    writer = "import time\nopen('/tmp/shared.txt', 'w').write('mine')\ntime.sleep(2)\n"
    reader = TRY + "import time\ntime.sleep(0.5)\nattempt('peek', lambda: open('/tmp/shared.txt').read())\n"
    results = {}
    first = threading.Thread(target=lambda: results.setdefault("writer", run(hostile, writer)))
    first.start()
    results["reader"] = run(hostile, reader)
    first.join()
    assert results["writer"].status == NO_FIGURE
    assert lines(results["reader"])["peek"].startswith("FileNotFoundError")


def test_file_descriptors_of_the_runner_are_not_inherited(hostile):
    response = run(hostile, """
import os
open_fds = []
for fd in range(0, 4096):
    try:
        os.fstat(fd)
        open_fds.append(fd)
    except OSError:
        pass
print("fds:", open_fds)
""")
    assert lines(response)["fds"] == "[0, 1, 2, 3]"


# -- writing outside the tmpfs, filling it ---------------------------------------------


def test_writes_outside_the_private_tmp_fail(hostile):
    site = Path(matplotlib.__file__).parent
    before = hashlib.sha256((site / "__init__.py").read_bytes()).hexdigest()
    targets = ["/evil", "/usr/lib/evil.so", "/etc/ld.so.cache", str(site / "__init__.py"),
               str(site.parent / "evil.pth"), "/run/mplconfig/fontlist.json", "/dev/evil",
               str(hostile.markers_dir / "escaped")]
    response = run(hostile, TRY + f"""
for target in {targets!r}:
    attempt(target, lambda target=target: open(target, "a").write("pwned"))
attempt("tmp", lambda: open("/tmp/fine.txt", "w").write("allowed"))
""")
    report = lines(response)
    assert report.pop("tmp") == "ok 7"
    for target, outcome in report.items():
        assert outcome.split()[0] in {"OSError", "PermissionError", "FileNotFoundError"}, (target, outcome)
    assert hashlib.sha256((site / "__init__.py").read_bytes()).hexdigest() == before
    assert not (site.parent / "evil.pth").exists()
    assert not list(hostile.markers_dir.iterdir())


def test_filling_the_tmpfs_stops_at_its_size(hostile):
    response = run(hostile, """
import os
written = 0
chunk = b"x" * (1 << 20)
try:
    with open("/tmp/fill", "wb") as handle:
        while written < 10 * (1 << 30):
            handle.write(chunk)
            handle.flush()
            written += len(chunk)
except OSError as exc:
    print("stopped:", exc.errno, written >> 20)
""", timeout_s=20)
    errno_name, megabytes = lines(response)["stopped"].split()
    assert int(errno_name) in (27, 28)  # EFBIG (file-size limit) or ENOSPC (tmpfs full)
    assert int(megabytes) <= TMPFS_MB


# -- resource exhaustion -----------------------------------------------------------


FORK_BOMB = """
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)  # past the interpreter's own checks, straight to the kernel
made = refused = 0
deadline = time.monotonic() + 2.5
while time.monotonic() < deadline:
    try:
        pid = os.fork() if refused % 2 else libc.fork()
    except OSError:
        pid = -1
    if pid > 0:
        made += 1
    elif pid < 0:
        refused += 1
    time.sleep(0.001)
print(f"forks: {made} {refused}")
"""


def test_fork_bomb_is_contained(hostile):
    server = hostile.server
    with Sampler(lambda: tree_tasks(server.process.pid)) as sampler:
        response = run(hostile, FORK_BOMB, timeout_s=10)
    made, refused = map(int, lines(response)["forks"].split())
    assert made == 0 and refused > 100
    # The zygote, its pre-forked workers, the render (and a finishing one): every task is one of
    # them; no process of the program's ever existed.
    bound = 1 + 2 * server.workers
    assert max(processes for processes, _ in sampler.values) <= bound, sampler.values
    assert max(tasks for _, tasks in sampler.values) <= bound, sampler.values


def test_memory_bomb_hits_the_memory_limit(hostile):
    response = run(hostile, "chunks = []\nwhile True:\n    chunks.append(bytearray(64 << 20))\n")
    assert response.status == MEMORY_LIMIT
    assert response.error.type == "MemoryError"
    giant = run(hostile, "import numpy as np\nnp.ones((1 << 20, 1 << 20))\n")
    assert giant.status == MEMORY_LIMIT


def test_cpu_loop_times_out(hostile):
    response = run(hostile, "while True:\n    pass\n", timeout_s=1.5)
    assert response.status == TIMEOUT
    assert 1.4 < response.usage.wall_seconds < 1.5 + 2.0


def test_cpu_loop_inside_c_code_is_killed(hostile):
    # Catastrophic backtracking runs inside the regex engine, where no Python signal handler can run.
    response = run(hostile, "import re\nre.match(r'(a*)*b', 'a' * 64)\n", timeout_s=1.5)
    assert response.status == TIMEOUT
    assert response.usage.wall_seconds < 1.5 + 2.0


def test_sleeping_past_the_timeout(hostile):
    response = run(hostile, "import time\ntime.sleep(60)\n", timeout_s=1)
    assert response.status == TIMEOUT and response.usage.wall_seconds < 3


def test_swallowing_the_timeout_does_not_help(hostile):
    response = run(hostile, """
import time
while True:
    try:
        time.sleep(10)
    except BaseException:
        pass
""", timeout_s=1)
    assert response.status == TIMEOUT and response.usage.wall_seconds < 3.5


def test_huge_stdout_is_cut_off(hostile):
    response = run(hostile, "print('A' * 100_000_000)\n")
    assert response.status == OUTPUT_LIMIT
    assert len(response.stdout.text) <= 8192
    flood = run(hostile, "while True:\n    print('x' * 1000)\n", timeout_s=30)
    assert flood.status == OUTPUT_LIMIT and flood.usage.wall_seconds < 20


def test_giant_figure_is_refused(hostile):
    response = run(hostile, "import matplotlib.pyplot as plt\n"
                            "fig = plt.figure(figsize=(1000, 1000))\nplt.plot([1, 2])\n")
    assert response.status == OUTPUT_LIMIT
    assert "px" in response.detail
    drawn = run(hostile, "import matplotlib.pyplot as plt\n"
                         "plt.figure(figsize=(400, 400))\nplt.plot([1])\nplt.tight_layout()\n")
    assert drawn.status in (OUTPUT_LIMIT, MEMORY_LIMIT, EXEC_ERROR)


def test_deep_recursion_crash_is_contained(hostile):
    # Recursion through C (repr -> __repr__ -> repr ...) with the guard lifted overflows the
    # C stack: the jailed process dies of SIGSEGV, the runner reports it and carries on.
    response = run(hostile, """
import sys
sys.setrecursionlimit(10 ** 8)
class Deep:
    def __repr__(self):
        return repr(self)
repr(Deep())
""", timeout_s=20)
    assert response.status == EXEC_ERROR
    assert response.error.type == "SIGSEGV" and "crashed" in response.error.message
    plain = run(hostile, "def f():\n    return f()\nf()\n")
    assert plain.status == EXEC_ERROR and plain.error.type == "RecursionError"


def test_too_many_files_and_threads_are_limited(hostile):
    response = run(hostile, TRY + """
import threading, time
handles = []
def open_many():
    while True:
        handles.append(open("/dev/null"))
attempt("files", open_many)
threads = []
def start_many():
    while True:
        thread = threading.Thread(target=time.sleep, args=(5,), daemon=True)
        thread.start()
        threads.append(thread)
attempt("threads", start_many)
print("counts:", len(handles), len(threads))
""", timeout_s=10)
    report = lines(response)
    assert report["files"].startswith("OSError [Errno 24]")
    assert report["threads"].startswith("RuntimeError")  # can't start new thread
    files, threads = map(int, report["counts"].split())
    assert files < 128 and threads < 32


# -- escapes and interference ---------------------------------------------------------


def test_no_shell_through_os_system_subprocess_or_execve(hostile):
    marker = hostile.markers_dir / "pwned"
    response = run(hostile, TRY + f"""
import ctypes, os, subprocess
attempt("system", lambda: os.system("echo pwned > {marker}"))
attempt("subprocess", lambda: subprocess.run(["/bin/sh", "-c", "echo pwned > {marker}"]))
attempt("python", lambda: subprocess.run(["{Path(__import__('sys').executable)}", "-c", "print(1)"]))
libc = ctypes.CDLL(None, use_errno=True)
def execve():
    argv = (ctypes.c_char_p * 2)(b"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", None)
    result = libc.execve(argv[0], argv, None)
    return result, ctypes.get_errno()
attempt("execve", execve)
attempt("posix_spawn", lambda: os.posix_spawn("/bin/sh", ["sh"], {{}}))
""")
    report = lines(response)
    assert report["system"] != "ok 0"
    assert not report["subprocess"].startswith("ok") and not report["python"].startswith("ok")
    assert report["execve"] == "ok (-1, 1)"  # EPERM from the seccomp filter
    assert not report["posix_spawn"].startswith("ok")
    assert not marker.exists()


def test_ptrace_is_denied(hostile):
    response = run(hostile, TRY + """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def ptrace(request, pid):
    return libc.ptrace(request, pid, None, None), ctypes.get_errno()
import threading, time
attempt("traceme", lambda: ptrace(0, 0))
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
attempt("attach_thread", lambda: ptrace(16, thread.native_id))
attempt("attach_init", lambda: ptrace(16, 1))
stop.set()
""")
    report = lines(response)
    assert report == {"traceme": "ok (-1, 1)", "attach_thread": "ok (-1, 1)", "attach_init": "ok (-1, 1)"}


def test_signals_cannot_reach_the_runner(hostile):
    zygote = hostile.server.zygote_pid()
    server = hostile.server.process.pid
    response = run(hostile, TRY + f"""
import os, signal
print("ppid:", os.getppid())
attempt("zygote", lambda: os.kill({zygote}, signal.SIGKILL))
attempt("server", lambda: os.kill({server}, signal.SIGKILL))
attempt("everyone", lambda: os.kill(-1, signal.SIGKILL))
attempt("group", lambda: os.killpg(0, signal.SIGTERM))
import matplotlib.pyplot as plt
plt.plot([1, 2])
""")
    report = lines(response)
    assert report["ppid"] == "0"  # the parent is outside the PID namespace
    assert report["zygote"].startswith(("ProcessLookupError", "ok None")) and report["server"].startswith(
        ("ProcessLookupError", "ok None"))
    assert response.status == OK
    assert hostile.server.process.poll() is None and hostile.server.zygote_pid() == zygote


def test_ctypes_calls_into_libc_and_raw_syscalls_are_denied(hostile):
    response = run(hostile, TRY + """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(result):
    return result, ctypes.get_errno()
attempt("unshare_user", lambda: call(libc.unshare(0x10000000)))
attempt("unshare_net", lambda: call(libc.unshare(0x40000000)))
attempt("mount", lambda: call(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
attempt("umount", lambda: call(libc.umount2(b"/tmp", 2)))
attempt("chroot", lambda: call(libc.chroot(b"/tmp")))
attempt("setns", lambda: call(libc.setns(0, 0)))
attempt("clone_newuser", lambda: call(libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)))
attempt("bpf", lambda: call(libc.syscall(321, 0, 0, 0)))
attempt("keyctl", lambda: call(libc.syscall(250, 0, 0, 0, 0, 0)))
attempt("perf_event_open", lambda: call(libc.syscall(298, 0, 0, -1, -1, 0)))
attempt("io_uring_setup", lambda: call(libc.syscall(425, 1, 0)))
attempt("kexec_load", lambda: call(libc.syscall(246, 0, 0, 0, 0)))
attempt("init_module", lambda: call(libc.syscall(175, 0, 0, 0)))
attempt("sethostname", lambda: call(libc.sethostname(b"evil", 4)))
attempt("setgroups", lambda: call(libc.setgroups(0, None)))
attempt("setuid", lambda: call(libc.setuid(1234)))
""")
    report = lines(response)
    assert report.pop("setuid") in ("ok (-1, 1)", "ok (-1, 22)")  # no capability / no such id in the jail
    for name, outcome in report.items():
        assert outcome == "ok (-1, 1)", (name, outcome)  # every one fails with EPERM


def test_terminal_injection_is_denied(hostile):
    response = run(hostile, TRY + """
import fcntl, termios
attempt("tiocsti", lambda: fcntl.ioctl(0, termios.TIOCSTI, b"x"))
""")
    assert lines(response)["tiocsti"].startswith("PermissionError")


def test_monkey_patching_matplotlib_does_not_reach_the_next_render(hostile):
    response = run(hostile, TRY + """
import matplotlib, matplotlib.figure, matplotlib.pyplot as plt
matplotlib.figure.Figure.savefig = lambda *a, **k: None
plt.plot = lambda *a, **k: None
matplotlib.rcParams["lines.color"] = "red"
matplotlib.rcParams["axes.prop_cycle"] = matplotlib.cycler(color=["red"])
attempt("source", lambda: open(matplotlib.__file__, "a").write("\\nraise SystemExit"))
import sys
sys.modules["matplotlib.pyplot"] = None
""")
    assert lines(response)["source"].startswith(("OSError", "PermissionError"))
    following = hostile.client.render(corpus_program(REFERENCE_PROGRAM))
    assert following.status == OK
    assert following.figures[0].data == hostile.reference_png


def test_background_threads_and_processes_die_with_the_render(hostile):
    marker = hostile.markers_dir / "late"
    response = run(hostile, f"""
import os, threading, time
def linger():
    while True:
        time.sleep(0.05)
def escape_later():
    time.sleep(3)
    open("/tmp/late", "w").write("still here")
    open("{marker}", "w").write("escaped")
threading.Thread(target=linger, daemon=False).start()
threading.Thread(target=escape_later, daemon=True).start()
try:
    os.fork()
except OSError as exc:
    print("fork:", type(exc).__name__)
import matplotlib.pyplot as plt
plt.plot([1, 2])
""")
    assert response.status == OK
    assert lines(response)["fork"] == "PermissionError"
    time.sleep(3.5)
    assert not marker.exists()
    tree = hostile.server.tree()
    zygote = hostile.server.zygote_pid()
    from tests.sandbox.harness import process_table

    table = process_table()
    # The zygote's only children are pre-forked workers waiting for a render.
    assert all(table[pid][0] == zygote for pid in tree if pid != zygote)
    assert len(tree) <= 1 + 2 * hostile.server.workers


def test_garbage_on_the_result_channel_is_contained(hostile):
    response = run(hostile, """
import os
os.write(3, b"\\x00\\x00\\x00\\x10not json at all!!")
os.write(3, b"\\xff\\xff\\xff\\xff")
os._exit(0)
""")
    assert response.status == EXEC_ERROR
    forged = run(hostile, """
import json, os, struct
header = json.dumps({"status": "OK", "figures": [{"format": "png", "width_px": 1, "height_px": 1}]}).encode()
os.write(3, struct.pack(">I", len(header)) + header)
os._exit(0)
""")
    assert forged.status == EXEC_ERROR and not forged.figures
    assert hostile.server.health() is not None


# -- one process per render -------------------------------------------------------------


def test_python_ways_of_starting_processes_fail_cleanly(hostile):
    response = run(hostile, TRY + """
import multiprocessing, os, subprocess
attempt("fork", os.fork)
attempt("system", lambda: os.system("true"))
attempt("subprocess", lambda: subprocess.run(["/bin/true"]))
attempt("multiprocessing", lambda: multiprocessing.Process(target=print).start())
attempt("posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}))
attempt("spawnv", lambda: os.spawnv(os.P_WAIT, "/bin/true", ["true"]))
os.fork()  # unguarded: the render's own result says why
""")
    report = lines(response)
    assert set(report) == {"fork", "system", "subprocess", "multiprocessing", "posix_spawn", "spawnv"}
    for name, outcome in report.items():
        assert outcome.startswith("PermissionError [Errno 1] the sandbox does not permit creating processes"), (
            name, outcome)
    assert response.status == EXEC_ERROR and response.error.type == "PermissionError"
    assert "does not permit creating processes (os.fork)" in response.error.message
    following = hostile.client.render(corpus_program(REFERENCE_PROGRAM))
    assert following.status == OK and following.figures[0].data == hostile.reference_png


def test_the_kernel_refuses_new_processes_however_they_are_asked_for(hostile):
    # ctypes skips the interpreter's checks: what answers here is the seccomp filter.
    response = run(hostile, TRY + """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(result):
    if result == 0:
        os._exit(0)  # only reached if a child was created
    return result, ctypes.get_errno()
attempt("libc_fork", lambda: call(libc.fork()))
attempt("clone_plain", lambda: call(libc.syscall(56, 17, 0, 0, 0, 0)))   # clone(SIGCHLD), as fork
attempt("fork_syscall", lambda: call(libc.syscall(57)))
# glibc's posix_spawn clones with CLONE_VM|CLONE_VFORK; the file action fails in a child
# (ENOENT), so EPERM means no child was ever made.
actions = ctypes.create_string_buffer(256)
libc.posix_spawn_file_actions_init(actions)
libc.posix_spawn_file_actions_addopen(actions, 0, b"/nonexistent/file", os.O_RDONLY, 0)
pid = ctypes.c_int(0)
argv = (ctypes.c_char_p * 2)(b"x", None)
attempt("posix_spawn", lambda: libc.posix_spawn(ctypes.byref(pid), b"/nonexistent", actions, None, argv, None))
import threading
ran = []
thread = threading.Thread(target=lambda: ran.append(1))
thread.start()
thread.join()
print("thread:", len(ran))
""")
    assert lines(response) == {"libc_fork": "ok (-1, 1)", "clone_plain": "ok (-1, 1)", "fork_syscall": "ok (-1, 1)",
                               "posix_spawn": "ok 1", "thread": "1"}


PEAK_PROGRAMS = {
    "main": "data = bytearray(300 << 20)\nfor i in range(0, len(data), 4096):\n    data[i] = 1\n",
    "thread": ("import threading\nkept = []\ndef grow():\n    data = bytearray(300 << 20)\n"
               "    for i in range(0, len(data), 4096):\n        data[i] = 1\n    kept.append(data)\n"
               "t = threading.Thread(target=grow)\nt.start()\nt.join()\n"),
}


@pytest.mark.parametrize("where", ["main", "thread"])
def test_peak_memory_is_the_whole_renders(hostile, where):
    idle = run(hostile, "x = 1\n")
    grown = run(hostile, PEAK_PROGRAMS[where])
    assert idle.status == grown.status == NO_FIGURE
    # The peak includes the pages shared with the zygote (the idle render's), plus the 300 MiB.
    assert grown.usage.peak_memory_bytes >= 300 * MIB
    assert grown.usage.peak_memory_bytes - idle.usage.peak_memory_bytes >= 290 * MIB
    # A render that dies without reporting is measured by its reaper (the zygote's wait4).
    died = run(hostile, PEAK_PROGRAMS[where] + "import os\nos._exit(3)\n")
    assert died.status == EXEC_ERROR
    assert died.usage.peak_memory_bytes - idle.usage.peak_memory_bytes >= 290 * MIB


def test_matplotlib_caches_are_private_and_writable(hostile):
    response = run(hostile, TRY + """
import os
import matplotlib
from matplotlib.texmanager import TexManager
def write(directory):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "probe"), "w") as handle:
        handle.write("x")
    return str(directory)
attempt("cachedir", lambda: write(matplotlib.get_cachedir()))
attempt("texcache", lambda: write(TexManager._cache_dir))
attempt("xdg", lambda: write(os.environ["XDG_CACHE_HOME"]))
attempt("home", lambda: write(os.path.expanduser("~/.cache")))
""")
    report = lines(response)
    assert report["cachedir"] == "ok '/tmp/.cache/matplotlib'"
    assert report["texcache"] == "ok '/tmp/.cache/matplotlib/tex.cache'"
    assert report["xdg"] == "ok '/tmp/.cache'" and report["home"] == "ok '/tmp/.cache'"


def test_the_runners_logging_never_reaches_a_renders_stderr(hostile):
    response = run(hostile, """
import logging, sys
import matplotlib.pyplot as plt
logging.getLogger("matplotlib").info("informational-marker")
logging.getLogger("matplotlib.font_manager").info("findfont: another-marker")
plt.rcParams["font.family"] = ["no-such-font-family"]
plt.title("fallback")
plt.plot([1, 2])
sys.stderr.write("the program's own line\\n")
""")
    assert response.status == OK
    stderr = response.stderr.text
    assert "zygote" not in stderr and "marker" not in stderr and " INFO " not in stderr
    assert "the program's own line" in stderr

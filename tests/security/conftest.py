"""The hostile suite's runner: a real server holding a secret it must never leak.

The server is started with a secret in its environment and a secret file placed
outside the jail; every hostile program runs against it, and the after-suite
checks (test_zz_after_suite.py) inspect the same server once they are done.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from percept_sandbox.client import SandboxClient
from tests.sandbox.harness import SandboxServer, corpus_program, process_table

MEMORY_MB = 1024
TMPFS_MB = 64
REFERENCE_PROGRAM = "s01_sine_cosine.py"


@dataclass
class HostileEnv:
    server: SandboxServer
    client: SandboxClient
    secret: str
    secret_file: Path
    runtime_dir: Path
    markers_dir: Path  # where programs try to leave files on the host
    reference_png: bytes
    baseline_jail_processes: set[int]

    def leaks(self, response) -> bool:
        seen = (response.stdout.text + response.stderr.text + response.error.message + response.detail
                + response.trace_json)
        return self.secret in seen or any(self.secret.encode() in f.data for f in response.figures)


def jail_uid_processes(uid: int = 65534) -> set[int]:
    return {pid for pid, (_parent, owner, _cmd) in process_table().items() if owner == uid}


def orphaned_jail_processes(uid: int = 65534) -> set[int]:
    """Jail-uid processes that no live runner owns: the nearest ancestor of another uid is init.

    Another runner on the same host (a `make up`, a second test run) owns its own zygote
    and workers; they are not this suite's leftovers, and a process that escaped a render
    would have been re-parented to init."""
    table = process_table()
    orphans = set()
    for pid, (_parent, owner, _cmd) in table.items():
        if owner != uid:
            continue
        ancestor = pid
        while ancestor in table and table[ancestor][1] == uid:
            ancestor = table[ancestor][0]
        if ancestor <= 1 or ancestor not in table:
            orphans.add(pid)
    return orphans


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    secret = "percept-secret-" + secrets.token_hex(8)
    outside = tmp_path_factory.mktemp("outside-the-jail")
    secret_file = outside / "secret.txt"
    secret_file.write_text(secret)
    runtime_dir = tmp_path_factory.mktemp("runtime")
    markers_dir = tmp_path_factory.mktemp("markers")
    baseline = jail_uid_processes()
    env = {"PERCEPT_TEST_SECRET": secret, "PERCEPT_SANDBOX_MEMORY_MB": str(MEMORY_MB),
           "PERCEPT_SANDBOX_TMPFS_MB": str(TMPFS_MB), "PERCEPT_SANDBOX_RUNTIME_DIR": str(runtime_dir)}
    with SandboxServer(workers=2, queue_size=8, env=env) as server:
        with server.client() as client:
            reference = client.render(corpus_program(REFERENCE_PROGRAM)).figures[0].data
            yield HostileEnv(server, client, secret, secret_file, runtime_dir, markers_dir, reference,
                             baseline)

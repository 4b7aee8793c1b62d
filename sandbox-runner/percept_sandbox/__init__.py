"""percept-sandbox: isolated, fast rendering of untrusted plotting code.

Subpackages, one concern each:

* `jail/`   — the isolation: namespaces and id maps, the filesystem view, the seccomp
              policy, Linux calls, the child's caches, pre-faulting;
* `render/` — the one render sequence and what it uses: the render protocol, the
              execution trace, warm-up, plain result data, the socket framing;
* `pool/`   — the trusted side: the pool, the zygote, the jailed child's life, the
              runtime directory, one render's exchange with a child, the metrics;
* `api/`    — the faces: gRPC service and server, client, CLI, generated stubs. It imports
              the core; the core never imports it.

Stable import paths for other components (see docs/sandbox.md): `percept_sandbox.client`
(SandboxClient), `percept_sandbox.api` (sandbox_pb2, sandbox_pb2_grpc), `percept_sandbox.settings`,
`percept_sandbox.config` (SandboxConfig), `percept_sandbox.pool` (SandboxPool) and
`python -m percept_sandbox.cli`.
"""
import os

__version__ = "0.1.0"

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))  # bound read-only into the jail

"""percept-sandbox: isolated, fast rendering of untrusted plotting code.

Entry points: `percept-sandbox serve|render` (cli.py), the gRPC API
(protos/percept/sandbox/v1/sandbox.proto, stubs in api.py, a client in client.py)
and, in-process, pool.SandboxPool. See docs/sandbox.md.
"""

__version__ = "0.1.0"

"""Code perception for STEM images: image -> matplotlib code, verified by rendering.

The gRPC service (server.py, service.py) generates N candidate programs with a
configured backend (backends/), renders them in the sandbox-runner (sandbox.py), scores
each render against the input with the deterministic fidelity metrics (fidelity/) and
returns the best (pipeline.py), with a caption built from its execution trace
(captions.py). Callers use client.py and the stubs loaded by protos.py.
"""

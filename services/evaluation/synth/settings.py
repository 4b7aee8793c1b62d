"""Environment variables of the synthetic STEM data engine (component "synth").

Read once when `percept-eval synth` starts; its flags override them.
"""
from __future__ import annotations

from services.common.settings import env, host_and_port, positive

COMPONENT = "synth"

SANDBOX_URL = env("PERCEPT_SYNTH_SANDBOX_URL", "127.0.0.1:50061",
                  "Sandbox-runner gRPC endpoint the data engine renders its programs with (host:port).",
                  component=COMPONENT, check=host_and_port)
RENDER_CONCURRENCY = env("PERCEPT_SYNTH_RENDER_CONCURRENCY", 2,
                         "Renders the data engine keeps in flight at the same time (keep at most the sandbox "
                         "pool's workers plus its queue).", component=COMPONENT, check=positive)
RENDER_DPI = env("PERCEPT_SYNTH_RENDER_DPI", 100,
                 "Resolution of the data engine's images (the embedded STEM2Code sample uses 100).",
                 component=COMPONENT, check=positive)
RENDER_TIMEOUT_S = env("PERCEPT_SYNTH_RENDER_TIMEOUT_S", 30.0,
                       "Wall-clock limit of one synthetic program's render, in seconds.", component=COMPONENT,
                       check=positive)

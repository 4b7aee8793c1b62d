"""Environment variables of the synthetic STEM data engine (component "synth").

Read once when `percept-eval synth` starts; its flags override them.
"""
from __future__ import annotations

from percept_sandbox import settings as sandbox_settings
from services.common.net import local_address
from services.common.settings import env, host_and_port, positive
from services.evaluation.protocol import DPI as PROTOCOL_DPI

COMPONENT = "synth"

SANDBOX_URL = env("PERCEPT_SYNTH_SANDBOX_URL", local_address(sandbox_settings.GRPC_PORT.default),
                  "Sandbox-runner gRPC endpoint the data engine renders its programs with (host:port).",
                  component=COMPONENT, check=host_and_port)
RENDER_CONCURRENCY = env("PERCEPT_SYNTH_RENDER_CONCURRENCY", 2,
                         "Renders the data engine keeps in flight at the same time (keep at most the sandbox "
                         "pool's workers plus its queue).", component=COMPONENT, check=positive)
# A split's images are the ground truth the harness compares its renders with, and the harness
# renders at the protocol's DPI: images at another DPI would lose fidelity to resampling alone.
RENDER_DPI = env("PERCEPT_SYNTH_RENDER_DPI", PROTOCOL_DPI,
                 "Resolution of the data engine's images (default: STEM2Code-Eval's 300, the DPI the harness "
                 "renders at, so a split's ground truth matches its renders pixel for pixel).",
                 component=COMPONENT, check=positive)
RENDER_TIMEOUT_S = env("PERCEPT_SYNTH_RENDER_TIMEOUT_S", 30.0,
                       "Wall-clock limit of one synthetic program's render, in seconds.", component=COMPONENT,
                       check=positive)

"""Environment variables of the Triton launcher (component "triton").

The server's model-level knobs (batch sizes, queue delays, instance counts) are
baked into the generated config.pbtxt by the repository builder, not read here. The
launcher's main() checks them all at start-up (`load("triton")`), so a malformed value
stops it with the variable's name instead of failing later.
"""
from __future__ import annotations

from services.common.settings import env, non_negative, port_number, positive

COMPONENT = "triton"

HOST = env("PERCEPT_TRITON_HOST", "127.0.0.1",
           "Address tritonserver binds its HTTP, gRPC and metrics endpoints to (0.0.0.0 in a pod).",
           component=COMPONENT)
HTTP_PORT = env("PERCEPT_TRITON_HTTP_PORT", 8000, "Triton KServe v2 HTTP port.", component=COMPONENT,
                check=port_number)
GRPC_PORT = env("PERCEPT_TRITON_GRPC_PORT", 8001, "Triton KServe v2 gRPC port.", component=COMPONENT,
                check=port_number)
METRICS_PORT = env("PERCEPT_TRITON_METRICS_PORT", 8002, "Triton Prometheus metrics port.",
                   component=COMPONENT, check=port_number)
MODEL_REPOSITORY = env("PERCEPT_TRITON_MODEL_REPOSITORY", "artifacts/model_repository",
                       "Model repository the launcher serves (built by `make models`).", component=COMPONENT)
SERVER_BINARY = env("PERCEPT_TRITON_SERVER_BINARY", "",
                    "tritonserver executable; empty = the one shipped in the nvidia-pytriton wheel.",
                    component=COMPONENT)
BACKEND_DIRECTORY = env("PERCEPT_TRITON_BACKEND_DIRECTORY", "",
                        "Backend directory; empty = a workspace assembled from the wheel's python backend.",
                        component=COMPONENT)
WORKSPACE = env("PERCEPT_TRITON_WORKSPACE", "",
                "Where the launcher assembles the backend directory; empty = a fresh temporary directory.",
                component=COMPONENT)
LOG_VERBOSE = env("PERCEPT_TRITON_LOG_VERBOSE", 0, "tritonserver --log-verbose level (0 = off).",
                  component=COMPONENT, check=non_negative)
STARTUP_TIMEOUT_S = env("PERCEPT_TRITON_STARTUP_TIMEOUT_S", 180.0,
                        "How long the launcher waits for /v2/health/ready (model load and warmup).",
                        component=COMPONENT, check=positive)
STOP_GRACE_S = env("PERCEPT_TRITON_STOP_GRACE_S", 15.0,
                   "Seconds between SIGTERM and SIGKILL of the server's process group on stop.",
                   component=COMPONENT, check=positive)
STUB_SITE = env("PERCEPT_TRITON_STUB_SITE", "",
                "numpy-1 site directory for the python-backend stub; empty = <venv>/triton-stub-site, "
                "`off` = run the stub in the project's environment unchanged.", component=COMPONENT)

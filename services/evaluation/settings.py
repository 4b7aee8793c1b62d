"""Environment variables of the evaluation harness (component "evaluation").

Read and checked once when `percept-eval` starts; its flags override them. The judge's
API key is a secret: kept out of `repr()`, sent only to the judge endpoint.
"""
from __future__ import annotations

from percept_sandbox import settings as sandbox_settings
from services.common.net import local_address
from services.common.settings import LOG_LEVELS, env, host_and_port, non_negative, one_of, positive

COMPONENT = "evaluation"


def http_url(value: str) -> None:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")


def judge_target(value: str) -> None:
    if value.lower() not in ("", "image", "code", "both"):
        raise ValueError("must be empty, image, code or both")


LOG_LEVEL = env("PERCEPT_EVAL_LOG_LEVEL", "warning", "Log level of percept-eval (progress goes to stdout "
                "regardless).", component=COMPONENT, check=one_of(*LOG_LEVELS))
SANDBOX_URL = env("PERCEPT_EVAL_SANDBOX_URL", local_address(sandbox_settings.GRPC_PORT.default),
                  "Sandbox-runner gRPC endpoint the harness renders programs with (host:port).",
                  component=COMPONENT, check=host_and_port)
GENERATION_CONCURRENCY = env("PERCEPT_EVAL_GENERATION_CONCURRENCY", 8,
                             "Generation requests the harness keeps in flight (samples being generated).",
                             component=COMPONENT, check=positive)
RENDER_CONCURRENCY = env("PERCEPT_EVAL_RENDER_CONCURRENCY", 4,
                         "Renders the harness keeps in flight (keep at most the sandbox pool's workers plus "
                         "its queue).", component=COMPONENT, check=positive)
RENDER_DPI = env("PERCEPT_EVAL_RENDER_DPI", 300,
                 "Resolution the programs are rendered at (the protocol's save injection uses 300).",
                 component=COMPONENT, check=positive)
RENDER_TIMEOUT_S = env("PERCEPT_EVAL_RENDER_TIMEOUT_S", 30.0,
                       "Wall-clock limit of one render, in seconds (the protocol's execution timeout).",
                       component=COMPONENT, check=positive)
SANDBOX_RETRY_S = env("PERCEPT_EVAL_SANDBOX_RETRY_S", 60.0,
                      "How long one render waits out a full sandbox pool (RESOURCE_EXHAUSTED) before the "
                      "sample is recorded as refused.", component=COMPONENT, check=non_negative)
GENERATION_TIMEOUT_S = env("PERCEPT_EVAL_GENERATION_TIMEOUT_S", 600.0,
                           "Time one sample's generation may take, in seconds.", component=COMPONENT,
                           check=positive)
PROGRESS_INTERVAL_S = env("PERCEPT_EVAL_PROGRESS_INTERVAL_S", 10.0,
                          "Seconds between plain progress lines when stdout is not a terminal.",
                          component=COMPONENT, check=positive)
JUDGE_BASE_URL = env("PERCEPT_EVAL_JUDGE_BASE_URL", "",
                     "OpenAI-compatible endpoint of the optional LLM judge (…/v1); empty = no judge.",
                     component=COMPONENT, check=http_url)
JUDGE_MODEL = env("PERCEPT_EVAL_JUDGE_MODEL", "", "Model name the judge endpoint serves.", component=COMPONENT)
JUDGE_API_KEY = env("PERCEPT_EVAL_JUDGE_API_KEY", "", "Bearer token of the judge endpoint (secret).",
                    component=COMPONENT, secret=True)
JUDGE_SCORES = env("PERCEPT_EVAL_JUDGE_SCORES", "both",
                   "Which scores the judge gives when configured: image, code or both.", component=COMPONENT,
                   check=judge_target)
JUDGE_ATTEMPTS = env("PERCEPT_EVAL_JUDGE_ATTEMPTS", 3,
                     "Judge calls per score before the sample's score is recorded as unjudged (transport "
                     "errors, HTTP errors and replies without a score all count).", component=COMPONENT,
                     check=positive)
JUDGE_TIMEOUT_S = env("PERCEPT_EVAL_JUDGE_TIMEOUT_S", 120.0, "Time one judge call may take, in seconds.",
                      component=COMPONENT, check=positive)

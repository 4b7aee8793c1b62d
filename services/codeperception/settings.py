"""Environment variables of the code-perception service (component "codeperception"), and the
one frozen settings object they are parsed into when the process starts.

`PERCEPT_CODEPERCEPTION_URL` is the client side (what the gateway dials); the rest is
the server's. The API key of the `openai` backend is a secret: it is read here, kept
out of `repr()`, and only ever sent to that backend.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from percept_sandbox import settings as sandbox_settings
from services.common import limits
from services.common.net import local_address
from services.common.settings import LOG_LEVELS, env, host_and_port, load, non_negative, one_of, port_number, positive
from services.triton import settings as triton_settings

from .backends.registry import BACKEND_NAMES, backend_entry

COMPONENT = "codeperception"
BACKENDS = BACKEND_NAMES  # the backends registry (backends/registry.py) is the one list
def http_url(value: str) -> None:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")


def optional_count(value: str) -> None:
    if value and not value.isdigit():
        raise ValueError("must be empty or a whole number of 0 or more")


def probability(value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError("must be in [0, 1]")


# The port the server binds unless told otherwise, so the one its callers dial unless told otherwise.
DEFAULT_GRPC_PORT = 50071

# --- the client side ----------------------------------------------------------------------
URL = env("PERCEPT_CODEPERCEPTION_URL", local_address(DEFAULT_GRPC_PORT),
          "Code-perception gRPC endpoint its callers (the gateway) dial (host:port).", component=COMPONENT,
          check=host_and_port)

# --- the server ---------------------------------------------------------------------------
GRPC_HOST = env("PERCEPT_CODEPERCEPTION_GRPC_HOST", "127.0.0.1",
                "Address the code-perception gRPC server binds (0.0.0.0 in a pod).", component=COMPONENT)
GRPC_PORT = env("PERCEPT_CODEPERCEPTION_GRPC_PORT", DEFAULT_GRPC_PORT,
                "gRPC port of the code-perception service (ImageToCode, Render, Score, health, reflection).",
                component=COMPONENT, check=port_number)
METRICS_HOST = env("PERCEPT_CODEPERCEPTION_METRICS_HOST", "127.0.0.1",
                   "Address the code-perception /metrics HTTP server binds.", component=COMPONENT)
METRICS_PORT = env("PERCEPT_CODEPERCEPTION_METRICS_PORT", 9471,
                   "Port of the code-perception Prometheus /metrics HTTP server.", component=COMPONENT,
                   check=port_number)
SANDBOX_URL = env("PERCEPT_CODEPERCEPTION_SANDBOX_URL", local_address(sandbox_settings.GRPC_PORT.default),
                  "Sandbox-runner gRPC endpoint the service renders with (host:port).", component=COMPONENT,
                  check=host_and_port)
BACKEND = env("PERCEPT_CODEPERCEPTION_BACKEND", "reference",
              "Generation backend: `reference` (ground truth of a STEM2Code-format dataset), `openai` "
              "(an OpenAI-compatible chat-completions endpoint, e.g. vLLM serving CodePercept), `triton` "
              "(a generation model implementing services/triton/generation.py), `retrieval` (the programs of "
              "the data-engine figures nearest the input, from a retrieval index) or `verified` (retrieval's "
              "nearest programs and the triton model's samples together, the best render returned).",
              component=COMPONENT,
              check=one_of(*BACKENDS))
RENDER_DPI = env("PERCEPT_CODEPERCEPTION_RENDER_DPI", 100,
                 "Default resolution of candidate renders (STEM2Code-Eval uses 300; the embedded dataset 100).",
                 component=COMPONENT, check=positive)
RENDER_TIMEOUT_S = env("PERCEPT_CODEPERCEPTION_RENDER_TIMEOUT_S", 30.0,
                       "Default wall-clock limit of one candidate render, in seconds.", component=COMPONENT,
                       check=positive)
DEFAULT_DEADLINE_S = env("PERCEPT_CODEPERCEPTION_DEFAULT_DEADLINE_S", 600.0,
                         "Deadline of a call whose caller set none, in seconds.", component=COMPONENT,
                         check=positive)
SANDBOX_RETRY_S = env("PERCEPT_CODEPERCEPTION_SANDBOX_RETRY_S", 5.0,
                      "How long a render waits out a full sandbox pool (its retry hints) before answering "
                      "RESOURCE_EXHAUSTED; never past the call's deadline. 0 = never wait.", component=COMPONENT,
                      check=non_negative)
REFINE_RENDERS = env("PERCEPT_CODEPERCEPTION_REFINE_RENDERS", "",
                     "Renders a request spends refining its best candidate's numbers when it does not say "
                     "(`refine_renders`; services/codeperception/refinement.py); empty = the backend's default "
                     "(backends/registry.py: `verified` refines, the others do not); capped by "
                     "PERCEPT_MAX_REFINE_RENDERS.",
                     component=COMPONENT, check=optional_count)
LOG_LEVEL = env("PERCEPT_CODEPERCEPTION_LOG_LEVEL", "info", "Log level of the code-perception service.",
                component=COMPONENT, check=one_of(*LOG_LEVELS))

# --- backend: reference -------------------------------------------------------------------
DATASET_DIR = env("PERCEPT_CODEPERCEPTION_DATASET_DIR", "artifacts/stem2code-sample",
                  "`reference` backend: a STEM2Code-format dataset directory (data.jsonl + images/; "
                  "`make models` builds a small one from the repository's STEM-style programs).",
                  component=COMPONENT)
DATASET_JSONL = env("PERCEPT_CODEPERCEPTION_DATASET_JSONL", "data.jsonl",
                    "`reference` backend: the dataset's JSONL file, relative to the dataset directory.",
                    component=COMPONENT)
DATASET_IMAGES = env("PERCEPT_CODEPERCEPTION_DATASET_IMAGES", "images",
                     "`reference` backend: the directory image paths are relative to, relative to the dataset "
                     "directory.", component=COMPONENT)

# --- backend: retrieval -------------------------------------------------------------------
RETRIEVAL_INDEX = env("PERCEPT_CODEPERCEPTION_RETRIEVAL_INDEX", "artifacts/retrieval-index.npz",
                      "`retrieval` and `verified` backends: the retrieval index file (`make retrieval-index` "
                      "builds it from CodePercept-mini's training corpus, the data engine's programs); a missing "
                      "or unreadable one stops start-up.",
                      component=COMPONENT)
RETRIEVAL_K = env("PERCEPT_CODEPERCEPTION_RETRIEVAL_K", 4,
                  "`retrieval` and `verified` backends: the nearest programs each request renders and scores "
                  "as its candidates (with `retrieval`, a request asking for more candidates gets that many; "
                  "with `verified`, the model's samples come on top); at most PERCEPT_MAX_CANDIDATES.",
                  component=COMPONENT, check=positive)

# --- backend: openai ----------------------------------------------------------------------
OPENAI_BASE_URL = env("PERCEPT_CODEPERCEPTION_OPENAI_BASE_URL", "",
                      "`openai` backend: base URL of the OpenAI-compatible API, e.g. http://host:8000/v1 "
                      "(required with that backend).", component=COMPONENT, check=http_url)
OPENAI_MODEL = env("PERCEPT_CODEPERCEPTION_OPENAI_MODEL", "",
                   "`openai` backend: the served model name (required with that backend).", component=COMPONENT)
OPENAI_API_KEY = env("PERCEPT_CODEPERCEPTION_OPENAI_API_KEY", "",
                     "`openai` backend: API key sent as `Authorization: Bearer` (secret; empty = none).",
                     component=COMPONENT, secret=True)

# --- generation: the openai and triton backends -------------------------------------------
PROMPT = env("PERCEPT_CODEPERCEPTION_PROMPT", "",
             "Instruction sent with the image; empty = the one a `triton` model declares (its code_prompt, "
             "e.g. CodePercept-mini's), else the service's default prompt (services/codeperception/prompt.py).",
             component=COMPONENT)
PROMPT_FILE = env("PERCEPT_CODEPERCEPTION_PROMPT_FILE", "",
                  "A UTF-8 file holding the instruction (wins over PERCEPT_CODEPERCEPTION_PROMPT).",
                  component=COMPONENT)
SYSTEM_PROMPT = env("PERCEPT_CODEPERCEPTION_SYSTEM_PROMPT", "You are a helpful assistant.",
                    "System message of each generation request (empty = none).", component=COMPONENT)
MAX_TOKENS = env("PERCEPT_CODEPERCEPTION_MAX_TOKENS", 16384,
                 "Default and largest number of tokens one candidate may generate; over a `triton` model's "
                 "context, the default is the answer length it declares (code_max_tokens), else half the context.",
                 component=COMPONENT,
                 check=positive)
TEMPERATURE = env("PERCEPT_CODEPERCEPTION_TEMPERATURE", 0.7, "Default sampling temperature.",
                  component=COMPONENT, check=non_negative)
TOP_P = env("PERCEPT_CODEPERCEPTION_TOP_P", 0.8, "Default nucleus-sampling top_p.", component=COMPONENT,
            check=probability)
TOP_K = env("PERCEPT_CODEPERCEPTION_TOP_K", 20, "`openai` backend: default top_k (-1 = off).",
            component=COMPONENT)
REPETITION_PENALTY = env("PERCEPT_CODEPERCEPTION_REPETITION_PENALTY", 1.0,
                         "`openai` backend: default repetition_penalty.", component=COMPONENT, check=positive)
PRESENCE_PENALTY = env("PERCEPT_CODEPERCEPTION_PRESENCE_PENALTY", 1.5,
                       "`openai` backend: default presence_penalty.", component=COMPONENT)
GENERATION_CONCURRENCY = env("PERCEPT_CODEPERCEPTION_GENERATION_CONCURRENCY", 8,
                             "Generation requests one service process sends at the same time (all calls "
                             "together).", component=COMPONENT, check=positive)

# --- backend: triton ----------------------------------------------------------------------
TRITON_URL = env("PERCEPT_CODEPERCEPTION_TRITON_URL", local_address(triton_settings.GRPC_PORT.default),
                 "`triton` and `verified` backends: Triton's gRPC endpoint (host:port).", component=COMPONENT,
                 check=host_and_port)
TRITON_MODEL = env("PERCEPT_CODEPERCEPTION_TRITON_MODEL", "",
                   "`triton` and `verified` backends: the generation model's name; empty = among the models "
                   "Triton serves that implement the generation contract, the model families' first chat model "
                   "(services/models/registry.py), else the first by name.", component=COMPONENT)


@dataclass(frozen=True)
class SamplingDefaults:
    temperature: float
    top_p: float
    top_k: int
    repetition_penalty: float
    presence_penalty: float
    max_tokens: int


@dataclass(frozen=True)
class CodePerceptionSettings:
    """Everything the service reads from the environment, parsed and checked once."""

    grpc_host: str
    grpc_port: int
    metrics_host: str
    metrics_port: int
    sandbox_url: str
    backend: str
    max_candidates: int
    max_refine_renders: int
    configured_refine_renders: int | None   # PERCEPT_CODEPERCEPTION_REFINE_RENDERS; None: the backend's
    max_code_bytes: int
    max_image_pixels: int
    max_image_bytes: int
    render_dpi: int
    render_timeout_s: float
    default_deadline_s: float
    sandbox_retry_s: float
    log_level: str
    dataset_dir: Path
    dataset_jsonl: str
    dataset_images: str
    retrieval_index: Path
    retrieval_k: int
    openai_base_url: str
    openai_model: str
    openai_api_key: str = field(repr=False)  # a secret: never in a log line
    prompt: str
    prompt_file: str
    system_prompt: str
    sampling: SamplingDefaults
    generation_concurrency: int
    triton_url: str
    triton_model: str

    @property
    def refine_renders(self) -> int:
        """The refinement budget of a request that names none: as configured, else the backend's own
        default; never above the cap."""
        configured = self.configured_refine_renders
        default = backend_entry(self.backend).refine_renders if configured is None else configured
        return min(default, self.max_refine_renders)

    @classmethod
    def from_env(cls, **overrides) -> "CodePerceptionSettings":
        """Raise SettingsError naming every bad variable (the service's and the shared limits)."""
        values = load(COMPONENT, limits.COMPONENT)
        v = {var.name: value for var, value in ((var, values[var.name]) for var in _ALL)}
        settings = dict(
            grpc_host=v[GRPC_HOST.name], grpc_port=v[GRPC_PORT.name], metrics_host=v[METRICS_HOST.name],
            metrics_port=v[METRICS_PORT.name], sandbox_url=v[SANDBOX_URL.name], backend=v[BACKEND.name].lower(),
            max_candidates=values[limits.MAX_CANDIDATES.name],
            max_refine_renders=values[limits.MAX_REFINE_RENDERS.name],
            configured_refine_renders=int(v[REFINE_RENDERS.name]) if v[REFINE_RENDERS.name] else None,
            max_code_bytes=values[limits.MAX_CODE_BYTES.name],
            max_image_pixels=values[limits.MAX_IMAGE_PIXELS.name], max_image_bytes=values[limits.MAX_BODY_BYTES.name],
            render_dpi=v[RENDER_DPI.name], render_timeout_s=v[RENDER_TIMEOUT_S.name],
            default_deadline_s=v[DEFAULT_DEADLINE_S.name], sandbox_retry_s=v[SANDBOX_RETRY_S.name],
            log_level=v[LOG_LEVEL.name], dataset_dir=Path(v[DATASET_DIR.name]),
            dataset_jsonl=v[DATASET_JSONL.name], dataset_images=v[DATASET_IMAGES.name],
            retrieval_index=Path(v[RETRIEVAL_INDEX.name]), retrieval_k=v[RETRIEVAL_K.name],
            openai_base_url=v[OPENAI_BASE_URL.name].rstrip("/"), openai_model=v[OPENAI_MODEL.name],
            openai_api_key=v[OPENAI_API_KEY.name], prompt=v[PROMPT.name],
            prompt_file=v[PROMPT_FILE.name], system_prompt=v[SYSTEM_PROMPT.name],
            sampling=SamplingDefaults(temperature=v[TEMPERATURE.name], top_p=v[TOP_P.name], top_k=v[TOP_K.name],
                                      repetition_penalty=v[REPETITION_PENALTY.name],
                                      presence_penalty=v[PRESENCE_PENALTY.name], max_tokens=v[MAX_TOKENS.name]),
            generation_concurrency=v[GENERATION_CONCURRENCY.name], triton_url=v[TRITON_URL.name],
            triton_model=v[TRITON_MODEL.name])
        settings.update(overrides)
        return cls(**settings)


_ALL = (URL, GRPC_HOST, GRPC_PORT, METRICS_HOST, METRICS_PORT, SANDBOX_URL, BACKEND, RENDER_DPI,
        RENDER_TIMEOUT_S, DEFAULT_DEADLINE_S, SANDBOX_RETRY_S, REFINE_RENDERS, LOG_LEVEL, DATASET_DIR, DATASET_JSONL,
        DATASET_IMAGES, RETRIEVAL_INDEX, RETRIEVAL_K, OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_API_KEY, PROMPT,
        PROMPT_FILE, SYSTEM_PROMPT, MAX_TOKENS, TEMPERATURE, TOP_P, TOP_K, REPETITION_PENALTY, PRESENCE_PENALTY,
        GENERATION_CONCURRENCY, TRITON_URL, TRITON_MODEL)

"""Each limit, port and cap is defined once: read from its one place, and every other component
checked against it (the gateway's settings, the code-perception service, the sandbox's defaults,
the devstack, the chart's generated values, the images' EXPOSE lines). Where a component cannot
import the value (the sandbox is self-contained, a Dockerfile is not Python), its copy is checked
to agree here; anywhere else, the literal written a second time fails the source scan."""
import ast
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from gateway import settings as gateway_settings
from percept_sandbox import client as sandbox_client
from percept_sandbox import settings as sandbox_settings
from services.codeperception import settings as codeperception_settings
from services.common import grpc_channels, limits
from services.common.errors import ErrorCode, PerceptError
from services.common.net import local_address
from services.common.settings import registered
from services.evaluation import settings as evaluation_settings
from services.evaluation.synth import settings as synth_settings
from services.models.tokenvl.triton.generation import request_from_inputs
from services.triton import generation as contract
from services.triton import settings as triton_settings

ROOT = Path(__file__).resolve().parents[2]
PYTHON_TREES = ("gateway", "services", "sandbox-runner/percept_sandbox")


def _python_files():
    for top in PYTHON_TREES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "_proto" not in path.parts:
                yield path


def _literals(path: Path):
    """(line, value) of every number and string constant that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            yield node.lineno, node.value


# --- ports ------------------------------------------------------------------------------------

# Each port, and the one settings module that declares it (the component that binds it).
PORTS = {
    sandbox_settings.GRPC_PORT.default: "sandbox-runner/percept_sandbox/settings.py",
    sandbox_settings.METRICS_PORT.default: "sandbox-runner/percept_sandbox/settings.py",
    triton_settings.GRPC_PORT.default: "services/triton/settings.py",
    codeperception_settings.GRPC_PORT.default: "services/codeperception/settings.py",
}


def test_each_port_is_written_once_in_the_code():
    repeated = []
    for path in _python_files():
        relative = path.relative_to(ROOT).as_posix()
        for line, value in _literals(path):
            for port, owner in PORTS.items():
                written = value == port if isinstance(value, int) and not isinstance(value, bool) else \
                    isinstance(value, str) and re.search(rf":{port}\b", value) is not None
                if written and relative != owner:
                    repeated.append(f"{relative}:{line} ({port}, declared in {owner})")
    assert not repeated, "a port written again instead of read from its settings: " + ", ".join(repeated)


def test_client_defaults_dial_the_ports_the_components_bind():
    sandbox = local_address(sandbox_settings.GRPC_PORT.default)
    assert codeperception_settings.SANDBOX_URL.default == sandbox
    assert evaluation_settings.SANDBOX_URL.default == sandbox
    assert synth_settings.SANDBOX_URL.default == sandbox
    assert codeperception_settings.TRITON_URL.default == local_address(triton_settings.GRPC_PORT.default)


def _exposed(dockerfile: str) -> set[int]:
    text = (ROOT / dockerfile).read_text(encoding="utf-8")
    return {int(port) for line in re.findall(r"^EXPOSE (.+)$", text, re.M) for port in line.split()}


@pytest.mark.parametrize("dockerfile, ports", [
    ("sandbox-runner/Dockerfile", lambda: {sandbox_settings.GRPC_PORT.default, sandbox_settings.METRICS_PORT.default}),
    ("docker/triton.Dockerfile", lambda: {triton_settings.HTTP_PORT.default, triton_settings.GRPC_PORT.default,
                                          triton_settings.METRICS_PORT.default}),
    ("docker/codeperception.Dockerfile", lambda: {codeperception_settings.GRPC_PORT.default,
                                                  codeperception_settings.METRICS_PORT.default}),
    ("docker/gateway.Dockerfile", lambda: {gateway_settings.PORT.default}),
], ids=["sandbox", "triton", "codeperception", "gateway"])
def test_an_image_exposes_the_ports_its_settings_declare(dockerfile, ports):
    assert _exposed(dockerfile) == ports()


def test_the_chart_serves_the_ports_the_settings_declare():
    generated = yaml.safe_load((ROOT / "helm/percept/files/settings.generated.yaml").read_text())["ports"]
    assert generated["sandbox"] == {"grpc": sandbox_settings.GRPC_PORT.default,
                                    "metrics": sandbox_settings.METRICS_PORT.default}
    assert generated["triton"]["grpc"] == triton_settings.GRPC_PORT.default
    assert generated["codeperception"]["grpc"] == codeperception_settings.GRPC_PORT.default


# --- the gRPC message cap -------------------------------------------------------------------------

def test_the_message_cap_is_defined_once():
    assert sandbox_client.MAX_RESPONSE_BYTES == grpc_channels.MAX_MESSAGE_BYTES  # the sandbox's own copy
    written = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in _python_files()
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.BinOp) and ast.unparse(node) == "64 * 1024 * 1024"]
    allowed = {"services/common/grpc_channels.py", "sandbox-runner/percept_sandbox/api/client.py"}
    assert {place.rsplit(":", 1)[0] for place in written} <= allowed, written


# --- stop strings ---------------------------------------------------------------------------------

def _tokenvl_request(stops: int):
    inputs = {contract.PROMPT.name: np.array([b"read it"], dtype=object),
              contract.STOP.name: np.array([f"s{i}".encode() for i in range(stops)], dtype=object)}
    return request_from_inputs(inputs.get)


def test_the_model_takes_as_many_stop_strings_as_the_gateway_lets_through():
    from gateway.chat_schemas import ChatCompletionRequest

    schema = ChatCompletionRequest.model_json_schema()["properties"]["stop"]
    listed = next(branch for branch in schema["anyOf"] if branch.get("type") == "array")
    assert listed["maxItems"] == contract.MAX_STOP_STRINGS
    assert len(_tokenvl_request(contract.MAX_STOP_STRINGS).stops) == contract.MAX_STOP_STRINGS
    with pytest.raises(PerceptError) as refused:
        _tokenvl_request(contract.MAX_STOP_STRINGS + 1)
    assert refused.value.code is ErrorCode.INVALID_REQUEST


# --- code size and candidates ---------------------------------------------------------------------

def test_one_variable_per_limit_across_the_platform():
    from services.settings_catalog import import_all_settings

    import_all_settings()
    for limit in (limits.MAX_CODE_BYTES, limits.MAX_CANDIDATES):
        stem = limit.name.removeprefix("PERCEPT_")
        declared = [var.name for var in registered() if var.name.endswith(stem)]
        assert declared == [limit.name], f"{stem} declared as {declared}: read limits.{stem} instead"


def test_the_gateway_and_code_perception_read_the_same_variables(monkeypatch):
    from gateway.settings import GatewaySettings
    from services.codeperception.settings import CodePerceptionSettings

    monkeypatch.setenv(limits.MAX_CODE_BYTES.name, "1234")
    monkeypatch.setenv(limits.MAX_CANDIDATES.name, "3")
    gateway, service = GatewaySettings.from_env(), CodePerceptionSettings.from_env()
    assert gateway.max_code_bytes == service.max_code_bytes == 1234
    assert gateway.max_candidates == service.max_candidates == 3


def test_the_sandbox_is_handed_the_platforms_code_size(monkeypatch):
    """The sandbox declares its own variable (it imports nothing from services/): its default agrees,
    and `make up` (and percept-eval's local sandbox) pass it the platform's value."""
    from services.devstack import sandbox_component

    assert sandbox_settings.MAX_CODE_BYTES.default == limits.MAX_CODE_BYTES.default
    monkeypatch.setenv(limits.MAX_CODE_BYTES.name, "4321")
    assert sandbox_component(1, 2).env[sandbox_settings.MAX_CODE_BYTES.name] == "4321"


# --- the metadata deadline ------------------------------------------------------------------------

def test_the_metadata_deadline_is_defined_once():
    """Health, model-config and generator calls share grpc_channels.METADATA_TIMEOUT_S (there were
    2.0 s and 5.0 s for the same job)."""
    defined = [f"{path.relative_to(ROOT)}:{node.lineno}" for path in _python_files()
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, ast.Assign) and any(isinstance(target, ast.Name) and "METADATA_TIMEOUT" in target.id
                                                       for target in node.targets)]
    assert defined == ["services/common/grpc_channels.py:" + str(_line_of("METADATA_TIMEOUT_S ="))], defined


def _line_of(text: str) -> int:
    lines = (ROOT / "services/common/grpc_channels.py").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.startswith(text))

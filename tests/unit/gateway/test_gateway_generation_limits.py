"""The generation limits, one function each (gateway/generation_limits.py): chat and VQA call the
same ones, so a cap reads and answers the same on both routes."""
import ast
from pathlib import Path

import pytest

from gateway.generation_limits import check_context, check_image_count, check_max_tokens
from services.common.errors import ErrorCode, PerceptError
from services.triton.generation import ModelLimits

LIMITS = ModelLimits(context_length=100, max_images=2, model_id="m")
GATEWAY = Path(__file__).resolve().parents[3] / "gateway"


def _refusal(check) -> PerceptError:
    with pytest.raises(PerceptError) as refused:
        check()
    return refused.value


def test_the_image_count_is_refused_above_its_cap_only():
    check_image_count(2, 2, "images")
    error = _refusal(lambda: check_image_count(3, 2, "images"))
    assert error.code is ErrorCode.TOO_MANY_IMAGES and error.details == {"param": "images", "max_images": 2}


def test_max_tokens_is_refused_above_the_gateway_cap_only():
    check_max_tokens(None, 10, "max_tokens")
    check_max_tokens(10, 10, "max_tokens")
    error = _refusal(lambda: check_max_tokens(11, 10, "max_completion_tokens"))
    assert error.code is ErrorCode.INVALID_REQUEST and error.details == {"param": "max_completion_tokens"}


def test_max_tokens_must_leave_room_in_the_models_context():
    check_context(None, LIMITS, "max_tokens")
    check_context(99, LIMITS, "max_tokens")
    assert _refusal(lambda: check_context(100, LIMITS, "max_tokens")).code is ErrorCode.CONTEXT_LENGTH_EXCEEDED


def _calls(path: Path, name: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [ast.unparse(node) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name]


def test_vqa_checks_the_gateway_caps_when_reading_and_the_models_in_the_route():
    """Each cap once: the body reader holds the gateway's settings, the route the model's limits."""
    reader, route = GATEWAY / "vqa_inputs.py", GATEWAY / "routes" / "documents.py"
    assert all("settings." in call for call in _calls(reader, "check_image_count") + _calls(reader, "check_max_tokens"))
    assert _calls(reader, "check_image_count") and _calls(reader, "check_max_tokens")
    assert not _calls(route, "check_max_tokens")
    assert all("settings." not in call and "limits" in call for call in _calls(route, "check_image_count"))
    assert _calls(route, "check_image_count") and _calls(route, "check_context")


@pytest.mark.parametrize("code", [ErrorCode.TOO_MANY_IMAGES, ErrorCode.CONTEXT_LENGTH_EXCEEDED,
                                  ErrorCode.TOO_MANY_PAGES, ErrorCode.PAGES_OUT_OF_RANGE])
def test_limits_the_document_cannot_state_are_422_and_400_in_openai_shape(code):
    """A VQA request the OpenAPI document takes may still be over the served model's max_images (read
    from Triton, below the gateway's maxItems) or context, or select pages the PDF lacks: 422, which the
    contract fuzzer's configuration allows for a schema-valid request (400 is what the schema refuses).
    The chat route keeps OpenAI's 400 for every client fault."""
    from gateway.openai_errors import openai_status

    error = PerceptError(code, "over a limit")
    assert error.http_status == 422 and error.grpc_status_name == "INVALID_ARGUMENT"
    assert openai_status(error) == 400

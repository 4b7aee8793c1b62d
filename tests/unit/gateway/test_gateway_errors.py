import pytest
from tritonclient.utils import InferenceServerException

from services.common.errors import ErrorCode, PerceptError
from services.common.queries import validate_query
from services.triton.errors import map_triton_exception


@pytest.mark.parametrize("message,status,code", [
    ("[invalid_image] not a decodable image", "StatusCode.INVALID_ARGUMENT", ErrorCode.INVALID_IMAGE),
    ("[resource_exhausted] encoder queue full", "StatusCode.UNAVAILABLE", ErrorCode.RESOURCE_EXHAUSTED),
    ("failed to connect to all addresses", "StatusCode.UNAVAILABLE", ErrorCode.UPSTREAM_UNAVAILABLE),
    # a restarted Triton that has not loaded the model yet: retry later, not a 502
    ("Request for unknown model: 'tokenfd_locate' is not found", "StatusCode.NOT_FOUND",
     ErrorCode.UPSTREAM_UNAVAILABLE),
    ("Deadline Exceeded", "StatusCode.DEADLINE_EXCEEDED", ErrorCode.UPSTREAM_TIMEOUT),
    ("something odd", "StatusCode.INTERNAL", ErrorCode.UPSTREAM_ERROR),
    ("[not_a_code] text", "StatusCode.INTERNAL", ErrorCode.UPSTREAM_ERROR),
])
def test_triton_errors_map_to_typed_errors(message, status, code):
    error = map_triton_exception(InferenceServerException(message, status=status))
    assert error.code is code


def test_mapped_client_fault_keeps_message_without_prefix():
    error = map_triton_exception(InferenceServerException("[query_too_long] 99 tokens",
                                                          status="StatusCode.INVALID_ARGUMENT"))
    assert error.message == "99 tokens" and error.http_status == 422


def test_retryable_errors_carry_a_retry_hint():
    assert PerceptError(ErrorCode.UPSTREAM_UNAVAILABLE, "x").retry_after_s is not None
    assert PerceptError(ErrorCode.RESOURCE_EXHAUSTED, "x").http_status == 429
    assert PerceptError(ErrorCode.INVALID_IMAGE, "x").retry_after_s is None


@pytest.mark.parametrize("query,code", [("", ErrorCode.INVALID_QUERY), ("  ", ErrorCode.INVALID_QUERY),
                                        ("x" * 1000, ErrorCode.QUERY_TOO_LONG),
                                        ("a\nb", ErrorCode.INVALID_QUERY)])
def test_bad_queries(query, code):
    with pytest.raises(PerceptError) as info:
        validate_query(query)
    assert info.value.code is code


def test_good_query_passes():
    assert validate_query("Total: 42") == "Total: 42"

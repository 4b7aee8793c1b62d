"""The chart hands the sandbox-runner the platform's code-size limit: the gateway and code perception
read PERCEPT_MAX_CODE_BYTES from the settings ConfigMap, the self-contained runner reads its own
PERCEPT_SANDBOX_MAX_CODE_BYTES, and both come from the same value (default or sharedSettings)."""
from __future__ import annotations

import pytest

from percept_sandbox import settings as sandbox_settings
from services.common import limits
from tests.helm.chart import env_of, one, template


def _code_size(objects: list[dict]) -> tuple[str, str]:
    config = one(objects, "ConfigMap", "settings")["data"]
    runner = one(objects, "Deployment", "sandbox")["spec"]["template"]["spec"]["containers"][0]
    return config[limits.MAX_CODE_BYTES.name], env_of(runner)[sandbox_settings.MAX_CODE_BYTES.name]


@pytest.mark.parametrize("args, expected", [
    ((), str(limits.MAX_CODE_BYTES.default)),
    (("--set-string", f"sharedSettings.{limits.MAX_CODE_BYTES.name}=1048576"), "1048576"),
], ids=["default", "overridden"])
def test_the_sandbox_gets_the_code_size_the_services_check(args, expected):
    assert _code_size(template(*args)) == (expected, expected)

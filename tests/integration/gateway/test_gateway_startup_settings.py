"""A malformed environment value stops the gateway process at start-up, naming the variable
(instead of a 500 on the first request)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from services.common.net import find_free_ports

BAD_VALUES = {
    "PERCEPT_GATEWAY_RETRY_AFTER_S": "abc",
    "PERCEPT_GATEWAY_TRITON_TIMEOUT_S": "-1",
    "PERCEPT_GATEWAY_TRITON_URL": "no-port-here",
    "PERCEPT_MAX_BODY_BYTES": "0",
    "PERCEPT_LOG_LEVEL": "loud",
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_bad_value_stops_start_up_and_names_the_variable(name):
    (port,) = find_free_ports(1)
    env = {**os.environ, "PERCEPT_GATEWAY_PORT": str(port), name: BAD_VALUES[name]}
    result = subprocess.run([sys.executable, "-m", "gateway"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert name in result.stderr and repr(BAD_VALUES[name]) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_every_bad_value_is_named_at_once():
    env = {**os.environ, **BAD_VALUES}
    result = subprocess.run([sys.executable, "-m", "gateway"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert all(name in result.stderr for name in BAD_VALUES), result.stderr

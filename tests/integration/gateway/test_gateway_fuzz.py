"""Contract fuzzing: schemathesis against a real gateway process with the real Triton and the
real STEM chain (code-perception service, reference backend, and sandbox) behind it; every
operation in the document, every check, no failure.

Generic on purpose: the operations come from the served document, so a route added later is
fuzzed too. Auth is on and the fuzzer sends the key, so the `ignored_auth` check also runs.
Bounded by --max-examples (about a minute on two cores). Per-operation settings, with the
reason for each, are in schemathesis.toml next to this file.
"""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.integration.gateway.support import running_gateway

API_KEY = "fuzz-key"
MAX_EXAMPLES = 15
CONFIG = Path(__file__).with_name("schemathesis.toml")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@pytest.fixture(scope="module")
def fuzzed_gateway(triton_server, stem):
    with running_gateway(triton_server.grpc_url, PERCEPT_API_KEYS=API_KEY,
                         PERCEPT_CODEPERCEPTION_URL=stem.codeperception_url) as url:
        yield url


def _operations(document: dict) -> set[str]:
    return {f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method in item if method in METHODS}


@pytest.mark.timeout(600)
def test_every_operation_passes_every_check(fuzzed_gateway, tmp_path):
    document = httpx.get(f"{fuzzed_gateway}/openapi.json", timeout=10).json()
    operations = _operations(document)
    assert {"POST /v1/text/locate", "POST /v1/stem/image-to-code", "POST /v1/stem/render",
            "POST /v1/stem/score"} <= operations
    junit = tmp_path / "junit.xml"
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG), "run",
               f"{fuzzed_gateway}/openapi.json", "--checks", "all", "--max-examples", str(MAX_EXAMPLES),
               "--header", f"Authorization: Bearer {API_KEY}", "--generation-database", "none",
               "--report", "junit", "--report-junit-path", str(junit)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=540)
    output = result.stdout[-8000:] + result.stderr[-2000:]
    assert result.returncode == 0, output

    suite = ET.parse(junit).getroot()
    tested = {case.get("name") for case in suite.iter("testcase")}
    assert tested == operations, f"not fuzzed: {operations - tested}\n{output}"
    assert suite.get("failures") == "0" and suite.get("errors") == "0", output

"""checkov, a scanner platform teams run in CI and admission, over `helm template --namespace percept`.

The default and the production values must pass every check but the skips of helm/checkov.yaml, each
explained in docs/deploy.md; with image digests set, they pass with no skip at all.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helm.chart import CHART, NAMESPACE, PRODUCTION, RELEASE, ROOT, helm

CHECKOV = Path(sys.prefix) / "checkov" / "bin" / "checkov"
CONFIG = ROOT / "helm" / "checkov.yaml"
DOCS = ROOT / "docs" / "deploy.md"
DIGEST = "sha256:" + "ab" * 32
DIGESTS = tuple(arg for component in ("gateway", "triton", "codeperception", "sandbox")
                for arg in ("--set", f"{component}.image.digest={DIGEST}"))


def skipped_checks() -> list[str]:
    return yaml.safe_load(CONFIG.read_text())["skip-check"]


def scan(tmp_path: Path, *values: str, skips: bool = True) -> dict:
    """checkov's JSON report of the chart rendered with these values (one framework: kubernetes)."""
    if not CHECKOV.exists():
        raise RuntimeError(f"{CHECKOV} is missing: run `make checkov`")
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *values).stdout)
    options = ["--config-file", str(CONFIG)] if skips else ["--framework", "kubernetes"]
    done = subprocess.run([str(CHECKOV), "-f", str(rendered), *options, "--skip-download", "-o", "json"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr  # 1: findings, anything else: checkov itself failed
    report = json.loads(done.stdout)
    (report,) = report if isinstance(report, list) else [report]
    assert report["check_type"] == "kubernetes"
    assert report["summary"]["parsing_errors"] == 0, report["summary"]
    assert report["summary"]["passed"] > 100, "checkov ran almost no checks: did it read the render?"
    return report


def failures(report: dict) -> list[str]:
    """One readable line per failed check: id, resource, what it wants."""
    return [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]


@pytest.mark.parametrize("values", [(), ("-f", str(PRODUCTION))], ids=["default", "production"])
def test_the_chart_passes_checkov_but_the_documented_skips(tmp_path, values):
    report = scan(tmp_path, *values)
    failed = failures(report)
    assert not failed, "checkov finds:\n" + "\n".join(failed)
    assert {c["check_id"] for c in report["results"]["skipped_checks"]} <= set(skipped_checks())


def test_with_image_digests_the_chart_passes_checkov_without_any_skip(tmp_path):
    report = scan(tmp_path, "-f", str(PRODUCTION), *DIGESTS, skips=False)
    failed = failures(report)
    assert not failed, "checkov finds:\n" + "\n".join(failed)


def test_the_scan_catches_a_pod_without_a_network_policy(tmp_path):
    """The check above can fail: with the policies off, checkov names each unprotected pod."""
    failed = failures(scan(tmp_path, "--set", "networkPolicy.enabled=false"))
    assert sum(line.startswith("CKV2_K8S_6 ") for line in failed) == 4, "\n".join(failed)


def test_every_skip_has_its_reason_in_the_chart_docs():
    skips = skipped_checks()
    assert 0 < len(skips) <= 3, "the skip list is meant to stay short"
    docs = DOCS.read_text()
    for check_id in skips:
        rows = [line for line in docs.splitlines() if line.startswith(f"| `{check_id}`")]
        assert rows, f"{check_id} is skipped in {CONFIG.name} without a reason in {DOCS.name}"
        reason = rows[0].split("|")[-2].strip()
        assert len(reason) > 40, f"{check_id}: the reason in {DOCS.name} is too short: {reason!r}"

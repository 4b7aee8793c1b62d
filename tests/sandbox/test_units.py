"""In-process checks of the runner's pure parts (no jail, no server)."""
from __future__ import annotations

import dataclasses
import json
import re
import struct
from pathlib import Path

import pytest

from percept_sandbox import settings
from percept_sandbox.config import SandboxConfig
from percept_sandbox.render import protocol, sequence, wire
from percept_sandbox.render.protocol import RenderLimits
from percept_sandbox.render.results import RenderOptions, Status

DOC = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"


def test_docs_configuration_table_is_current():
    match = re.search(r"<!-- sandbox-config:start -->\n(.*?)<!-- sandbox-config:end -->", DOC.read_text(), re.S)
    assert match, "docs/sandbox.md lacks the config-table markers"
    assert match.group(1).strip() == settings.markdown_table().strip(), (
        "docs/sandbox.md is stale: paste `python -m percept_sandbox.settings` between the markers")


def test_every_setting_has_the_prefix_and_a_meaning():
    for setting in settings.declared():
        assert setting.name.startswith("PERCEPT_SANDBOX_") and len(setting.help) > 10


def test_bad_environment_values_are_reported(monkeypatch):
    monkeypatch.setenv("PERCEPT_SANDBOX_WORKERS", "many")
    with pytest.raises(ValueError, match="PERCEPT_SANDBOX_WORKERS"):
        SandboxConfig.from_env()
    monkeypatch.setenv("PERCEPT_SANDBOX_WORKERS", "2")
    monkeypatch.setenv("PERCEPT_SANDBOX_JAIL_UID", "0")
    with pytest.raises(ValueError, match="uid"):
        SandboxConfig.from_env()


@pytest.mark.parametrize("data", [
    b"\x00\x00",                                  # truncated header
    struct.pack(">I", 10) + b"short",             # truncated frame
    struct.pack(">I", 0) * 40,                    # too many frames
])
def test_garbage_frames_are_protocol_errors(data):
    with pytest.raises(wire.ProtocolError):
        wire.split_frames(data, max_frames=17)


def test_frames_round_trip():
    payloads = [b"{}", b"", b"x" * 1000]
    assert wire.split_frames(b"".join(wire.frame(p) for p in payloads), max_frames=3) == payloads


LIMITS = RenderLimits(max_figures=4, max_figure_pixels=10**7, max_image_bytes=10**8, max_trace_bytes=1 << 20)


def render_here(code: str, max_trace: int = 1 << 20):
    output = sequence.render_in_process(code, RenderOptions(), dataclasses.replace(LIMITS, max_trace_bytes=max_trace))
    return output.outcome, output.figures, json.loads(output.trace_json) if output.trace_json else None


def test_closed_figures_are_kept_and_empty_ones_skipped():
    outcome, images, tr = render_here(
        "import matplotlib.pyplot as plt\nplt.figure()\nfig = plt.figure(figsize=(2, 1))\n"
        "plt.plot([1, 2])\nplt.close(fig)\nplt.savefig('/nowhere.png')\n")
    assert outcome.status is Status.OK
    assert [(i.width_px, i.height_px) for i in images] == [(200, 100)]
    assert tr["figures"][0]["axes"][0]["counts"]["lines"] == 1


def test_giant_figures_are_refused_before_drawing():
    outcome, images, _ = render_here("import matplotlib.pyplot as plt\nplt.figure(figsize=(500, 500))\nplt.plot([1])\n")
    assert outcome.status is Status.OUTPUT_LIMIT and "px" in outcome.error_message and not images


def test_the_in_process_render_leaves_matplotlib_as_it_was():
    import matplotlib
    import matplotlib.figure
    import matplotlib.pyplot as plt

    savefig, color = matplotlib.figure.Figure.savefig, matplotlib.rcParams["lines.color"]
    outcome, _, _ = render_here("import matplotlib\nimport matplotlib.pyplot as plt\n"
                                "matplotlib.rcParams['lines.color'] = 'red'\nplt.plot([1, 2])\n")
    assert outcome.status is Status.OK
    assert matplotlib.figure.Figure.savefig is savefig and matplotlib.rcParams["lines.color"] == color
    assert plt.get_fignums() == []


def test_an_oversized_trace_is_trimmed_but_valid():
    code = ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
            "for i in range(300):\n    ax.text(i / 300, 0.5, 'label %d' % i)\n")
    _, _, full = render_here(code)
    assert not full["truncated"] and len(full["figures"][0]["texts"]) > 300
    _, _, small = render_here(code, max_trace=8000)
    assert small["truncated"] and small["version"] == 1
    assert len(json.dumps(small, separators=(",", ":"), ensure_ascii=False).encode()) <= 8000


def test_exceptions_with_hostile_str_are_reported():
    outcome, _, _ = render_here(
        "class Evil(Exception):\n    def __str__(self):\n        raise RuntimeError('no')\nraise Evil()\n")
    assert outcome.status is Status.EXEC_ERROR
    assert (outcome.error_type, outcome.error_message) == ("Evil", "<unprintable>")


def test_syntax_errors_and_null_bytes_are_rejected():
    assert protocol.compile_program("def (:\n").status is Status.REJECTED
    assert protocol.compile_program("x = 1\x00").status is Status.REJECTED

"""The protocol's pieces: code extraction, upstream's save injection and how the sandbox
handles what it breaks, the JPEG pixel cap, and judge score parsing with markdown."""
import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from services.codeperception.extraction import extract_code
from services.codeperception.vlm_image import MAX_PIXELS, protocol_jpeg
from services.evaluation.judge import parse_score
from services.evaluation.protocol import DPI, FONT_PRELUDE, inject_save, upstream_script

SAVE = "plt.savefig('/out/a.png', dpi=300)"


@pytest.mark.parametrize("answer, code", [
    ("```python\nx = 1\n```\n```python\nx = 2\n```", "x = 1\n"),               # the first python block
    ("```\nplain = 1\n```\n```python\nx = 2\n```", "x = 2\n"),                 # python wins over plain
    ("text\n```\nplain = 1\n```", "plain = 1\n"),                              # else the first plain block
    ("<think>```python\ndraft = 1\n```</think>\n```python\nfinal = 1\n```", "final = 1\n"),  # after </think>
    ("<think>```python\ndraft = 1\n```</think> no code after thinking", None),
    ("```json\n{\"a\": 1}\n```", None),                                          # another language is not code
    ("no code at all", None),
])
def test_extraction_follows_the_benchmark_rule(answer, code):
    assert extract_code(answer) == code


def test_save_injection_replaces_the_first_savefig_line_keeping_its_indentation():
    code = "import matplotlib.pyplot as plt\nif True:\n    plt.savefig('x.png')\nplt.savefig('y.png')\n"
    assert inject_save(code, "/out/a.png").splitlines()[2:] == ["    " + SAVE, "plt.savefig('y.png')"]


def test_save_injection_acts_on_the_first_savefig_or_show_line_only():
    code = "import matplotlib.pyplot as plt\nplt.show()\nplt.savefig('y.png')\n"
    assert inject_save(code, "/out/a.png").splitlines()[1:] == [SAVE, "plt.show()", "plt.savefig('y.png')"]


def test_save_injection_goes_before_the_first_show_else_at_the_end():
    shown = inject_save("import matplotlib.pyplot as plt\nplt.plot([1])\n  plt.show()\n", "/out/a.png")
    assert shown.splitlines()[-2:] == ["  " + SAVE, "  plt.show()"]
    appended = inject_save("import matplotlib.pyplot as plt\nplt.plot([1])", "/out/a.png")
    assert appended.splitlines()[-1] == SAVE
    assert upstream_script("x = 1", "/out/a.png").startswith(FONT_PRELUDE) and f"dpi={DPI}" in SAVE


def test_upstream_rule_breaks_multiline_savefig_and_misses_fig_savefig():
    multiline = "import matplotlib.pyplot as plt\nplt.plot([1])\nplt.savefig(\n    'x.png',\n    dpi=72,\n)\n"
    with pytest.raises(SyntaxError):
        compile(inject_save(multiline, "/out/a.png"), "sample", "exec")
    figure_method = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nfig.savefig('x.png')\nplt.close()\n"
    injected = inject_save(figure_method, "/out/a.png")
    assert injected.splitlines()[-2:] == ["plt.close()", SAVE]  # saved after close: a blank figure


def has_red(image: Image.Image) -> bool:
    pixels = np.asarray(image.convert("RGB")).astype(int)
    return bool(((pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)).any())


HAZARDS = {
    "multi_line_savefig": "plt.savefig(\n    'x.png',\n    dpi=72,\n    bbox_inches='tight',\n)\n",
    "fig_savefig_then_close": "fig.savefig('/etc/x.png')\nplt.close(fig)\n",
}


@pytest.mark.parametrize("ending", sorted(HAZARDS))
def test_the_sandbox_renders_what_the_upstream_rule_breaks(eval_sandbox, ending):
    code = ("import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 1.5))\n"
            "ax.plot([0, 1, 2], [0, 1, 0], color='red')\n" + HAZARDS[ending])
    with eval_sandbox.client() as client:
        response = client.render(code, dpi=DPI, retries=5)
    assert response.status == 1, response.detail  # RENDER_STATUS_OK
    image = Image.open(io.BytesIO(response.figures[0].data))
    assert image.size == (600, 450)  # the program's figure size at the protocol's dpi
    assert has_red(image)  # not a blank figure


def test_upstream_pattern_saves_blank_after_close(tmp_path):
    """What the upstream rule does with `fig.savefig` + `plt.close()`: it executes (counts as
    executed) and writes an empty figure -- run as upstream does, in a bare subprocess."""
    code = ("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
            "fig, ax = plt.subplots(figsize=(2, 1.5))\nax.plot([0, 1], [0, 1], color='red')\n"
            "fig.savefig('ignored.png')\nplt.close()\n")
    out = tmp_path / "a.png"
    done = subprocess.run([sys.executable, "-c", inject_save(code, str(out))], cwd=tmp_path, timeout=60)
    assert done.returncode == 0
    assert not has_red(Image.open(out))


def test_jpeg_reencoding_caps_the_pixels_on_the_qwen_grid():
    big = Image.new("RGB", (2400, 1500), "white")
    capped = Image.open(io.BytesIO(protocol_jpeg(big)))
    assert capped.format == "JPEG"
    assert capped.width * capped.height <= MAX_PIXELS and capped.width % 32 == 0 and capped.height % 32 == 0
    assert abs(capped.width / capped.height - 2400 / 1500) < 0.05
    small = Image.open(io.BytesIO(protocol_jpeg(Image.new("RGB", (640, 480), "white"))))
    assert small.format == "JPEG" and small.size == (640, 480)


@pytest.mark.parametrize("reply, score", [
    ("Looks close.\nScore: 87/100", 87.0),
    ("**Score:** 72 / 100", 72.0),
    ("__Score__: 64.5/100 overall", 64.5),
    ("*Score*: **90**/100", 90.0),
    ("Score: 10/100 first, then Score: 20/100", 10.0),            # the first out-of-100 match
    ("no fraction. Score: 40 and later Score: 55", 55.0),          # else the last bare score
    ("Score: 30/10", None),                                         # out of 10 is not a score out of 100
    ("Score: 140/100", None),
    ("I cannot judge this.", None),
])
def test_score_parsing_tolerates_markdown(reply, score):
    assert parse_score(reply) == score


def test_the_ground_truths_trace_does_not_depend_on_the_dpi(eval_sandbox, split40):
    """Why the harness renders the ground truth at TRACE_DPI only: its trace metrics against
    the same program's 300-dpi trace are all 1 (one sample of every family)."""
    import json

    from services.codeperception.dataset import read_samples
    from services.codeperception.fidelity import trace_metrics
    from services.evaluation.harness import TRACE_DPI
    from services.evaluation.synth import families

    samples = read_samples(split40.data, split40.images)[:len(families.FAMILIES)]  # round-robin: one per family
    assert len(samples) == len(families.FAMILIES)
    with eval_sandbox.client() as client:
        for sample in samples:
            high, low = (json.loads(client.render(sample.code, dpi=dpi, retries=5).trace_json)
                         for dpi in (DPI, TRACE_DPI))
            assert set(trace_metrics(high, low).values()) == {1.0}, sample.image_path.name

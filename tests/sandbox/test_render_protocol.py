"""The render protocol, through the real gRPC server and jail.

The runner, not the program, saves the figures: whatever the program does with
show/savefig/close, every figure it drew comes back, in creation order, at the
requested DPI.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from percept_sandbox.api import sandbox_pb2

from .harness import corpus_program

OK = sandbox_pb2.RENDER_STATUS_OK


def pixels(figure) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(figure.data)).convert("RGB"))


def trace_of(response) -> dict:
    return json.loads(response.trace_json)


def test_show_returns_the_figure(sandbox):
    response = sandbox.render(corpus_program("s02_triangle_geometry.py"))  # ends with plt.show()
    assert response.status == OK, response.detail
    assert len(response.figures) == 1
    figure = response.figures[0]
    assert (figure.width_px, figure.height_px) == (500, 500)  # figsize 5x5 at the default 100 dpi
    assert figure.data.startswith(b"\x89PNG")
    assert pixels(figure).min() < 50  # something dark was drawn


@pytest.mark.parametrize("save", [
    "plt.savefig('/nonexistent/dir/out.png')",
    "plt.savefig(\n    'out.png',\n    dpi=300,\n    bbox_inches='tight',\n)",
    "fig.savefig('/etc/passwd', dpi=72)",
    "import matplotlib\nmatplotlib.use('TkAgg')\nplt.savefig('x.pdf', format='pdf')",
])
def test_savefig_to_any_path_is_ignored_and_the_runner_saves(sandbox, save):
    code = f"import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(4, 3))\nax.plot([1, 2, 3])\n{save}\n"
    response = sandbox.render(code)
    assert response.status == OK, (response.detail, response.stderr.text)
    assert [(f.width_px, f.height_px) for f in response.figures] == [(400, 300)]


def test_close_before_the_end_keeps_the_figure(sandbox):
    response = sandbox.render(corpus_program("s16_errorbars.py"))  # savefig, then plt.close()
    assert response.status == OK, response.detail
    assert len(response.figures) == 1
    assert trace_of(response)["figures"][0]["axes"][0]["xlabel"] == "voltage (V)"


def test_several_figures_come_back_in_creation_order(sandbox):
    code = """
import matplotlib.pyplot as plt
for width in (3, 4, 5):
    plt.figure(figsize=(width, 2))
    plt.plot([0, width])
    plt.title(f"w={width}")
plt.close("all")
"""
    response = sandbox.render(code)
    assert response.status == OK, response.detail
    assert [f.index for f in response.figures] == [0, 1, 2]
    assert [f.width_px for f in response.figures] == [300, 400, 500]
    titles = [fig["axes"][0]["title"] for fig in trace_of(response)["figures"]]
    assert titles == ["w=3", "w=4", "w=5"]


def test_empty_figures_are_skipped(sandbox):
    code = "import matplotlib.pyplot as plt\nplt.figure()\nfig, ax = plt.subplots()\nax.plot([1, 2])\n"
    response = sandbox.render(code)
    assert response.status == OK
    assert len(response.figures) == 1


def test_no_figure(sandbox):
    response = sandbox.render("import numpy as np\nprint(np.arange(3).sum())\n")
    assert response.status == sandbox_pb2.RENDER_STATUS_NO_FIGURE
    assert not response.figures
    assert response.stdout.text == "3\n"


@pytest.mark.parametrize("dpi, size", [(0, (640, 480)), (50, (320, 240)), (300, (1920, 1440))])
def test_dpi_option_sets_the_resolution_and_the_code_sets_the_size(sandbox, dpi, size):
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.savefig('out.png', dpi=72)\n"
    response = sandbox.render(code, dpi=dpi)
    assert response.status == OK
    figure = response.figures[0]
    assert (figure.width_px, figure.height_px) == size
    assert pixels(figure).shape[:2] == (size[1], size[0])
    assert trace_of(response)["dpi"] == (dpi or 100)


def test_svg_on_request(sandbox):
    response = sandbox.render(corpus_program("s01_sine_cosine.py"), svg=True)
    assert response.status == OK
    figure = response.figures[0]
    assert figure.format == sandbox_pb2.IMAGE_FORMAT_SVG
    assert b"<svg" in figure.data[:500]
    assert (figure.width_px, figure.height_px) == (640, 480)
    again = sandbox.render(corpus_program("s01_sine_cosine.py"), svg=True)
    assert again.figures[0].data == figure.data  # deterministic output


def test_trace_describes_figures_axes_and_texts(sandbox):
    response = sandbox.render(corpus_program("s11_subplots_grid.py"))
    assert response.status == OK
    trace = trace_of(response)
    assert trace["version"] == 1 and not trace["truncated"]
    figure = trace["figures"][0]
    assert figure["size_px"] == [800, 600]
    assert figure["suptitle"] == "Four panels"
    axes = figure["axes"]
    assert [a["grid"]["row_span"] + a["grid"]["col_span"] for a in axes] == [
        [0, 1, 0, 1], [0, 1, 1, 2], [1, 2, 0, 1], [1, 2, 1, 2]]
    assert [a["title"] for a in axes] == ["damped oscillation", "scatter", "bars", "pie"]
    assert axes[0]["counts"]["lines"] == 1
    assert axes[1]["counts"]["collections"] == 1 and axes[1]["colormaps"] == ["plasma"]
    assert axes[2]["counts"]["patches"] == 3
    assert axes[2]["xticklabels"] == ["A", "B", "C"]
    colors = {c["color"] for c in figure["colors"]}
    assert {"#4c72b0", "#dd8452", "#55a868"} <= colors
    texts = {t["text"]: t for t in figure["texts"]}
    assert texts["Four panels"]["role"] == "suptitle"
    assert texts["bars"]["role"] == "title" and texts["bars"]["axes"] == 2
    assert texts["40%"]["role"] == "text"  # pie autopct labels
    for entry in figure["texts"]:
        x0, y0, x1, y1 = entry["bbox_px"]
        assert 0 <= x0 <= x1 <= 800 and 0 <= y0 <= y1 <= 600
        assert entry["fontsize"] > 0 and entry["color"].startswith("#")


def test_trace_of_legend_ticks_scales_and_3d(sandbox):
    code = """
import numpy as np
import matplotlib.pyplot as plt
fig = plt.figure(figsize=(8, 4))
ax = fig.add_subplot(1, 2, 1)
ax.semilogy([1, 2, 3], [1, 10, 100], color="red", label="growth")
ax.text(1.5, 50, "note", fontsize=14, color="blue")
ax.set_xlim(0, 4)
ax.legend()
ax3 = fig.add_subplot(1, 2, 2, projection="3d")
ax3.plot([0, 1], [0, 1], [0, 1])
ax3.scatter([0.5], [0.5], [0.5])
ax3.set_zlabel("height")
"""
    response = sandbox.render(code)
    assert response.status == OK, response.detail
    figure = trace_of(response)["figures"][0]
    flat, cube = figure["axes"]
    assert flat["yscale"] == "log" and flat["xlim"] == [0.0, 4.0]
    assert flat["legend"] == ["growth"]
    assert flat["xticks"] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert cube["kind"] == "3d" and cube["zlabel"] == "height"
    assert cube["counts"]["artists_3d"] == 2
    note = next(t for t in figure["texts"] if t["text"] == "note")
    assert note == {**note, "role": "text", "axes": 0, "fontsize": 14.0, "color": "#0000ff"}
    assert "#ff0000" in {c["color"] for c in figure["colors"]}
    legend = next(t for t in figure["texts"] if t["text"] == "growth")
    assert legend["role"] == "legend"


def test_trace_can_be_omitted(sandbox):
    response = sandbox.render(corpus_program("s01_sine_cosine.py"), omit_trace=True)
    assert response.status == OK and response.trace_json == ""


def test_exception_reports_type_message_and_traceback(sandbox):
    code = "import matplotlib.pyplot as plt\nplt.plot([1])\nprint('before')\nraise ValueError('bad data')\n"
    response = sandbox.render(code)
    assert response.status == sandbox_pb2.RENDER_STATUS_EXEC_ERROR
    assert (response.error.type, response.error.message) == ("ValueError", "bad data")
    assert not response.figures
    assert response.stdout.text == "before\n"
    assert "line 4" in response.stderr.text and "ValueError: bad data" in response.stderr.text


def test_syntax_error_is_rejected_unrun(sandbox):
    response = sandbox.render("import matplotlib.pyplot as plt\nplt.plot([1, 2)\n")
    assert response.status == sandbox_pb2.RENDER_STATUS_REJECTED
    assert response.error.type == "SyntaxError"


def test_sys_exit_zero_still_renders(sandbox):
    code = "import sys\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])\nsys.exit(0)\n"
    assert sandbox.render(code).status == OK
    failed = sandbox.render(code.replace("exit(0)", "exit(3)"))
    assert failed.status == sandbox_pb2.RENDER_STATUS_EXEC_ERROR and failed.error.type == "SystemExit"


def test_savefig_to_a_buffer_works_for_code_that_reads_its_plot_back(sandbox):
    code = """
import io
import matplotlib.pyplot as plt
plt.plot([1, 2])
buffer = io.BytesIO()
plt.savefig(buffer, format="png")
print(buffer.getvalue()[:4])
"""
    response = sandbox.render(code)
    assert response.status == OK
    assert response.stdout.text.strip() == r"b'\x89PNG'"


def test_usage_is_reported(sandbox):
    response = sandbox.render("import time\nimport matplotlib.pyplot as plt\n"
                              "x = sum(range(3_000_000))\nplt.plot([1])\n")
    assert response.status == OK
    assert 0 < response.usage.cpu_seconds <= response.usage.wall_seconds + 0.05
    assert response.usage.peak_memory_bytes > 10 * 1024 * 1024


def test_the_whole_corpus_renders(sandbox):
    from .harness import CORPUS

    for path in sorted(CORPUS.glob("*.py")):
        response = sandbox.render(path.read_text())
        assert response.status == OK, (path.name, response.error, response.stderr.text[-2000:])
        expected = 2 if path.name == "s15_two_figures.py" else 1
        assert len(response.figures) == expected, path.name

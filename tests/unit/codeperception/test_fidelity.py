"""Fidelity: the report, the aggregate, and the image metrics on synthetic images."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from services.codeperception.fidelity import IMAGE_METRICS, METRICS, FidelityReport, score, zero_report
from services.codeperception.fidelity.images import EDGE_MAX_SIDE, SSIM_MAX_SIDE, common_size
from services.codeperception.fidelity.report import build_report
from services.common.errors import ErrorCode, PerceptError


def drawing(size=(320, 240), *, scale=1.0, color=(31, 119, 180), mode="RGB", bar_height=120) -> Image.Image:
    """A small bar chart: axes lines and three bars."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    s = lambda v: int(round(v * scale))  # noqa: E731
    draw.line([(s(40), s(20)), (s(40), s(200)), (s(300), s(200))], fill="black", width=max(1, s(2)))
    for i, height in enumerate((80, bar_height, 60)):
        draw.rectangle([s(70 + 80 * i), s(200 - height), s(110 + 80 * i), s(200)], fill=color)
    if mode == "RGBA":  # the same picture on a transparent page (whose stored colour is black)
        pixels = np.asarray(image)
        page = (pixels == 255).all(axis=2)
        alpha = np.where(page, 0, 255).astype(np.uint8)
        return Image.fromarray(np.dstack([np.where(page[..., None], 0, pixels), alpha]).astype(np.uint8), "RGBA")
    if mode == "P":  # an exact palette (a few colours), as PNG encoders write plots
        return image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return image.convert(mode)


def encode(image: Image.Image, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def blank(size=(320, 240)) -> bytes:
    return encode(Image.new("RGB", size, "white"))


REFERENCE = encode(drawing())


def test_identical_images_score_one():
    report = score(REFERENCE, REFERENCE)
    assert report.ssim == pytest.approx(1.0) and report.edge == pytest.approx(1.0)
    assert report.aggregate == pytest.approx(1.0)


def test_image_only_reports_only_image_metrics():
    report = score(REFERENCE, encode(drawing(bar_height=160)))
    assert report.mode == "image_only"
    assert report.computed == IMAGE_METRICS
    assert report.as_dict()["computed"] == ["ssim", "edge"] and report.as_dict()["text_f1"] is None


def test_one_trace_alone_is_image_only():
    trace = {"figures": []}
    assert score(REFERENCE, REFERENCE, reference_trace=trace).mode == "image_only"
    assert score(REFERENCE, REFERENCE, candidate_trace=trace).computed == IMAGE_METRICS


def test_both_traces_add_the_trace_metrics():
    trace = {"figures": [{"axes": [], "texts": [{"text": "t", "role": "title"}]}]}
    report = score(REFERENCE, REFERENCE, reference_trace=trace, candidate_trace=trace)
    assert report.mode == "image_and_trace" and report.computed == METRICS
    assert report.aggregate == pytest.approx(1.0)


def test_a_blank_candidate_scores_low():
    report = score(REFERENCE, blank())
    assert report.edge == 0.0
    assert report.ssim < 0.5  # over the drawn region; averaged over the page it would be ~0.9
    assert report.aggregate < 0.25


def test_two_blank_pages_are_identical():
    report = score(blank(), blank((100, 50)))
    assert (report.ssim, report.edge) == (1.0, 1.0)


def test_a_changed_bar_lowers_both_metrics_but_not_to_zero():
    report = score(REFERENCE, encode(drawing(bar_height=170)))
    assert 0.3 < report.ssim < 0.95 and 0.3 < report.edge < 0.95


def test_a_recoloured_drawing_lowers_ssim_not_edges():
    report = score(REFERENCE, encode(drawing(color=(44, 160, 44))))
    assert report.ssim < 0.9
    assert report.edge > 0.95  # same strokes: the edges do not see colour


def test_size_mismatch_compares_at_the_reference_geometry():
    double = score(REFERENCE, encode(drawing((640, 480), scale=2.0)))  # a 2x render of the same drawing
    assert double.ssim > 0.85 and double.edge > 0.85
    squashed = score(REFERENCE, encode(drawing((640, 240), scale=1.0)))  # other aspect: drawn on the left half
    assert squashed.aggregate < double.aggregate


def test_common_size_caps_the_longer_side_and_keeps_the_aspect():
    assert (SSIM_MAX_SIDE, EDGE_MAX_SIDE) == (256, 512)
    assert common_size((320, 240), 512) == (320, 240)
    assert common_size((1920, 1440), 512) == (512, 384)
    assert common_size((1920, 1440), 256) == (256, 192)
    assert common_size((5, 3), 256) == (16, 16)  # SSIM's window fits
    assert common_size((10_000, 10), 512) == (512, 16)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA"])
def test_grayscale_rgba_palette_references_match_their_rgb_render(mode):
    if mode == "LA":
        reference = drawing(mode="RGBA").convert("LA")
    else:
        reference = drawing(mode=mode)
    candidate = drawing()
    if mode in ("L", "LA"):
        candidate = candidate.convert("L").convert("RGB")  # what a grey reference can be matched by
    report = score(encode(reference), encode(candidate))
    assert report.ssim > 0.97 and report.edge > 0.97, report


def test_transparency_is_composited_over_white_not_black():
    transparent = encode(drawing(mode="RGBA"))  # its page stores black: read as black, SSIM ~0.09
    assert score(transparent, REFERENCE).aggregate > 0.97


def test_a_jpeg_reference_is_close_to_its_png():
    report = score(encode(drawing(), "JPEG", quality=85), REFERENCE)
    assert 0.8 < report.ssim < 1.0 and report.edge > 0.9


@pytest.mark.parametrize("size", [(5, 3), (1, 1), (12, 40)])
def test_tiny_images_smaller_than_the_ssim_window(size):
    tiny = Image.new("RGB", size, "white")
    tiny.putpixel((0, 0), (0, 0, 0))
    data = encode(tiny)
    assert score(data, data).aggregate == pytest.approx(1.0)
    other = score(data, REFERENCE)
    assert 0.0 <= other.ssim <= 1.0 and 0.0 <= other.edge <= 1.0


def test_undecodable_bytes_are_a_client_fault():
    with pytest.raises(PerceptError) as error:
        score(b"not an image", REFERENCE)
    assert error.value.code == ErrorCode.INVALID_IMAGE
    with pytest.raises(PerceptError) as error:
        score(REFERENCE, b"")
    assert error.value.code == ErrorCode.EMPTY_IMAGE


def test_the_pixel_limit_applies_to_both_images():
    with pytest.raises(PerceptError) as error:
        score(REFERENCE, encode(drawing((640, 480), scale=2.0)), max_pixels=320 * 240)
    assert error.value.code == ErrorCode.IMAGE_TOO_LARGE


@pytest.mark.parametrize("with_trace, names", [(False, IMAGE_METRICS), (True, METRICS)])
def test_zero_report(with_trace, names):
    report = zero_report(with_trace)
    assert report.computed == names
    assert all(getattr(report, name) == 0.0 for name in names)
    assert report.aggregate == 0.0
    assert report.mode == ("image_and_trace" if with_trace else "image_only")


def test_aggregate_is_the_mean_of_the_computed_metrics():
    report = build_report({"ssim": 0.5, "edge": 1.0, "text_f1": 0.0, "type_f1": 0.5})
    assert report.aggregate == pytest.approx(0.5)
    assert report.computed == ("ssim", "edge", "text_f1", "type_f1")
    assert report.mode == "image_and_trace"


def test_report_clips_and_rejects_unknown_metrics():
    assert build_report({"ssim": 1.0000001, "edge": -1e-9}).as_dict()["ssim"] == 1.0
    with pytest.raises(ValueError):
        build_report({"clip_score": 0.3})


def test_report_is_frozen_and_maps_to_the_proto_fields():
    report = zero_report(True)
    with pytest.raises(AttributeError):
        report.ssim = 1.0  # type: ignore[misc]
    assert set(report.as_dict()) == {"aggregate", "mode", "computed", *METRICS}
    assert isinstance(report, FidelityReport)


def test_scoring_and_captioning_never_import_torch():
    """The import guard (tests/unit/test_serving_paths_without_torch.py) sees imports; this runs them."""
    from tests.torch_free import assert_runs_without_torch

    assert_runs_without_torch(
        "import io; from PIL import Image\n"
        "from services.codeperception.fidelity import score\n"
        "from services.codeperception.captions import caption_from_trace\n"
        "b = io.BytesIO(); Image.new('RGB', (64, 48), 'white').save(b, 'PNG')\n"
        "t = {'figures': [{'axes': [{'artist_types': {'Line2D': 1}}], "
        "'colors': [{'color': '#1f77b4', 'count': 1}]}]}\n"
        "score(b.getvalue(), b.getvalue(), reference_trace=t, candidate_trace=t); caption_from_trace(t)")


@pytest.mark.parametrize("candidate", [encode(drawing(bar_height=160)), encode(drawing(color=(200, 40, 40))),
                                       blank(), encode(drawing(size=(200, 300)))])
def test_a_prepared_reference_scores_exactly_like_its_bytes(candidate):
    from services.codeperception.fidelity import prepare_reference

    assert score(prepare_reference(REFERENCE), candidate) == score(REFERENCE, candidate)

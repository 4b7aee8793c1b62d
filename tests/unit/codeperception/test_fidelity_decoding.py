"""Decoding for the fidelity metrics: one decode per image, transparency over white exactly as
the metrics always composited it (services.common.images.decode_image(..., on_white=True))."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFile

from services.codeperception.fidelity import prepare_reference, score
from services.codeperception.fidelity.images import decode_on_white
from services.common.errors import ErrorCode, PerceptError
from services.common.images import decode_image, decode_source, to_rgb


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def composited_twice(data: bytes) -> np.ndarray:
    """The metrics' former decoding, kept here as the oracle: decode, then open the bytes again
    and, when they carry alpha, composite their RGBA over an opaque white page."""
    with Image.open(io.BytesIO(data)) as original:
        if not (original.mode in ("RGBA", "LA", "PA") or "transparency" in original.info):
            return np.asarray(original.convert("RGB"))
        rgba = original.convert("RGBA")
    page = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(page, rgba).convert("RGB"))


def _pixels(mode: str) -> Image.Image:
    rng = np.random.default_rng(7)
    rgb = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    alpha = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    alpha[:8] = 0        # fully transparent rows, whose stored colour is noise
    alpha[8:16] = 255    # opaque rows
    if mode == "RGBA":
        return Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    if mode == "RGBA-opaque":  # matplotlib's PNGs: RGBA, every pixel opaque
        return Image.fromarray(np.dstack([rgb, np.full_like(alpha, 255)]), "RGBA")
    if mode == "LA":
        return Image.fromarray(np.dstack([rgb[..., 0], alpha]), "LA")
    if mode == "P-transparency":  # a palette with a transparent index (tRNS)
        image = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        image.info["transparency"] = 3
        return image
    if mode == "RGB-transparency":  # an RGB PNG with a transparent colour key
        rgb[:8] = (10, 20, 30)
        image = Image.fromarray(rgb)
        image.info["transparency"] = (10, 20, 30)
        return image
    return Image.fromarray(rgb).convert(mode)


CASES = ["RGBA", "RGBA-opaque", "LA", "P-transparency", "RGB-transparency", "RGB", "L"]


@pytest.mark.parametrize("mode", CASES)
def test_transparency_is_composited_over_white_exactly_as_before(mode):
    image = _pixels(mode)
    data = encode(image, transparency=image.info["transparency"]) if "transparency" in image.info \
        else encode(image)
    assert np.array_equal(np.asarray(decode_on_white(data)), composited_twice(data)), mode
    # alpha dropped, as decode_image always did (what a VLM processor's convert("RGB") sees)
    with Image.open(io.BytesIO(data)) as original:
        assert np.array_equal(np.asarray(decode_image(data)), np.asarray(original.convert("RGB")))


def test_a_transparent_page_is_white_not_its_stored_colour():
    page = np.zeros((32, 32, 4), dtype=np.uint8)  # transparent black
    page[10:20, 10:20] = (200, 0, 0, 255)
    decoded = np.asarray(decode_on_white(encode(Image.fromarray(page, "RGBA"))))
    assert (decoded[0, 0] == 255).all() and tuple(decoded[15, 15]) == (200, 0, 0)


def test_each_image_is_decoded_once(monkeypatch):
    loads = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self):
        if self._im is None:  # a load that decodes pixels (PIL calls load() again as a no-op)
            loads.append(self.format)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    reference = encode(_pixels("RGBA"))
    candidate = encode(_pixels("RGBA-opaque"))
    decode_on_white(reference)
    assert loads == ["PNG"]
    loads.clear()
    score(reference, candidate)
    assert loads == ["PNG", "PNG"]  # one per image
    loads.clear()
    # a caller holding the decoded image (the harness: it decoded the input for the model) adds none
    expected = score(reference, candidate)
    source = decode_source(reference)
    loads.clear()
    assert score(prepare_reference(to_rgb(source, on_white=True)), candidate) == expected
    assert loads == ["PNG"]  # the candidate's only


def test_limits_and_typed_errors_still_apply():
    with pytest.raises(PerceptError) as too_large:
        decode_on_white(encode(_pixels("RGBA")), max_pixels=100)
    assert too_large.value.code is ErrorCode.IMAGE_TOO_LARGE
    with pytest.raises(PerceptError) as truncated:
        decode_on_white(encode(_pixels("RGBA"))[:200])
    assert truncated.value.code in (ErrorCode.TRUNCATED_IMAGE, ErrorCode.INVALID_IMAGE)
    with pytest.raises(PerceptError) as empty:
        decode_on_white(b"")
    assert empty.value.code is ErrorCode.EMPTY_IMAGE


def test_a_request_image_is_decoded_once_for_the_model_and_the_metrics(monkeypatch):
    """InputImage (what the code-perception service and the harness hold): its RGB view for the
    model and its view on white for the metrics come from one decode."""
    from services.codeperception.backends import InputImage

    loads = []
    real_load = ImageFile.ImageFile.load

    def counting_load(self):
        if self._im is None:
            loads.append(self.format)
        return real_load(self)

    data = encode(_pixels("RGBA"))
    monkeypatch.setattr(ImageFile.ImageFile, "load", counting_load)
    request_image = InputImage.decode(data)
    on_white = request_image.on_white()
    assert loads == ["PNG"]
    assert np.array_equal(np.asarray(request_image.image), np.asarray(decode_image(data)))
    assert np.array_equal(np.asarray(on_white), composited_twice(data))

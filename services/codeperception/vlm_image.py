"""The input image as the benchmark protocol sends it to a VLM (docs/stem2code-eval.md).

Re-encoded as JPEG; above MAX_PIXELS it is first resized the Qwen-VL way: both sides
multiples of FACTOR, the area at most MAX_PIXELS (and at least MIN_PIXELS), the long
side at most MAX_LONG_SIDE, the aspect ratio kept as far as the grid allows.
"""
from __future__ import annotations

import base64
import io
import math

from PIL import Image

FACTOR = 32
MIN_PIXELS = 4096
MAX_PIXELS = 1_310_720   # at most 1280 visual tokens of 32x32 px
MAX_LONG_SIDE = 8192
JPEG_QUALITY = 95


def capped_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) to send: unchanged within MAX_PIXELS, else the resized grid-aligned size."""
    if width * height <= MAX_PIXELS:
        return width, height
    beta = math.sqrt(width * height / MAX_PIXELS)
    w = max(FACTOR, math.floor(width / beta / FACTOR) * FACTOR)
    h = max(FACTOR, math.floor(height / beta / FACTOR) * FACTOR)
    if w * h < MIN_PIXELS:
        beta = math.sqrt(MIN_PIXELS / (width * height))
        w = math.ceil(width * beta / FACTOR) * FACTOR
        h = math.ceil(height * beta / FACTOR) * FACTOR
    if max(w, h) > MAX_LONG_SIDE:
        scale = MAX_LONG_SIDE / max(w, h)
        w = max(FACTOR, math.floor(w * scale / FACTOR) * FACTOR)
        h = max(FACTOR, math.floor(h * scale / FACTOR) * FACTOR)
    return w, h


def protocol_jpeg(image: Image.Image) -> bytes:
    """The decoded RGB image, resized to the pixel cap when above it, as JPEG bytes."""
    size = capped_size(*image.size)
    if size != image.size:
        image = image.resize(size, Image.Resampling.BICUBIC)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")

"""Decoding untrusted image bytes with limits.

Every service that accepts an image decodes it here, so a hostile or broken file is
rejected the same way everywhere: typed errors, never a crash, never an unbounded
allocation. The pixel cap is checked from the header, before any pixel is decoded;
`check_image_header` does only those header checks.

Transparency: `decode_image` drops alpha (a transparent pixel keeps the colour it stores,
as PIL's and a VLM processor's `convert("RGB")` do); `decode_image(..., on_white=True)`
composites it over white instead (matplotlib's default face colour: what a picture looks
like on a page), from the same single decode. A caller that needs both views decodes once
with `decode_source` and takes them with `to_rgb`.
"""
from __future__ import annotations

import io
import struct
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from . import limits
from .errors import ErrorCode, PerceptError

SUPPORTED_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "GIF")
_ALPHA_MODES = ("RGBA", "LA", "PA")
_WHITE = (255, 255, 255, 255)
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's IHDR; PIL refuses a zero dimension as 'unidentified'."""
    if len(data) >= 24 and data.startswith(_PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


@dataclass(frozen=True)
class ImageHeader:
    format: str
    width: int
    height: int


@contextmanager
def _client_faults(max_pixels: int):
    """PIL's ways of failing on bad bytes, as typed client-fault PerceptErrors."""
    try:
        with warnings.catch_warnings():
            # PIL warns, then errors, on bombs by its own global cap; we apply ours instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except PerceptError:
        raise
    except UnidentifiedImageError as exc:
        raise PerceptError(ErrorCode.INVALID_IMAGE,
                           f"not a decodable image (supported: {', '.join(SUPPORTED_FORMATS)})") from exc
    except Image.DecompressionBombError as exc:
        # PIL's own guard fires in open() for extreme sizes, before our header check.
        raise PerceptError(ErrorCode.IMAGE_TOO_LARGE,
                           f"the image exceeds the limit of {max_pixels} pixels") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # PIL reports truncation as OSError("image file is truncated ...") or a short read.
        message = str(exc) or type(exc).__name__
        code = ErrorCode.TRUNCATED_IMAGE if "truncat" in message.lower() or isinstance(exc, EOFError) \
            else ErrorCode.INVALID_IMAGE
        raise PerceptError(code, f"the image could not be decoded: {message}") from exc
    except (MemoryError, Image.DecompressionBombWarning) as exc:
        raise PerceptError(ErrorCode.IMAGE_TOO_LARGE, "the image is too large to decode") from exc


def _open_checked(data: bytes, max_pixels: int) -> Image.Image:
    """Open (header only, no pixel decoded) and apply the size checks; call inside _client_faults."""
    if not data:
        raise PerceptError(ErrorCode.EMPTY_IMAGE, "the image is empty (0 bytes)")
    header = _png_header_size(data)
    if header is not None and 0 in header:
        raise PerceptError(ErrorCode.EMPTY_IMAGE, f"the image has zero size ({header[0]}x{header[1]})")
    image = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
    width, height = image.size
    if width <= 0 or height <= 0:
        raise PerceptError(ErrorCode.EMPTY_IMAGE, f"the image has zero size ({width}x{height})")
    if width * height > max_pixels:
        raise PerceptError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"the image has {width * height} pixels; the limit is {max_pixels}",
            details={"width": width, "height": height, "max_pixels": max_pixels},
        )
    return image


def check_image_header(data: bytes, *, max_pixels: int | None = None) -> ImageHeader:
    """The cheap checks alone: a supported format, a non-zero size, the pixel cap.

    Reads only the header; no pixel is decoded. For a boundary that answers bad input
    fast but leaves the one full decode to the service that needs the pixels (the
    gateway, in front of the Triton model that decodes). A truncated body passes here
    and is caught by that decode."""
    max_pixels = limits.MAX_IMAGE_PIXELS.get() if max_pixels is None else max_pixels
    with _client_faults(max_pixels):
        image = _open_checked(data, max_pixels)
        return ImageHeader(format=str(image.format), width=image.size[0], height=image.size[1])


def decode_source(data: bytes, *, max_pixels: int | None = None) -> Image.Image:
    """Decode bytes once, in the image's stored mode (alpha and palette kept), or raise a
    client-fault PerceptError. `to_rgb` turns the result into RGB pixels."""
    max_pixels = limits.MAX_IMAGE_PIXELS.get() if max_pixels is None else max_pixels
    with _client_faults(max_pixels):
        image = _open_checked(data, max_pixels)
        image.load()
    return image


def has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def to_rgb(image: Image.Image, *, on_white: bool = False) -> Image.Image:
    """RGB pixels of a decoded image: alpha dropped, or (`on_white`) composited over white."""
    if not (on_white and has_alpha(image)):
        return image.convert("RGB")
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    low, _high = rgba.getchannel("A").getextrema()  # the alpha band alone: a quarter of the work
    if low == 255:  # opaque after all (matplotlib's PNGs): compositing would change nothing
        return rgba.convert("RGB")
    return Image.alpha_composite(Image.new("RGBA", rgba.size, _WHITE), rgba).convert("RGB")


def decode_image(data: bytes, *, max_pixels: int | None = None, on_white: bool = False) -> Image.Image:
    """Decode bytes into an RGB PIL image (alpha dropped, or composited over white with
    `on_white`), or raise a client-fault PerceptError."""
    return to_rgb(decode_source(data, max_pixels=max_pixels), on_white=on_white)

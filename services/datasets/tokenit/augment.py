"""Scan and camera look: paper texture, blur, JPEG noise, slight rotation, scanner contrast.

Geometric changes (rotation) are applied to the image and the token label map together (nearest
neighbour for the labels), so the masks stay on their glyphs; photometric ones touch the image
only. Every choice comes from the page's seeded `random.Random`.
"""
from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageFilter

MAX_ROTATION_DEG = 2.5


def augment(image: Image.Image, labels: np.ndarray, rng: random.Random) -> tuple[Image.Image, np.ndarray, dict]:
    applied: dict = {}
    if rng.random() < 0.35:
        angle = rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG)
        fill = image.getpixel((0, 0))
        image = image.rotate(angle, resample=Image.BICUBIC, fillcolor=fill)
        labels = np.asarray(Image.fromarray(labels).rotate(angle, resample=Image.NEAREST, fillcolor=0))
        applied["rotate"] = round(angle, 3)
    pixels = np.asarray(image).astype(np.float32)
    np_rng = np.random.default_rng(rng.getrandbits(32))
    if rng.random() < 0.4:   # paper grain and uneven lighting
        grain = np_rng.normal(0, rng.uniform(2, 8), pixels.shape[:2])[..., None]
        h, w = pixels.shape[:2]
        shade = 1 - rng.uniform(0, 0.15) * np.linspace(0, 1, w)[None, :, None] ** 2
        pixels = pixels * (shade if rng.random() < 0.5 else 1) + grain
        applied["grain"] = True
    if rng.random() < 0.25:  # scanner: grey, contrast, a few specks
        grey = pixels.mean(axis=2, keepdims=True)
        pixels = np.repeat((grey - 128) * rng.uniform(1.0, 1.4) + 128 + rng.uniform(-10, 10), 3, axis=2)
        specks = np_rng.random(pixels.shape[:2]) < rng.uniform(0, 0.0015)
        pixels[specks] = 0
        applied["scan"] = True
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if rng.random() < 0.35:
        radius = rng.uniform(0.3, 1.0)
        image = image.filter(ImageFilter.GaussianBlur(radius))
        applied["blur"] = round(radius, 3)
    if rng.random() < 0.5:
        quality = rng.randint(30, 90)
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        applied["jpeg"] = quality
    return image, labels, applied

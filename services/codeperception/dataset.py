"""STEM2Code-format datasets: one JSONL of ms-swift conversation records plus images.

Per line: `messages[1].content[0].image` is the image's path (relative to the images
directory), `messages[3].content[0].text` the ground-truth matplotlib code; the sample id
is the line index. Images are looked up by the hash of their decoded pixels, so a
losslessly re-encoded copy of a dataset image still finds its sample.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .extraction import extract_code


@dataclass(frozen=True)
class Sample:
    index: int
    image_path: Path
    code: str


def pixel_hash(image: Image.Image) -> str:
    """Identity of an image's content: size and RGB pixels (not the file's bytes)."""
    rgb = image.convert("RGB")
    digest = hashlib.sha256(f"{rgb.width}x{rgb.height}:".encode())
    digest.update(rgb.tobytes())
    return digest.hexdigest()


def record(image_name: str, code: str, instruction: str) -> dict:
    """One JSONL line in the layout above (what sample_dataset.py writes)."""
    return {"messages": [
        {"role": "system", "content": [{"type": "text", "text": "You are a helpful assistant."}]},
        {"role": "user", "content": [{"type": "image", "image": image_name}]},
        {"role": "user", "content": [{"type": "text", "text": instruction}]},
        {"role": "assistant", "content": [{"type": "text", "text": code}]},
    ]}


def read_samples(jsonl: Path, images_dir: Path) -> list[Sample]:
    samples = []
    with open(jsonl, encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                messages = json.loads(line)["messages"]
                image = messages[1]["content"][0]["image"]
                text = messages[3]["content"][0]["text"]
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                raise ValueError(f"{jsonl}:{index + 1}: not a STEM2Code record ({exc})") from exc
            # Ground truth may come fenced (as a model answer) or bare.
            samples.append(Sample(index=index, image_path=images_dir / image, code=extract_code(text) or text))
    return samples


class DatasetIndex:
    """Samples by the pixel hash of their image (built once, at start-up)."""

    def __init__(self, samples: list[Sample]) -> None:
        self._by_hash: dict[str, Sample] = {}
        for sample in samples:
            with Image.open(sample.image_path) as image:
                self._by_hash.setdefault(pixel_hash(image), sample)
        self.size = len(samples)

    @classmethod
    def load(cls, directory: Path, jsonl: str = "data.jsonl", images: str = "images") -> "DatasetIndex":
        path = directory / jsonl
        if not path.is_file():
            raise FileNotFoundError(f"no STEM2Code dataset at {path} (`make models` builds the embedded one)")
        return cls(read_samples(path, directory / images))

    def find(self, image: Image.Image) -> Sample | None:
        return self._by_hash.get(pixel_hash(image))

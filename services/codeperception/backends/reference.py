"""`reference`: the ground-truth program of the dataset sample whose image this is.

No model: it answers with the code that drew the image, so its renders score about 1
-- the end-to-end self-check of generation plumbing, sandbox and metrics. An image the
dataset does not hold is NOT_FOUND (not_found), a client fault.
"""
from __future__ import annotations

import asyncio
from typing import Any, Mapping

from services.common.errors import ErrorCode, PerceptError

from ..dataset import DatasetIndex, Sample
from ..settings import CodePerceptionSettings
from .base import (
    BACKEND_OPTIONS,
    ORIGIN_REFERENCE,
    BackendUnavailable,
    Generation,
    GenerationOptions,
    InputImage,
    parse_typed_options,
)


class ReferenceBackend:
    name = "reference"
    max_concurrency = 64

    def __init__(self, settings: CodePerceptionSettings) -> None:
        self.settings = settings
        self.model = str(settings.dataset_dir)
        self.index: DatasetIndex | None = None

    async def start(self) -> None:
        s = self.settings
        try:
            self.index = await asyncio.to_thread(DatasetIndex.load, s.dataset_dir, s.dataset_jsonl, s.dataset_images)
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(f"the reference backend cannot load its dataset: {exc}") from exc
        self.model = f"reference:{s.dataset_dir.name}"

    def parse_options(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return parse_typed_options(raw, BACKEND_OPTIONS[self.name])

    def prepare(self, image: InputImage) -> Sample:
        sample = self.index.find(image.image)
        if sample is None:
            raise PerceptError(ErrorCode.NOT_FOUND, f"the image is not in the reference dataset "
                               f"({self.index.size} samples); the reference backend only answers for those")
        return sample

    async def generate(self, prepared: Sample, options: GenerationOptions, timeout_s: float) -> Generation:
        return Generation(text=f"```python\n{prepared.code}```\n", finish_reason="stop", origin=ORIGIN_REFERENCE)

    async def close(self) -> None:
        return None

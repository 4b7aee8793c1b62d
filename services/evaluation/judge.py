"""Optional LLM judges: any OpenAI-compatible chat endpoint gives the image score, the code
score, or both, out of 100, by STEM2Code-Eval's criteria and weights.

The rubrics are this project's wording of the official criteria. Judges are asked at
temperature 0 to end with `Score: N/100`; `parse_score` reads the first such line, markdown
emphasis allowed, else the last `Score: N` with no `/` after it. A transport error, an HTTP
error or a reply without a score is retried, at most `attempts` calls in all; after that the
sample's score is None (unjudged) and the mean is over the judged samples, as upstream.
"""
from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

import httpx
from PIL import Image

from services.codeperception.vlm_image import data_uri, protocol_jpeg
from services.common.images import decode_image

IMAGE = "image"
CODE = "code"

IMAGE_RUBRIC = """You compare two images: the first is a reference STEM figure, the second an attempt to redraw it
with code. Judge how faithfully the second reproduces the first, by these criteria and weights (100 in all):
1. Geometric and structural completeness (30): every kind of element is present, in the exact numbers.
2. Positional and relational accuracy (30): positions, adjacency, intersections, containment, collinearity,
   parallel and perpendicular lines, topology and drawing order.
3. Text and annotation fidelity (10): labels, numbers, symbols and their placement.
4. Visual and stylistic consistency (20): colours, fills, line and marker styles, background, grid, aspect ratio.
5. Clarity and legibility (10).
Explain briefly, then end with one line exactly of the form `Score: N/100`."""

CODE_RUBRIC = """You compare two matplotlib programs by the picture each would draw: the first is the reference,
the second an attempt to reproduce its figure. Judge the visual result they would produce, by these criteria and
weights (100 in all):
1. Overall layout and visual attributes (20).
2. Quantitative fidelity: the types and numbers of drawn elements (20).
3. Positioning and layout accuracy (30).
4. Relationships and stacking between elements (20).
5. Code quality (10).
Explain briefly, then end with one line exactly of the form `Score: N/100`."""

# `Score: 87/100`, `**Score:** 87 / 100`, `__Score__: 87.5/100` ...
_SCORE_OUT_OF_100 = re.compile(r"[*_`]*\s*score\s*[*_`]*\s*[:：]\s*[*_`]*\s*(\d+(?:\.\d+)?)\s*[*_`]*\s*/\s*100",
                               re.IGNORECASE)
_SCORE_BARE = re.compile(r"[*_`]*\s*score\s*[*_`]*\s*[:：]\s*[*_`]*\s*(\d+(?:\.\d+)?)(?![\d.])(?!\s*[*_`]*\s*/)",
                         re.IGNORECASE)


def parse_score(reply: str) -> float | None:
    """The judge's score in [0, 100], or None when the reply holds none (that call is retried)."""
    match = _SCORE_OUT_OF_100.search(reply)
    if match is None:
        bare = list(_SCORE_BARE.finditer(reply))
        match = bare[-1] if bare else None
    if match is None:
        return None
    value = float(match.group(1))
    return value if 0.0 <= value <= 100.0 else None


@dataclass(frozen=True)
class JudgeConfig:
    base_url: str
    model: str
    scores: frozenset[str]          # {IMAGE}, {CODE} or both
    attempts: int = 3
    timeout_s: float = 120.0
    api_key: str = field(default="", repr=False)  # a secret: never in a log line or a record

    def public(self) -> dict:
        """What the manifest records about the judge (no key)."""
        return {"base_url": self.base_url, "model": self.model, "scores": sorted(self.scores),
                "attempts": self.attempts}


@dataclass(frozen=True)
class Verdict:
    score: float | None
    attempts: int
    detail: str = ""

    def as_dict(self) -> dict:
        return {"score": self.score, "attempts": self.attempts, "detail": self.detail}


class Judge:
    RETRY_BASE_S = 0.5

    def __init__(self, config: JudgeConfig) -> None:
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.client = httpx.AsyncClient(headers=headers, timeout=config.timeout_s)
        self.url = config.base_url.rstrip("/") + "/chat/completions"

    async def image_score(self, reference_image: Image.Image, rendered_png: bytes) -> Verdict:
        """`reference_image`: the input's RGB pixels (decoded once by the harness)."""
        images = await asyncio.to_thread(  # CPU: off the loop
            lambda: [protocol_jpeg(reference_image), protocol_jpeg(decode_image(rendered_png))])
        parts = [{"type": "text", "text": IMAGE_RUBRIC}]
        for label, jpeg in zip(("Reference image:", "Redrawn image:"), images, strict=True):
            parts += [{"type": "text", "text": label}, {"type": "image_url", "image_url": {"url": data_uri(jpeg)}}]
        return await self._ask([{"role": "user", "content": parts}])

    async def code_score(self, reference_code: str, generated_code: str) -> Verdict:
        text = (f"{CODE_RUBRIC}\n\nReference program:\n```python\n{reference_code}```\n\n"
                f"Program to judge:\n```python\n{generated_code}```\n")
        return await self._ask([{"role": "user", "content": text}])

    async def _ask(self, messages: list[dict]) -> Verdict:
        body = {"model": self.config.model, "messages": messages, "temperature": 0, "stream": False}
        detail = ""
        for attempt in range(1, self.config.attempts + 1):
            try:
                response = await self.client.post(self.url, json=body)
                if response.status_code != 200:
                    detail = f"HTTP {response.status_code}"
                else:
                    reply = response.json()["choices"][0]["message"].get("content") or ""
                    score = parse_score(reply)
                    if score is not None:
                        return Verdict(score, attempt)
                    detail = "the reply holds no score"
            except httpx.HTTPError as exc:
                detail = f"the judge cannot be reached ({type(exc).__name__})"
            except (ValueError, KeyError, IndexError, TypeError, AttributeError):
                detail = "the reply is not a chat completion"
            if attempt < self.config.attempts:
                await asyncio.sleep(self.RETRY_BASE_S * 2 ** (attempt - 1))
        return Verdict(None, self.config.attempts, detail)

    async def close(self) -> None:
        await self.client.aclose()

"""The two locators the evaluation compares, answering the same (page, query) pairs.

- TokenFD: a checkpoint in the upstream layout, exported by the project's own export
  (services/models/tokenfd/export_onnx.py, through the strict loader) and run by the serving path's
  own pieces in-process: the locate pipeline of `tokenfd_locate` (decode with the pixel cap, tiling,
  tokenizer, embedding lookup, the encoder in chunks of its max batch, stitching;
  services/models/tokenfd/triton/locate.py), the cpu encoder graph in ONNX Runtime as
  `tokenfd_encoder` runs it (services/models/tokenfd/triton/encoder_runtime.py), then the whole-query
  decoder the gateway's `matches` come from (services/models/tokenfd/query_matches.py) at the
  gateway's default count of matches. Its best match (highest score) is its answer.
- Tesseract (Debian's tesseract-ocr, its TSV output): an answer reads the whole page, as a locate
  request would have to (evaluate.py's accuracy pass reads a page once for all its queries and
  charges each of them that read); the query is found among the words, case-sensitive and exact, a
  multi-word query as consecutive words of one line; its box is their union. When the words occur
  more than once, the occurrence with the highest mean confidence is the answer.

Latency is the wall time from the page's encoded bytes (TokenFD) or file (Tesseract) to the box,
in this process (no HTTP, gRPC or Triton queueing).
"""
from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .queries import Box, Page, union

MAX_MATCHES = 10


@dataclass(frozen=True)
class Answer:
    box: Box | None
    score: float | None
    seconds: float


# --- TokenFD ---------------------------------------------------------------------------------
class TokenFDLocator:
    name = "TokenFD"

    def __init__(self, pipeline, encode, *, threshold: float, decoding=None) -> None:
        """`pipeline`: a LocatePipeline; `encode`: the encoder, (pixels, query embeddings) -> maps;
        `decoding`: how the gateway reads the model's maps (query_matches.Decoding; upstream's when None)."""
        from services.models.tokenfd.ink_words import Letters, grey_page
        from services.models.tokenfd.query_matches import INK, UPSTREAM, match_query

        self.pipeline, self.encode, self.threshold = pipeline, encode, threshold
        self.decoding = decoding or UPSTREAM
        self.match_query = match_query
        # The ink reading reads the page's own pixels too (query_matches.py), inside the timed answer, and a
        # decoding that spells asks for a one-word query's letters, as the served model does.
        self.grey_page = grey_page if self.decoding.boxes == INK else None
        self.spell = self.decoding.spells
        self.letters = Letters
        self._page: tuple[Path, bytes] | None = None

    @classmethod
    def from_export(cls, export_dir: str | Path, *, threshold: float, threads: int,
                    decoding=None) -> "TokenFDLocator":
        """The export's tokenizer and embedding table, and its cpu graph in ONNX Runtime with
        `threads` intra-op threads and one inter-op thread."""
        from services.models.tokenfd.artifacts import CPU_ONNX_FILE
        from services.models.tokenfd.triton.encoder_runtime import EncoderRuntime
        from services.models.tokenfd.triton.locate import LocatePipeline

        runtime = EncoderRuntime.from_file(Path(export_dir) / CPU_ONNX_FILE, intra_op_threads=threads,
                                           inter_op_threads=1)
        return cls(LocatePipeline.from_directory(export_dir), runtime.run, threshold=threshold, decoding=decoding)

    def _bytes(self, page: Page) -> bytes:
        if self._page is None or self._page[0] != page.image:
            self._page = (page.image, page.image.read_bytes())
        return self._page[1]

    def tokens(self, text: str) -> int:
        return len(self.pipeline.tokenizer.encode_query(text)[0])

    def locate(self, page: Page, text: str) -> Answer:
        data = self._bytes(page)
        start = time.perf_counter()
        result = self.pipeline.run(data, text, self.encode, spell=self.spell)
        # The stitched grid covers the whole image (resized onto the tile grid): a cell is
        # width / cols by height / rows pixels, as the gateway maps its boxes and matches.
        rows, cols = result.similarity.shape[1:]
        cell = (result.image_size[0] / cols, result.image_size[1] / rows)
        page_pixels = self.grey_page(data) if self.grey_page else None
        letters = self.letters(result.letter_similarity, result.letter_texts) if result.letter_texts else None
        matches = self.match_query(result.similarity, self.threshold, cell, MAX_MATCHES, self.decoding,
                                   page=page_pixels, pieces=result.token_texts, query=text, letters=letters)
        seconds = time.perf_counter() - start
        if not matches:
            return Answer(None, None, seconds)
        best = matches[0]     # best first
        return Answer((best.x0, best.y0, best.x1, best.y1), float(best.score), seconds)


# --- Tesseract ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OcrWord:
    text: str
    box: Box
    confidence: float
    line: tuple[int, int, int]     # (block, paragraph, line)


def tesseract_binary() -> str | None:
    return shutil.which("tesseract")


def tesseract_version() -> str:
    binary = tesseract_binary()
    if binary is None:
        return "not installed"
    done = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    return ((done.stdout or done.stderr).splitlines() or ["unknown"])[0].strip()


def parse_tsv(tsv: str) -> list[OcrWord]:
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        left, top, width, height = (float(row[k]) for k in ("left", "top", "width", "height"))
        words.append(OcrWord(text, (left, top, left + width, top + height), float(row["conf"]),
                             (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))))
    return words


def find(words: list[OcrWord], text: str) -> tuple[Box, float] | None:
    """The query's words as consecutive OCR words of one line (exact, case-sensitive): the union
    box of the most confident occurrence and its mean confidence (0-100)."""
    wanted = text.split()
    best = None
    for start in range(len(words) - len(wanted) + 1):
        run = words[start:start + len(wanted)]
        if [w.text for w in run] != wanted or len({w.line for w in run}) != 1:
            continue
        confidence = float(np.mean([w.confidence for w in run]))
        if best is None or confidence > best[1]:
            best = (union(w.box for w in run), confidence)
    return best


class TesseractLocator:
    name = "Tesseract"

    def __init__(self, *, threads: int = 1, language: str = "eng", psm: int = 3) -> None:
        binary = tesseract_binary()
        if binary is None:
            raise FileNotFoundError("tesseract is not installed (make tesseract, or apt-get install tesseract-ocr)")
        self.binary, self.language, self.psm = binary, language, psm
        # Tesseract's OpenMP threads spin while they wait: on a busy machine more threads than free
        # cores make it many times slower, so its thread count is set, never left to the default.
        self.env = {**os.environ, "OMP_THREAD_LIMIT": str(threads)}

    def read(self, page: Page) -> list[OcrWord]:
        command = [self.binary, str(page.image), "stdout", "-l", self.language, "--psm", str(self.psm)]
        if page.dpi:
            command += ["--dpi", str(round(float(page.dpi)))]
        done = subprocess.run(command + ["tsv"], capture_output=True, text=True, env=self.env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"tesseract failed on {page.image.name}: {done.stderr.strip()[-500:]}")
        return parse_tsv(done.stdout)

    def locate(self, page: Page, text: str, words: list[OcrWord] | None = None,
               read_seconds: float | None = None) -> Answer:
        """`words` (and the seconds their reading took) from an earlier read of the same page
        stand in for reading it again; the answer is the same."""
        start = time.perf_counter()
        if words is None:
            words = self.read(page)
            read_seconds = 0.0
        found = find(words, text)
        seconds = time.perf_counter() - start + (read_seconds or 0.0)
        return Answer(None, None, seconds) if found is None else Answer(found[0], found[1], seconds)

"""The try-it page in a real browser: Debian's chromium driven by Playwright, against the real stack.

* `percept_stack()` starts what `make up` starts, as real processes on free ports: tritonserver
  serving TokenFD as `make models` builds it (the published TokenFD-mini, else the tiny fixture) and
  the tiny TokenVL, the sandbox and the code-perception service
  (reference backend, with its sample dataset), and a gateway in front of both.
* `launch()` starts chromium from its Debian path (never a downloaded browser build).
* `PageWatch` records what a page does that a test must not let through: console errors, uncaught
  exceptions, and any request to a host other than the gateway.
* Fixture documents: a page with words (PNG), a two-page PDF with words.

Used by the tests (tests/browser/conftest.py) and by `make screenshots` (tests/browser/screenshots.py).
"""
from __future__ import annotations

import io
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from PIL import Image, ImageDraw, ImageFont

from services.models.tokenfd.mini import published_checkpoint
from tests.integration.gateway.stem_support import StemStack, stem_stack
from tests.integration.gateway.support import running_gateway

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PERCEPT_TEST_CHROMIUM", "/usr/bin/chromium")  # Debian's package (make browser-tools)
# Flags that keep a headless chromium quiet and local: no GPU, no QUIC, no background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1360, "height": 1000}
WORDS = ("Invoice 2024-117", "Total amount 1,250.00 EUR", "Due date 30 June")


@dataclass(frozen=True)
class PerceptStack:
    url: str                 # the gateway
    triton_grpc_url: str
    stem: StemStack


@contextmanager
def percept_stack(**gateway_env: str):
    """Triton (the default TokenFD, the tiny TokenVL), sandbox + code perception, and a gateway in front of both."""
    from services.models.build_default import build_default
    from services.triton import stubenv
    from services.triton.launcher import TritonServer

    site = stubenv.stub_site()
    if site is not None:
        stubenv.install(site)
    with tempfile.TemporaryDirectory(prefix="percept-ui-") as scratch:
        built = build_default(Path(scratch) / "models", checkpoint=published_checkpoint(ROOT), log=lambda *_: None)
        with TritonServer(built.repository, http_port=0, grpc_port=0, metrics_port=0) as triton, stem_stack() as stem:
            with running_gateway(triton.grpc_url, PERCEPT_CODEPERCEPTION_URL=stem.codeperception_url,
                                 **gateway_env) as url:
                yield PerceptStack(url, triton.grpc_url, stem)


def launch(playwright, **options):
    if not Path(CHROMIUM).is_file():
        raise RuntimeError(f"no chromium at {CHROMIUM}: `make browser-tools` installs Debian's package")
    # Playwright gives every launch a fresh temporary profile (user-data dir).
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **options)


@dataclass
class PageWatch:
    """Console errors, page exceptions and foreign requests of one page."""
    origin: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("request", self._request)

    def _request(self, request) -> None:
        url = request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(url)

    def allow(self, status: int) -> None:
        """A test that provokes an API error expects the browser's own log line of the failed load."""
        self.allowed.append(re.compile(rf"status of {status}\b"))

    def problems(self) -> list[str]:
        unexpected = [error for error in self.errors if not any(p.search(error) for p in self.allowed)]
        return [f"console error: {e}" for e in unexpected] + [f"request to another host: {u}" for u in self.foreign]


def words_png(width: int = 1000, height: int = 560) -> bytes:
    """A white page with a few lines of large black text (what a person would search)."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = _font(44)
    for row, line in enumerate(WORDS):
        draw.text((60, 70 + row * 150), line, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _font(size: int):
    try:
        import matplotlib
        return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf"), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size)


def words_pdf(pages: int = 2) -> bytes:
    """A PDF of `pages` pages with a few lines of text each (fpdf2, a core font); odd pages are
    landscape (420 x 300 pt), even ones portrait, so the size of a drawn page tells which it was."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=(300, 420))
    pdf.set_font("Helvetica", size=18)
    for number in range(1, pages + 1):
        pdf.add_page(orientation="landscape" if number % 2 else "portrait")
        for row, line in enumerate(WORDS):
            pdf.text(30, 70 + row * 70, f"{line}" if row else f"Page {number}: {line}")
    return bytes(pdf.output())

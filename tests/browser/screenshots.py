"""`make screenshots`: each panel of the try-it page, used as a person would, in chromium against the real
stack (the default tiny models), saved as OUT/ui-<panel>.png for the README and docs/ui.md.

    python -m tests.browser.screenshots --out docs/img
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.support import VIEWPORT, PageWatch, launch, percept_stack, words_pdf, words_png

TIMEOUT_MS = 120_000


def _locate(page, files: dict[str, Path]) -> None:
    page.set_input_files("#locate-file", str(files["png"]))
    page.fill("#locate-query", "Total amount")      # at the served model's own threshold
    page.click("#locate-submit")
    expect(page.locator("#locate-status")).to_contain_text("box(es)", timeout=TIMEOUT_MS)
    page.select_option("#locate-token", index=1)


def _image_to_code(page, files: dict[str, Path]) -> None:
    page.click("#tab-stem")
    page.set_input_files("#stem-file", str(files["figure"]))
    page.fill("#stem-candidates", "3")
    page.click("#stem-submit")
    expect(page.locator("#stem-status")).to_contain_text("Done in", timeout=TIMEOUT_MS)


def _code(page, files: dict[str, Path]) -> None:
    page.click("#tab-stem")
    page.click("#subtab-code")
    page.set_input_files("#code-reference", str(files["figure"]))
    page.click("#code-score")
    expect(page.locator("#code-status")).to_contain_text("Scored", timeout=TIMEOUT_MS)


def _ask(page, files: dict[str, Path]) -> None:
    page.click("#tab-ask")
    page.set_input_files("#ask-files", str(files["pdf"]))
    page.fill("#ask-pages", "1-2")
    page.fill("#ask-question", "What is the total amount?")
    page.fill("#ask-max-tokens", "24")
    page.click("#ask-submit")
    expect(page.locator("#ask-status")).to_have_text("Answered.", timeout=TIMEOUT_MS)


PANELS = {"locate": _locate, "image-to-code": _image_to_code, "code": _code, "ask": _ask}


def take(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="percept-ui-shots-") as scratch, percept_stack() as stack, \
            sync_playwright() as playwright:
        folder = Path(scratch)
        name, figure = next(iter(stack.stem.images().items()))
        files = {"png": folder / "invoice.png", "pdf": folder / "invoice.pdf", "figure": folder / f"{name}.png"}
        files["png"].write_bytes(words_png())
        files["pdf"].write_bytes(words_pdf(pages=2))
        files["figure"].write_bytes(figure)
        browser = launch(playwright)
        written = []
        for panel, use in PANELS.items():
            page = browser.new_page(viewport=VIEWPORT)
            watch = PageWatch(stack.url)
            watch.attach(page)
            page.goto(stack.url + "/")
            expect(page.locator("#models li.chip").first).to_be_visible(timeout=TIMEOUT_MS)
            use(page, files)
            page.mouse.move(0, 0)
            path = out / f"ui-{panel}.png"
            page.screenshot(path=str(path), full_page=True)
            if watch.problems():
                raise RuntimeError(f"{panel}: " + "; ".join(watch.problems()))
            page.close()
            written.append(path)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args(argv)
    for path in take(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

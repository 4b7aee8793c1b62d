"""Fixtures of the browser tests: the real stack once for this package, one chromium, and per test a
fresh page whose console errors, uncaught exceptions and requests to any other host fail the test.

Package scope, not session: Playwright's sync API keeps an event loop running in the main thread
while it is started, and every later test that calls asyncio.run() would fail if it outlived this
package."""
from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from tests.browser.support import VIEWPORT, PageWatch, launch, percept_stack, words_pdf, words_png


@pytest.fixture(scope="package")
def stack():
    with percept_stack() as running:
        yield running


@pytest.fixture(scope="package")
def browser():
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def open_page(browser, base_url: str, **context_options):
    """A page of a fresh context (no stored key), watched from its first request, at /ui/ via `/`."""
    context = browser.new_context(viewport=VIEWPORT, **context_options)
    page = context.new_page()
    page.set_default_timeout(90_000)
    watch = PageWatch(base_url)
    watch.attach(page)
    page.goto(base_url + "/")
    return context, page, watch


def closed_clean(context, watch: PageWatch) -> None:
    context.close()
    assert watch.requests, "the page made no request"
    assert not watch.problems(), "\n".join(watch.problems())


@pytest.fixture()
def watched(browser, stack):
    """(page, watch) on the stack's gateway; the page must end the test without a console error."""
    context, page, watch = open_page(browser, stack.url, permissions=["clipboard-read", "clipboard-write"])
    yield page, watch
    closed_clean(context, watch)


@pytest.fixture(scope="package")
def documents(tmp_path_factory, stack):
    """Fixture files to upload: a page with words, a two-page PDF, a STEM figure of the sample dataset."""
    folder = tmp_path_factory.mktemp("ui-documents")
    (folder / "words.png").write_bytes(words_png())
    (folder / "words.pdf").write_bytes(words_pdf(pages=2))
    name, figure = next(iter(stack.stem.images().items()))
    (folder / f"{name}.png").write_bytes(figure)
    (folder / "not-an-image.png").write_bytes(b"this is text, not a PNG")
    return {"png": folder / "words.png", "pdf": folder / "words.pdf", "figure": folder / f"{name}.png",
            "figure_name": name, "bad": folder / "not-an-image.png"}

"""The page as a whole in chromium: `/` leads to it, the header shows what is served, errors are said in
words (4xx with their code, 503 with Retry-After, 401 without a key), and it is usable by keyboard with a
label on every input."""
from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import closed_clean, open_page
from tests.integration.gateway.support import running_gateway

KEY = "ui-test-key"
DEAD_TRITON = "127.0.0.1:1"  # nothing listens on port 1


def test_the_header_shows_the_models_readiness_and_links(watched, stack):
    page, watch = watched
    assert page.url == stack.url + "/ui/"
    served = httpx.get(stack.url + "/v1/models").json()["data"]
    chips = page.locator("#models li.chip")
    expect(chips).to_have_count(len(served))
    for chip, model in zip(chips.all(), served, strict=True):
        assert chip.get_attribute("data-model") == model["id"] and model["task"] in chip.text_content()
    for domain in ("text", "stem"):
        expect(page.locator(f'#readiness [data-domain="{domain}"]')).to_have_attribute("data-ready", "true")
    for name, path in (("API docs", "/docs"), ("Metrics", "/metrics")):
        href = page.get_by_role("link", name=name).evaluate("a => a.href")
        assert href == stack.url + path and httpx.get(href).status_code == 200


def test_every_input_has_a_label_and_the_page_works_by_keyboard(watched, documents):
    page, _ = watched
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).map(i => i.id || i.outerHTML)""")
    assert unlabelled == []
    nameless = page.evaluate("""() => [...document.querySelectorAll('button, a')]
        .filter(b => !b.textContent.trim() && !b.getAttribute('aria-label')).map(b => b.outerHTML)""")
    assert nameless == []

    # Tabs: arrow keys move between panels, as on any tab list.
    page.focus("#tab-locate")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-stem")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#panel-stem")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#panel-locate")).to_be_visible()

    # A whole request without the mouse: type, Tab to the button, Enter.
    page.set_input_files("#locate-file", str(documents["png"]))
    page.focus("#locate-query")
    page.keyboard.type("Invoice")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "locate-submit"
    page.keyboard.press("Enter")
    expect(page.locator("#locate-status")).to_contain_text("token(s)")


def test_an_api_error_is_said_with_its_code_and_ends_the_wait(watched, documents):
    page, watch = watched
    watch.allow(422)
    page.set_input_files("#locate-file", str(documents["bad"]))
    page.fill("#locate-query", "Total")
    with page.expect_response(lambda r: r.url.endswith("/v1/text/locate")) as answered:
        page.click("#locate-submit")
    error = answered.value.json()["error"]
    message = page.locator("#locate-error")
    expect(message).to_have_text(f"422 Unprocessable input ({error['code']}): {error['message']}")
    expect(page.locator("#locate-status")).not_to_have_class("status busy")
    expect(page.locator("#locate-submit")).to_be_enabled()


@pytest.fixture(scope="module")
def keyed_url(stack):
    """A second gateway in front of the stack's Triton, asking for a key."""
    with running_gateway(stack.triton_grpc_url, PERCEPT_CODEPERCEPTION_URL=stack.stem.codeperception_url,
                         PERCEPT_API_KEYS=KEY) as url:
        yield url


def test_without_a_key_the_page_says_401_and_works_once_given_one(browser, keyed_url, documents):
    context, page, watch = open_page(browser, keyed_url)
    watch.allow(401)
    expect(page.locator("#header-error")).to_contain_text("401 Unauthorized (unauthorized)")
    expect(page.locator("#header-error")).to_contain_text("Enter a valid API key")
    page.set_input_files("#locate-file", str(documents["png"]))
    page.fill("#locate-query", "Total")
    page.click("#locate-submit")
    expect(page.locator("#locate-error")).to_contain_text("401 Unauthorized")

    page.fill("#api-key", KEY)
    page.press("#api-key", "Enter")
    expect(page.locator("#models li.chip").first).to_be_visible()
    expect(page.locator("#header-error")).to_be_hidden()
    with page.expect_request(lambda r: r.url.endswith("/v1/text/locate")) as sent:
        page.click("#locate-submit")
    assert sent.value.headers["authorization"] == f"Bearer {KEY}"
    expect(page.locator("#locate-status")).to_contain_text("token(s)")
    closed_clean(context, watch)


def test_an_unavailable_upstream_is_said_with_its_retry_hint(browser, documents):
    with running_gateway(DEAD_TRITON, PERCEPT_CODEPERCEPTION_URL=DEAD_TRITON,
                         PERCEPT_GATEWAY_RETRY_AFTER_S="7") as url:
        context, page, watch = open_page(browser, url)
        watch.allow(503)
        expect(page.locator('#readiness [data-domain="text"]')).to_have_attribute("data-ready", "false")
        page.set_input_files("#locate-file", str(documents["png"]))
        page.fill("#locate-query", "Total")
        page.click("#locate-submit")
        expect(page.locator("#locate-error")).to_contain_text("503 Service unavailable (upstream_unavailable)")
        expect(page.locator("#locate-error")).to_contain_text("Try again in 7 s.")
        expect(page.locator("#locate-submit")).to_be_enabled()
        closed_clean(context, watch)

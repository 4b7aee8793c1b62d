"""The ask panel in chromium: the answer streams in, for page images (chat completions) and for a PDF
(document VQA with stream=true, pages read by the gateway); the pages read are shown as thumbnails."""
from __future__ import annotations

from playwright.sync_api import expect


def _observe_the_answer(page) -> None:
    """Record the answer's length after every change, and whether the call had ended by then."""
    page.locator("#ask-answer").evaluate(
        "answer => { window.__lengths = []; new MutationObserver(() => window.__lengths.push("
        "[answer.textContent.length, document.getElementById('ask-status').textContent])).observe("
        "answer, {childList: true, characterData: true, subtree: true}); }")


def _grew_while_streaming(page) -> None:
    growing = [length for length, status in page.evaluate("() => window.__lengths")
               if length and status != "Answered."]
    # Seen growing while the stream ran (pieces that arrive together are drawn together).
    assert len(growing) >= 2, growing
    assert growing == sorted(growing) and len(set(growing)) == len(growing)
    assert len(page.locator("#ask-answer").text_content()) == growing[-1]


def test_the_answer_streams_in(watched, documents):
    page, _ = watched
    page.click("#tab-ask")
    page.set_input_files("#ask-files", str(documents["png"]))
    page.fill("#ask-question", "What is the total amount?")
    page.fill("#ask-max-tokens", "256")
    _observe_the_answer(page)
    with page.expect_request(lambda r: r.url.endswith("/v1/chat/completions")) as sent:
        page.click("#ask-submit")
    assert sent.value.post_data_json["stream"] is True
    expect(page.locator("#ask-status")).to_have_text("Answered.")

    _grew_while_streaming(page)
    expect(page.locator("#ask-meta")).to_contain_text("finish: length")
    thumbs = page.locator("#ask-thumbs img")
    expect(thumbs).to_have_count(1)
    assert thumbs.evaluate("img => img.complete ? img.naturalWidth : 0") > 0


def test_a_pdf_answer_streams_in_from_document_vqa_with_page_thumbnails(watched, documents):
    page, _ = watched
    page.click("#tab-ask")
    page.set_input_files("#ask-files", str(documents["pdf"]))
    expect(page.locator("#ask-pages")).to_be_visible()
    page.fill("#ask-pages", "2")
    page.fill("#ask-question", "Which page is this?")
    page.fill("#ask-max-tokens", "256")
    _observe_the_answer(page)
    with page.expect_response(lambda r: r.url.endswith("/v1/documents/vqa")) as answered:
        page.click("#ask-submit")
    assert answered.value.headers["content-type"].startswith("text/event-stream")  # asked with stream=true
    expect(page.locator("#ask-status")).to_have_text("Answered.")

    _grew_while_streaming(page)
    # The result event's usage and finish, and the page it read (PDF page 2, portrait: taller than wide).
    expect(page.locator("#ask-meta")).to_contain_text("finish: length")
    expect(page.locator("#ask-meta")).to_contain_text("streamed by /v1/documents/vqa")
    thumbs = page.locator("#ask-thumbs figure")
    expect(thumbs).to_have_count(1)
    label = thumbs.locator("figcaption").text_content()
    assert label.startswith("page 2 (")
    width, height = (int(n) for n in label.removeprefix("page 2 (").removesuffix(")").split(" x "))
    assert height > width
    assert thumbs.locator("img").evaluate("img => img.complete ? img.naturalWidth : 0") > 0

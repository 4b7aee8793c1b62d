"""The ask panel in chromium: the answer to page images streams in (chat completions); a PDF's pages
are read by document VQA; the pages read are shown as thumbnails."""
from __future__ import annotations

from playwright.sync_api import expect


def test_the_answer_streams_in(watched, documents):
    page, _ = watched
    page.click("#tab-ask")
    page.set_input_files("#ask-files", str(documents["png"]))
    page.fill("#ask-question", "What is the total amount?")
    page.fill("#ask-max-tokens", "64")
    # Observe the answer as it is written: its length after every change, and whether the call had ended.
    page.locator("#ask-answer").evaluate(
        "answer => { window.__lengths = []; new MutationObserver(() => window.__lengths.push("
        "[answer.textContent.length, document.getElementById('ask-status').textContent])).observe("
        "answer, {childList: true, characterData: true, subtree: true}); }")
    with page.expect_request(lambda r: r.url.endswith("/v1/chat/completions")) as sent:
        page.click("#ask-submit")
    assert sent.value.post_data_json["stream"] is True
    expect(page.locator("#ask-status")).to_have_text("Answered.")

    growing = [length for length, status in page.evaluate("() => window.__lengths")
               if length and status != "Answered."]
    # Seen growing while the stream ran (pieces that arrive together are drawn together).
    assert len(growing) >= 2, growing
    assert growing == sorted(growing) and len(set(growing)) == len(growing)
    assert len(page.locator("#ask-answer").text_content()) == growing[-1]
    expect(page.locator("#ask-meta")).to_contain_text("finish: length")
    thumbs = page.locator("#ask-thumbs img")
    expect(thumbs).to_have_count(1)
    assert thumbs.evaluate("img => img.complete ? img.naturalWidth : 0") > 0


def test_a_pdf_is_read_by_document_vqa_with_page_thumbnails(watched, documents):
    page, _ = watched
    page.click("#tab-ask")
    page.set_input_files("#ask-files", str(documents["pdf"]))
    expect(page.locator("#ask-pages")).to_be_visible()
    page.fill("#ask-pages", "2")
    page.fill("#ask-question", "Which page is this?")
    page.fill("#ask-max-tokens", "4")
    with page.expect_response(lambda r: r.url.endswith("/v1/documents/vqa")) as answered:
        page.click("#ask-submit")
    answer = answered.value.json()
    expect(page.locator("#ask-status")).to_have_text("Answered.")
    expect(page.locator("#ask-answer")).to_have_text(answer["answer"])
    thumbs = page.locator("#ask-thumbs figure")
    expect(thumbs).to_have_count(1)
    expect(thumbs).to_contain_text(f"page 2 ({answer['pages'][0]['width']} x {answer['pages'][0]['height']})")
    assert thumbs.locator("img").evaluate("img => img.complete ? img.naturalWidth : 0") > 0

"""The image-to-code panel in chromium: progress streamed while candidates render, then the best
render beside the input, the code (copy button), the fidelity, the caption and the ranked candidates;
the second tab renders and scores pasted code."""
from __future__ import annotations

from playwright.sync_api import expect

CANDIDATES = 3


def _loaded(image) -> int:
    return image.evaluate("img => img.complete ? img.naturalWidth : 0")


def test_candidates_stream_in_then_the_best_render_shows(watched, documents, stack):
    page, _ = watched
    page.click("#tab-stem")
    page.set_input_files("#stem-file", str(documents["figure"]))
    page.fill("#stem-candidates", str(CANDIDATES))
    # Progress is shown while the stream runs: record every event line as it is added.
    page.locator("#stem-events").evaluate(
        "list => { window.__progress = []; new MutationObserver(() => window.__progress.push("
        "[list.children.length, document.getElementById('stem-result').hidden])).observe(list, {childList: true}); }")
    page.click("#stem-submit")
    expect(page.locator("#stem-status")).to_contain_text("Done in")

    seen = page.evaluate("() => window.__progress")
    counts = [count for count, _ in seen]
    # Progress was drawn in steps (events that arrive together are drawn together), all before the result.
    assert len(counts) >= 2 and counts == sorted(set(counts)), counts
    assert all(hidden for _, hidden in seen)
    stages = page.locator("#stem-events li").evaluate_all("items => items.map(i => i.dataset.stage)")
    assert stages.count("generated") == CANDIDATES and stages.count("rendered") == CANDIDATES
    assert stages[-1] == "best_chosen"
    assert page.locator("#stem-progress").evaluate("bar => [bar.value, bar.max]") == [CANDIDATES, CANDIDATES]

    assert _loaded(page.locator("#stem-input")) > 0
    assert _loaded(page.locator("#stem-render")) > 0
    code = page.locator("#stem-code").text_content()
    assert code.strip() == stack.stem.code(documents["figure_name"]).strip()  # the reference backend's program
    expect(page.locator("#stem-fidelity")).to_contain_text("aggregate")
    expect(page.locator("#stem-caption")).not_to_be_empty()
    expect(page.locator("#stem-candidates-table tbody tr")).to_have_count(CANDIDATES)
    expect(page.locator("#stem-candidates-table tbody tr").first).to_contain_text("(best)")
    expect(page.locator("#stem-candidates-table thead")).to_contain_text("origin")
    expect(page.locator("#stem-candidates-table tbody tr").first).to_contain_text("reference")   # where it came from

    page.click("#stem-copy")
    expect(page.locator("#stem-copy")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == code


def test_pasted_code_renders_and_scores(watched, documents, stack):
    page, _ = watched
    page.click("#tab-stem")
    page.click("#subtab-code")
    page.click("#code-render")
    expect(page.locator("#code-status")).to_contain_text("Rendered: ok")
    assert _loaded(page.locator("#code-image")) > 0

    page.fill("#code-text", stack.stem.code(documents["figure_name"]))
    page.set_input_files("#code-reference", str(documents["figure"]))
    page.click("#code-score")
    expect(page.locator("#code-status")).to_contain_text("Scored: aggregate")
    assert _loaded(page.locator("#code-reference-image")) > 0 and _loaded(page.locator("#code-image")) > 0
    expect(page.locator("#code-details")).to_contain_text("ssim")


def test_an_image_the_backend_does_not_hold_is_said_in_words(watched, documents):
    page, watch = watched
    watch.allow(404)
    page.click("#tab-stem")
    page.set_input_files("#stem-file", str(documents["png"]))
    page.click("#stem-submit")
    expect(page.locator("#stem-error")).to_contain_text("404 Not found (not_found)")
    expect(page.locator("#stem-submit")).to_be_enabled()
    expect(page.locator("#stem-result")).to_be_hidden()

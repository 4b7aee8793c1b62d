"""The locate panel in chromium: what is drawn is what the API answered, scaled to the displayed page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from services.models.tokenfd.mini import published_checkpoint
from tests.browser.support import ROOT

LOCATE = "/v1/text/locate"


def _locate(page, file, query="Total amount", page_number=None, threshold: str | None = "0"):
    """`threshold` "0" draws boxes whatever the model's similarities (the overlay is what is tested);
    None leaves the field empty, so the model's own threshold applies."""
    page.set_input_files("#locate-file", str(file))
    if page_number is not None:
        expect(page.locator("#locate-status")).to_contain_text("page(s)")
        page.fill("#locate-page", str(page_number))
    page.fill("#locate-query", query)
    if threshold is not None:
        page.fill("#locate-threshold", threshold)
    with page.expect_response(lambda r: r.url.endswith(LOCATE)) as answered:
        page.click("#locate-submit")
    response = answered.value
    assert response.status == 200, response.text()
    expect(page.locator("#locate-status")).to_contain_text("box(es)")
    return response.json()


def _drawn_boxes(page, kind: str = "box") -> list[dict]:
    return page.locator(f"#locate-boxes .{kind}").evaluate_all(
        "nodes => nodes.map(n => { const r = n.getBoundingClientRect(); "
        "return {x: r.x, y: r.y, width: r.width, height: r.height}; })")


def assert_overlay_matches(page, answer: dict, token_index: int | None) -> None:
    """Every drawn box is the API's box (original pixels) scaled to the page as displayed: the token's
    boxes, or (token_index None) the whole query's matches."""
    shown = page.locator("#locate-page-image").bounding_box()
    natural = page.locator("#locate-page-image").evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert natural == [answer["image"]["width"], answer["image"]["height"]]  # the page sent is the page shown
    sx, sy = shown["width"] / answer["image"]["width"], shown["height"] / answer["image"]["height"]
    expected = answer["matches"] if token_index is None else answer["tokens"][token_index]["boxes"]
    drawn = _drawn_boxes(page, "match" if token_index is None else "box")
    assert expected and len(drawn) == len(expected)
    for box, rect in zip(expected, drawn, strict=True):
        assert rect["x"] - shown["x"] == pytest.approx(box["x0"] * sx, abs=1.0)
        assert rect["y"] - shown["y"] == pytest.approx(box["y0"] * sy, abs=1.0)
        assert rect["width"] == pytest.approx((box["x1"] - box["x0"]) * sx, abs=1.0)
        assert rect["height"] == pytest.approx((box["y1"] - box["y0"]) * sy, abs=1.0)


def test_boxes_heatmap_and_timings_follow_the_answer(watched, documents):
    page, _ = watched
    answer = _locate(page, documents["png"])
    shown = page.locator("#locate-page-image").bounding_box()
    assert shown["width"] < answer["image"]["width"]  # scaled for display (the page is wider than the viewer)
    assert_overlay_matches(page, answer, 0)

    # Another token: its own boxes and heatmap.
    last = len(answer["tokens"]) - 1
    page.select_option("#locate-token", str(last))
    assert_overlay_matches(page, answer, last)
    heatmap = page.locator("#locate-heatmap")
    expect(heatmap).to_be_visible()
    assert heatmap.get_attribute("src").endswith(answer["tokens"][last]["heatmap"]["png_base64"][-40:])
    assert heatmap.evaluate("img => img.complete && img.naturalWidth") == answer["tokens"][last]["heatmap"]["width"]

    # The opacity slider, by keyboard.
    page.focus("#locate-opacity")
    page.keyboard.press("End")
    assert heatmap.evaluate("img => getComputedStyle(img).opacity") == "1"
    page.keyboard.press("Home")
    assert heatmap.evaluate("img => getComputedStyle(img).opacity") == "0"

    timings = page.locator("#locate-timings")
    expect(timings).to_contain_text("total")
    total = answer["timings"]["total_s"]
    expect(timings).to_contain_text(f"{total * 1000:.0f} ms" if total < 1 else f"{total:.2f} s")


def test_the_whole_query_matches_are_drawn_in_their_own_colour(watched, documents):
    page, _ = watched
    # A one-token query (in the fixture's tokenizer): its regions above the threshold are its matches.
    answer = _locate(page, documents["png"], query="the")
    assert len(answer["tokens"]) == 1
    assert_overlay_matches(page, answer, None)
    expect(page.locator("#locate-status")).to_contain_text(f"{len(answer['matches'])} match(es)")
    colour = "n => getComputedStyle(n).outlineColor"
    assert page.locator("#locate-boxes .match").first.evaluate(colour) != \
        page.locator("#locate-boxes .box").first.evaluate(colour)


def test_a_pdf_page_is_drawn_and_sent_as_an_image(watched, documents):
    page, _ = watched
    answer = _locate(page, documents["pdf"], page_number=2)
    # The fixture PDF's page 1 is landscape, page 2 portrait (300 x 420 pt), drawn with its longest side at 1600 px.
    assert (answer["image"]["width"], answer["image"]["height"]) == (1143, 1600)
    assert_overlay_matches(page, answer, 0)


def test_a_page_beyond_the_pdf_is_refused_before_sending(watched, documents):
    page, watch = watched
    page.set_input_files("#locate-file", str(documents["pdf"]))
    expect(page.locator("#locate-status")).to_contain_text("2 page(s)")
    page.fill("#locate-page", "5")
    page.fill("#locate-query", "Total")
    page.click("#locate-submit")
    field = page.locator("#locate-page")
    assert field.evaluate("input => input.validity.rangeOverflow") and field.evaluate("i => i.validationMessage")
    assert not [url for url in watch.requests if url.endswith(LOCATE)]
    expect(page.locator("#locate-submit")).to_be_enabled()


@pytest.mark.skipif(published_checkpoint(ROOT) is None, reason="needs a trained TokenFD as the default "
                                                                "(models/tokenfd-mini): the fixture's boxes are noise")
def test_the_box_lies_on_the_word(watched, documents):
    """With the trained TokenFD-mini as the default, read at its own threshold, the best match of the
    query covers the word's ink, and that is the box drawn."""
    page, _ = watched
    answer = _locate(page, documents["png"], query="Total", threshold=None)
    assert answer["threshold"] > 0
    # words_png() draws "Total amount ..." on the second line, from x=60, baseline band y in [220, 280].
    best = answer["matches"][0]
    assert 40 <= best["x0"] and best["x1"] <= 260 and 200 <= best["y0"] and best["y1"] <= 300, best
    assert_overlay_matches(page, answer, None)

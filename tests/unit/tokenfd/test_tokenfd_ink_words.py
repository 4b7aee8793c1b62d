"""Whole-query matches read from the page's ink (services/models/tokenfd/ink_words.py, through
query_matches.match_query with a decoding whose boxes are `ink`): word boxes from a page drawn here,
and the query's maps choosing among them."""
import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from services.models.tokenfd import ink_words
from services.models.tokenfd.box_geometry import iou
from services.models.tokenfd.query_matches import INK, MAPS, UPSTREAM, Decoding, match_query

CELL = 3.5
INK_READING = Decoding(peak_share=0.6, rank="mass", boxes=INK, aspect=-0.5, length_weight=0.08, span_mean=0.25)
FONT = ImageFont.load_default(size=20)


def page_with(lines: list[tuple[str, tuple[int, int]]], *, size=(448, 448), paper=255, ink=0):
    """A grey page with each line drawn at its top-left corner, and the ink box of each of its words."""
    image = Image.new("L", size, paper)
    draw = ImageDraw.Draw(image)
    boxes = []
    for text, (x, y) in lines:
        draw.text((x, y), text, fill=ink, font=FONT)
        for word in text.split(" "):
            boxes.append(draw.textbbox((x, y), word, font=FONT))
            x += draw.textlength(word + " ", font=FONT)
    return np.asarray(image, dtype=np.float32), boxes


def maps_over(boxes, peak=0.6, spread=3, tokens=1, shape=(128, 128)):
    """Cosine maps whose every token is high over each box, blurred `spread` cells beyond it (as a small model's
    maps are), and low elsewhere."""
    maps = np.full((tokens, *shape), -0.05, dtype=np.float32)
    for x0, y0, x1, y1 in boxes:
        maps[:, max(0, int(y0 // CELL) - 1):int(y1 // CELL) + 1,
             max(0, int(x0 // CELL) - spread):int(x1 // CELL) + spread] = peak
    return maps


def test_the_page_s_words_are_candidates_and_a_line_s_phrase_too():
    page, (first, second) = page_with([("percept serves", (40, 100))])
    candidates = [tuple(box) for box in ink_words.word_boxes(page, (CELL, CELL))]
    assert max(iou(box, first) for box in candidates) >= 0.85
    assert max(iou(box, second) for box in candidates) >= 0.85
    phrase = (first[0], min(first[1], second[1]), second[2], max(first[3], second[3]))
    assert max(iou(box, phrase) for box in candidates) >= 0.85


def test_a_phrase_inside_a_line_is_a_candidate_as_a_run_of_its_words():
    page, (_, _, brown, fox, _) = page_with([("the quick brown fox jumps", (20, 100))])
    phrase = (brown[0], min(brown[1], fox[1]), fox[2], max(brown[3], fox[3]))
    # every closing width that joins "brown" to "fox" joins the rest of the line too
    assert max(iou(tuple(box), phrase) for box in ink_words.word_boxes(page, (CELL, CELL))) < 0.85
    assert max(iou(tuple(box), phrase) for box in ink_words.word_boxes(page, (CELL, CELL), words=2)) >= 0.85
    maps = maps_over([brown, fox], spread=0, tokens=2)
    maps[0, :, int(fox[0] // CELL):] = -0.05                 # "brown" fires on brown, "fox" on fox
    maps[1, :, :int(brown[2] // CELL) + 1] = -0.05
    (match,) = match_query(maps, 0.15, CELL, 1, INK_READING, page=page, pieces=["\u2581brown", "\u2581fox"],
                           query="brown fox")
    assert iou(match.box, phrase) >= 0.85


def test_a_run_follows_a_line_and_stops_at_its_end():
    boxes = np.array([[0, 0, 10, 10], [14, 1, 24, 10], [28, 0, 40, 11],     # one line
                      [0, 30, 10, 40], [60, 0, 70, 10]], dtype=np.float64)   # the next line; far along the first
    assert sorted(ink_words.runs(boxes, 2)) == [(0, 0, 24, 10), (14, 0, 40, 11)]
    assert ink_words.runs(boxes, 3) == [(0, 0, 40, 11)]
    assert ink_words.runs(boxes, 6) == []
    assert ink_words.query_words("  brown   fox ") == 2 and ink_words.query_words("") == 1


def test_light_text_on_a_dark_slide_is_ink_too():
    page, (box,) = page_with([("slide", (60, 60))], paper=30, ink=230)
    assert max(iou(tuple(candidate), box) for candidate in ink_words.word_boxes(page, (CELL, CELL))) >= 0.85
    assert not ink_words.ink_mask(np.full((32, 32), 128.0)).any()


def test_the_match_is_the_word_s_ink_box_where_the_maps_blur_past_it():
    page, (box, _) = page_with([("address and", (40, 100))])
    maps = maps_over([box], spread=6)       # the map runs 6 cells (21 px) past the word on either side
    (match,) = match_query(maps, 0.15, CELL, 1, INK_READING, page=page, pieces=["\u2581address"], query="address")
    assert iou(match.box, box) >= 0.85
    (chained,) = match_query(maps, 0.15, CELL, 1, Decoding(peak_share=0.6, rank="mass"))
    assert iou(chained.box, box) < 0.7       # the maps' own region keeps the blur
    assert match.score == pytest.approx(0.6, abs=0.05)   # 0.6 over the whole box: its peak and its mean


def test_a_word_of_the_query_s_length_beats_a_longer_one_the_maps_like_as_much():
    page, (short, long) = page_with([("Total", (40, 60)), ("Customerservice", (40, 200))])
    maps = maps_over([short, long], spread=0)
    found = match_query(maps, 0.15, CELL, 5, INK_READING, page=page, pieces=["\u2581Total"], query="Total")
    assert iou(found[0].box, short) >= 0.85
    assert found[0].mass > found[1].mass     # `mass` is what ranks an ink match


def test_each_token_is_read_in_its_own_share_of_the_box():
    _, (box,) = page_with([("overhead", (40, 100))])
    left, right = box[0] + 0.35 * (box[2] - box[0]), box[0] + 0.65 * (box[2] - box[0])
    right_way = maps_over([box], spread=0, tokens=2)
    right_way[0, :, int(left // CELL):] = -0.05      # "over" fires on the word's left part, "head" on its right
    right_way[1, :, :int(right // CELL) + 1] = -0.05
    wrong_way = right_way[::-1].copy()
    pieces, word = ["\u2581over", "head"], np.array([box], dtype=np.float64)
    good = ink_words.read(right_way, pieces, "overhead", word, (CELL, CELL), (-9.0, 9.0))
    bad = ink_words.read(wrong_way, pieces, "overhead", word, (CELL, CELL), (-9.0, 9.0))
    assert good.peaks[0] == pytest.approx(0.6) and bad.peaks[0] == pytest.approx(-0.05)


def test_nothing_above_the_threshold_is_no_match_and_a_blank_page_has_no_words():
    page, (box,) = page_with([("absent", (40, 100))])
    assert match_query(maps_over([box], peak=0.1), 0.15, CELL, 3, INK_READING, page=page, pieces=["\u2581absent"],
                       query="absent") == []
    blank = np.full((448, 448), 255.0, dtype=np.float32)
    assert ink_words.word_boxes(blank, (CELL, CELL)).shape == (0, 4)
    assert match_query(maps_over([box]), 0.15, CELL, 3, INK_READING, page=blank, pieces=["\u2581absent"],
                       query="absent") == []


def test_the_ink_reading_needs_the_page_and_the_query():
    with pytest.raises(ValueError, match="needs the page"):
        match_query(np.zeros((1, 8, 8), dtype=np.float32), 0.2, CELL, 1, INK_READING)
    with pytest.raises(ValueError, match="pieces"):
        ink_words.read(np.zeros((2, 8, 8), dtype=np.float32), ["\u2581a"], "a", np.zeros((1, 4)), (CELL, CELL),
                       (-9.0, 9.0))


def test_the_grey_page_is_the_image_the_pipeline_decodes():
    image = Image.new("RGB", (30, 20), (255, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    grey = ink_words.grey_page(buffer.getvalue())
    assert grey.shape == (20, 30) and grey[0, 0] == pytest.approx(76, abs=1)   # PIL's "L" of pure red


def test_an_ink_decoding_reads_back_and_a_record_before_it_reads_as_the_maps():
    assert Decoding.from_json(INK_READING.to_json()) == INK_READING
    older = Decoding.from_json({"peak_share": 0.6, "rank": "mass"})
    assert older.boxes == MAPS and older == Decoding(0.6, "mass")
    assert UPSTREAM.boxes == MAPS


@pytest.mark.parametrize("data", [{"boxes": "pixels"}, {"span_mean": 1.5}, {"length_weight": -1},
                                  {"aspect": "wide"}, {"aspect": float("nan")}])
def test_a_bad_ink_decoding_is_refused(data):
    with pytest.raises(ValueError):
        Decoding.from_json(data)


def test_the_vectorised_readings_are_each_span_s_own_peak_and_mean():
    rng = np.random.default_rng(0)
    maps = rng.random((3, 40, 30)).astype(np.float32)
    cell = (3.0, 2.5)
    corners = rng.uniform(0, 90, size=(200, 2))
    boxes = np.concatenate([corners, corners + rng.uniform(1, 60, size=(200, 2))], axis=1)
    boxes = np.concatenate([boxes, [[0, 0, 1, 1], [80, 95, 95, 100], [0, 0, 90, 100]]])   # the grid's corners, all
    spans = ink_words.token_spans(["\u2581a", "bcd", "ef"])
    peaks, means = ink_words.span_readings(maps, boxes, spans, cell)
    r0, r1, c0, c1 = ink_words.span_cells(boxes, spans, cell, 40, 30)
    for n in range(len(boxes)):
        own = [maps[t, r0[n]:r1[n], c0[n, t]:c1[n, t]] for t in range(3)]
        assert all(span.size > 0 for span in own)
        assert peaks[n] == pytest.approx(np.mean([span.max() for span in own]), abs=1e-6)
        assert means[n] == pytest.approx(np.mean([span.mean() for span in own]), abs=1e-6)


@pytest.mark.parametrize("width", [1, 2, 3, 4, 7, 12])
def test_the_closing_is_scipy_s_at_every_width(width):
    from scipy import ndimage

    rng = np.random.default_rng(width)
    ink = rng.random((60, 80)) < 0.2          # ink up to the borders, where scipy's erosion clears columns
    page, _ = page_with([("closing gaps", (2, 10))], size=(120, 40))
    for mask in (ink, ink_words.ink_mask(page)):
        expected = ndimage.binary_closing(mask, structure=np.ones((1, width), dtype=bool)) if width > 1 else mask
        assert np.array_equal(ink_words.closed(mask, ink_words.row_gaps(mask), width), expected)


def test_the_page_s_ink_found_beforehand_gives_the_same_candidates():
    page, _ = page_with([("the quick brown fox", (20, 60)), ("jumps over", (20, 100))])
    ink = ink_words.PageInk.of(page)
    assert np.array_equal(ink.ink, ink_words.ink_mask(page)) and np.array_equal(ink.gaps, ink_words.row_gaps(ink.ink))
    for words in (1, 2):
        assert np.array_equal(ink_words.word_boxes(ink, (CELL, CELL), words),
                              ink_words.word_boxes(page, (CELL, CELL), words))
    encoded = io.BytesIO()
    Image.fromarray(page.astype(np.uint8)).save(encoded, format="PNG")
    assert np.array_equal(ink_words.PageInk.read(encoded.getvalue()).ink, ink.ink)


def test_a_spelled_word_s_letters_choose_between_boxes_its_token_map_likes_as_much():
    page, (drawn, other) = page_with([("abc", (40, 60)), ("xyz", (40, 200))])
    maps = maps_over([drawn, other], spread=0)            # the token's map: the same over both words
    letters = np.full((3, 128, 128), -0.05, dtype=np.float32)
    for index in range(3):                                  # each letter high over its own third of the drawn word
        x0 = drawn[0] + index * (drawn[2] - drawn[0]) / 3
        letters[index, int(drawn[1] // CELL):int(drawn[3] // CELL) + 1, int(x0 // CELL):int(x0 // CELL) + 2] = 0.5
    spelled = ink_words.Letters(letters, ["\u2581a", "b", "c"])
    kwargs = dict(page=page, pieces=["\u2581abc"], query="abc", letters=spelled)
    spelling = Decoding(**{**INK_READING.to_json(), "letters": 1.0})

    def margin(decoding):     # how far the drawn word ranks above the other, and its score
        found = {iou(match.box, drawn) >= 0.85: match for match in match_query(maps, 0.15, CELL, 5, decoding,
                                                                                **kwargs)}
        return found[True].mass - found[False].mass, found[True].score

    (spelled_margin, spelled_score), (plain_margin, plain_score) = margin(spelling), margin(INK_READING)
    assert spelled_margin > 0 and spelled_margin > plain_margin + 0.2
    assert spelled_score == plain_score       # the letters change the rank only: the score is the token's reading


def test_a_letters_weight_reads_back_and_a_record_without_it_does_not_spell():
    assert Decoding.from_json({**INK_READING.to_json(), "letters": 1.5}).letters == 1.5
    assert Decoding.from_json({key: value for key, value in INK_READING.to_json().items() if key != "letters"}
                              ).letters == 0.0


def test_the_likeness_adds_to_the_score_and_picks_the_word_drawn_like_the_query():
    page, (drawn, other) = page_with([("address", (40, 60)), ("Lottery", (40, 200))])
    maps = maps_over([drawn, other], spread=0)            # the token's map: the same over both words
    kwargs = dict(page=page, pieces=["\u2581address"], query="address")
    comparing = Decoding(**{**INK_READING.to_json(), "likeness": 1.0})

    def best_and_scores(decoding):
        found = match_query(maps, 0.15, CELL, 5, decoding, **kwargs)
        return found[0], {iou(match.box, drawn) >= 0.85: match.score for match in found}

    (_, plain), (compared_best, compared) = best_and_scores(INK_READING), best_and_scores(comparing)
    assert iou(compared_best.box, drawn) >= 0.85
    assert compared[True] - plain[True] > compared[False] - plain[False] + 0.3   # each gains its own likeness
    assert plain[True] == pytest.approx(plain[False], abs=0.02)                  # which the maps alone do not tell


def test_only_the_candidates_the_maps_rank_highest_are_compared_with_the_drawing(monkeypatch):
    page, (liked, other) = page_with([("address", (40, 60)), ("address", (40, 200))])
    maps = maps_over([liked], peak=0.6, spread=0) + maps_over([other], peak=0.3, spread=0) + 0.05
    page_ink = ink_words.PageInk.of(page)
    boxes = ink_words.word_boxes(page_ink, (CELL, CELL), ink_words.query_words("address"))
    monkeypatch.setattr(ink_words, "LIKENESS_CANDIDATES", 1)
    readings = ink_words.read(maps, ["\u2581address"], "address", boxes, (CELL, CELL), (-3.0, 3.0),
                              ink=page_ink.ink)
    compared = readings.likeness > -1.0
    assert compared.sum() == 1 and np.argmax(readings.peaks) == np.flatnonzero(compared)[0]
    assert iou(tuple(readings.boxes[compared][0]), liked) >= 0.85

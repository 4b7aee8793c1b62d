"""How a trained TokenFD-mini's maps are read is chosen on calibration pages and recorded with it
(services/models/tokenfd/mini/calibrate.py): the grid's choice on maps whose answer is known, and the
command on a checkpoint trained for 3 steps (its record then reads back through the loader's record)."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from services.datasets.tokenit import cli
from services.evaluation.shards import Shard
from services.models.tokenfd.checkpoint import RECORD_FILE, read_record
from services.models.tokenfd.config import FEATURE_GRID
from services.models.tokenfd.mini import calibrate
from services.models.tokenfd.mini.calibrate import CELL_PX, Query
from services.models.tokenfd.mini.config import Recipe
from services.models.tokenfd.mini.train import Trainer
from services.models.tokenfd.query_matches import INK, RANKINGS, UPSTREAM

pytestmark = pytest.mark.timeout(300)


def _word_on_a_line(peak: float, line: float = 0.5) -> Query:
    """A one-token word at cells 40-46 x 20-30, its similarity spread (`line`) over its whole line."""
    maps = np.full((1, FEATURE_GRID, FEATURE_GRID), -0.1, dtype=np.float32)
    maps[0, 40:46, 0:FEATURE_GRID] = line
    maps[0, 40:46, 20:30] = peak
    return Query(maps, (20 * CELL_PX, 40 * CELL_PX, 30 * CELL_PX, 46 * CELL_PX))


def test_the_grid_chooses_the_reading_that_finds_the_words():
    present = [_word_on_a_line(peak) for peak in (0.85, 0.9, 0.95)]
    absent = [Query(np.full((1, FEATURE_GRID, FEATURE_GRID), value, dtype=np.float32), None) for value in (0.0, 0.5)]
    chosen = calibrate.calibrate(present + absent)
    # at every threshold of the grid (at most 0.45) upstream's reading boxes the whole line
    assert chosen.upstream_hit_rate == 0.0 and chosen.decoding != UPSTREAM
    assert chosen.hit_rate == 1.0 and chosen.decoding.peak_share >= 0.6
    # the flat absent map at 0.5 is a match at every threshold of the grid; the one at 0 never
    assert chosen.rejected == 0.5 and (chosen.queries, chosen.absent) == (3, 2)


def test_ties_go_to_upstream_s_reading_then_to_the_higher_threshold():
    chosen = calibrate.calibrate([_word_on_a_line(0.9, line=-0.1)])   # a clean map: every reading hits
    assert (chosen.decoding, chosen.threshold, chosen.hit_rate) == (UPSTREAM, max(calibrate.THRESHOLDS), 1.0)


def test_no_queries_is_refused():
    with pytest.raises(ValueError, match="no queries"):
        calibrate.calibrate([])


def test_the_command_records_the_choice_beside_the_weights(tmp_path):
    pages = tmp_path / "pages"
    cli.generate(pages, count=2, seed=0, shard=Shard.whole(), tokenizer_path=pages / "tokenizer.model",
                 pdf_share=0.5, progress=False)
    recipe = dataclasses.replace(Recipe(), steps=2, batch=1, threads=1, eval_every=2, eval_queries=4, warmup=1)
    checkpoint = Trainer(pages, pages, tmp_path / "run", recipe, log=lambda *_: None).run(progress=False)
    steps = json.loads((checkpoint / RECORD_FILE).read_text())["steps"]

    assert calibrate.main([str(checkpoint), "--pages", str(pages), "--crops-per-page", "1", "--threads", "1",
                           "--no-progress"]) == 0
    record = json.loads((checkpoint / RECORD_FILE).read_text())
    assert record["steps"] == steps                       # the rest of the record stays
    assert record["calibration"]["pages"] == "pages" and record["calibration"]["queries"] > 0
    recorded = read_record(checkpoint)
    assert recorded.threshold in calibrate.THRESHOLDS
    assert recorded.decoding.peak_share in calibrate.PEAK_SHARES and recorded.decoding.rank in RANKINGS
    assert calibrate.main([str(checkpoint), "--pages", str(tmp_path / "nowhere"), "--no-progress"]) == 1
    assert calibrate.main([str(checkpoint), "--pages", str(pages), "--threads", "0"]) == 2


def test_the_ink_reading_is_chosen_where_the_maps_blur_past_the_word():
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (448, 448), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=20)
    draw.text((120, 100), "the address and", fill=0, font=font)
    x = 120 + draw.textlength("the ", font=font)
    box = draw.textbbox((x, 100), "address", font=font)
    maps = np.full((1, FEATURE_GRID, FEATURE_GRID), -0.1, dtype=np.float32)
    # the map is even over the word and 15 cells (52 px) either side of it: no cut of it finds the word
    rows, cols = slice(int(box[1] // CELL_PX), int(box[3] // CELL_PX) + 1), \
        slice(int(box[0] // CELL_PX) - 15, int(box[2] // CELL_PX) + 15)
    maps[0, rows, cols] = 0.6
    page = np.asarray(image, dtype=np.float32)
    chosen = calibrate.calibrate([Query(maps, tuple(box), "address", ("\u2581address",), page)])
    assert chosen.maps_hit_rate == 0.0
    assert chosen.decoding.boxes == INK and chosen.hit_rate == 1.0
    assert chosen.record(calibrate.Path("pages"))["calibration"]["maps_hit@0.5"] == 0.0


def test_among_settings_as_good_as_the_best_the_one_reading_more_of_each_span_is_recorded():
    from services.models.tokenfd.query_matches import Decoding

    def ink(span_mean, aspect=-0.5):
        return Decoding(0.6, "mass", boxes=INK, aspect=aspect, length_weight=0.08, span_mean=span_mean)

    close = {(0.15, ink(0.25)): 0.705, (0.15, ink(0.5)): 0.702, (0.2, ink(0.0)): 0.70}
    assert calibrate.robust_choice(close, 905) == (0.15, ink(0.5))       # within one standard error (0.015)
    apart = {(0.15, ink(0.25)): 0.705, (0.15, ink(0.5)): 0.65}
    assert calibrate.robust_choice(apart, 905) == (0.15, ink(0.25))
    ties = {(0.15, ink(0.5, -0.4)): 0.70, (0.2, ink(0.5, -0.4)): 0.70}
    assert calibrate.robust_choice(ties, 905) == (0.2, ink(0.5, -0.4))  # then the higher threshold


def _confused_page(word: str, other: str):
    """A crop with `word` and `other` drawn, and a one-token map that prefers `other` (0.62 over 0.6):
    (grey pixels, word's box, maps)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (448, 448), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=20)
    drawn, elsewhere = draw.textbbox((60, 100), word, font=font), draw.textbbox((60, 300), other, font=font)
    for box, text in ((drawn, word), (elsewhere, other)):
        draw.text(box[:2], text, fill=0, font=font, anchor="lt")
    maps = np.full((1, FEATURE_GRID, FEATURE_GRID), -0.1, dtype=np.float32)
    for (x0, y0, x1, y1), value in ((drawn, 0.6), (elsewhere, 0.62)):
        maps[0, int(y0 // CELL_PX):int(y1 // CELL_PX) + 1, int(x0 // CELL_PX):int(x1 // CELL_PX) + 1] = value
    return np.asarray(image, dtype=np.float32), drawn, maps


def test_the_letters_are_weighed_in_where_they_tell_apart_words_the_token_s_map_confuses(monkeypatch):
    monkeypatch.setattr(calibrate, "LIKENESS_WEIGHTS", (0.0,))    # the drawing would tell them apart too
    from services.models.tokenfd.ink_words import Letters

    page, drawn, maps = _confused_page("abc", "xyz")
    letters = np.full((3, FEATURE_GRID, FEATURE_GRID), -0.1, dtype=np.float32)
    x0, y0, x1, y1 = drawn                        # each letter's map is high over its third of the drawn word
    for index in range(3):
        left = x0 + index * (x1 - x0) / 3
        letters[index, int(y0 // CELL_PX):int(y1 // CELL_PX) + 1, int(left // CELL_PX):int(left // CELL_PX) + 2] = 0.5
    query = Query(maps, tuple(drawn), "abc", ("\u2581abc",), page, Letters(letters, ("\u2581a", "b", "c")))
    chosen = calibrate.calibrate([query])
    assert chosen.maps_hit_rate == 0.0
    assert chosen.decoding.boxes == INK and chosen.decoding.letters > 0 and chosen.hit_rate == 1.0


def test_separation_is_the_chance_a_drawn_word_outscores_an_absent_one():
    present, absent = np.array([0.5, 0.4, 0.3]), np.array([0.35, 0.1])
    # pairs above: 0.5 > both, 0.4 > both, 0.3 > 0.1 only: 5 of 6
    assert calibrate.separation(present, absent) == pytest.approx(5 / 6)
    assert calibrate.separation(present, present) == pytest.approx(0.5)       # ties count half: chance
    assert calibrate.separation(absent + 1.0, absent) == 1.0
    # an absent word with no candidate at all (-inf) is below every drawn word
    assert calibrate.separation(np.array([0.2]), np.array([-np.inf])) == 1.0
    assert np.isnan(calibrate.separation(present, np.array([])))


def test_the_likeness_is_weighed_in_where_it_tells_apart_words_the_maps_confuse():
    page, drawn, maps = _confused_page("quiet", "harbor")
    query = Query(maps, tuple(drawn), "quiet", ("\u2581quiet",), page)
    chosen = calibrate.calibrate([query])
    assert chosen.maps_hit_rate == 0.0
    assert chosen.decoding.boxes == INK and chosen.decoding.likeness > 0 and chosen.hit_rate == 1.0

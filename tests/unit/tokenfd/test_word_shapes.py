"""A candidate's likeness to the query drawn in print (services/models/tokenfd/word_shapes.py): on a line
drawn in a face that is none of the reference faces, each word looks most like itself; an empty box or a
box past the page looks like nothing; the band of ink every word holds is taken out of the comparison, and
each row of a word counts about alike."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from services.models.tokenfd import ink_words, word_shapes

WORDS = ("Delivery", "address", "Supplies", "module", "20417", "Total")


def _page(font) -> tuple[np.ndarray, np.ndarray]:
    image = Image.new("L", (900, 120), 255)
    draw = ImageDraw.Draw(image)
    boxes, x = [], 20
    for word in WORDS:
        draw.text((x, 40), word, font=font, fill=0)
        box = draw.textbbox((x, 40), word, font=font)
        boxes.append(box)
        x = box[2] + 24
    return ink_words.ink_mask(np.asarray(image, dtype=np.float32)), np.array(boxes, dtype=np.float64)


@pytest.mark.parametrize("size", [18, 30])
def test_each_word_looks_most_like_itself_in_another_face(size):
    font = ImageFont.load_default(size=size)     # Pillow's own face, not one of the references
    ink, boxes = _page(font)
    table = np.array([word_shapes.likeness(ink, boxes, word) for word in WORDS])
    # asked for each word, its own box looks most like it; and each box looks most like its own word
    assert (table.argmax(axis=1) == np.arange(len(WORDS))).all(), np.round(table, 2)
    assert (table.argmax(axis=0) == np.arange(len(WORDS))).all(), np.round(table, 2)


def test_a_box_without_ink_or_past_the_page_looks_like_nothing():
    ink = np.zeros((50, 200), dtype=bool)
    ink[10:30, 20:60] = True
    boxes = np.array([[100, 5, 180, 40], [300, 300, 400, 340], [20, 10, 59, 29]], dtype=np.float64)
    found = word_shapes.likeness(ink, boxes, "module")
    assert found[0] == -1.0 and found[1] == -1.0
    assert -1.0 <= found[2] <= 1.0


def test_the_reference_faces_ship_with_matplotlib():
    import matplotlib

    directory = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    assert all((directory / face).is_file() for face in word_shapes.REFERENCE_FACES)
    drawn = word_shapes.references("address")
    assert drawn.shape == (len(word_shapes.REFERENCE_FACES), word_shapes.SHAPE_ROWS * word_shapes.SHAPE_COLS)
    assert np.allclose(np.linalg.norm(drawn, axis=1), 1.0, atol=1e-5)


def test_the_band_of_ink_every_word_holds_is_taken_out():
    # each row's mean is taken out: the x-height band any lowercase word fills would otherwise make two words
    # of a length alike, whatever their letters
    ink, boxes = _page(ImageFont.load_default(size=30))
    x0, y0, x1, y1 = boxes[WORDS.index("module")].astype(int)
    found = word_shapes.descriptor(ink[y0:y1 + 1, x0:x1 + 1])
    rows = found.reshape(word_shapes.SHAPE_ROWS, word_shapes.SHAPE_COLS)
    assert np.allclose(rows.mean(axis=1), 0.0, atol=1e-6) and np.linalg.norm(found) == pytest.approx(1.0)
    assert np.abs(rows).sum(axis=1).max() > 0     # what is left is where each row's ink lies


@pytest.mark.parametrize("word", ["module", "address", "Delivery"])
def test_the_x_height_rows_do_not_outweigh_the_outline(word):
    # each row is brought to about one energy: left as drawn, the rows across the x-height, dense with strokes,
    # hold three to four times the energy of the ascender and descender rows that give the word its outline
    ink, boxes = _page(ImageFont.load_default(size=30))
    x0, y0, x1, y1 = boxes[WORDS.index(word)].astype(int)
    rows = word_shapes.descriptor(ink[y0:y1 + 1, x0:x1 + 1]).reshape(word_shapes.SHAPE_ROWS, word_shapes.SHAPE_COLS)
    energy = (rows ** 2).mean(axis=1)
    assert energy.max() < 2.0 * energy.min(), np.round(energy / energy.max(), 2)

"""The engine's breadth, through the real sandbox server: several seeds of every family render one
non-blank figure each in the project's render path, and the seeds give different programs, titles,
texts and figure sizes, some of them with several panels."""
from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image

from services.evaluation.synth import corpus, families, wordlist
from services.evaluation.synth.families import _text, _words
from services.evaluation.synth.render import TripletRenderer, render_all

DPI = 30  # small images: the checks read the trace and count inked pixels
SEEDS = 4  # rendered per family
CORPUS_SEED = 5
TITLE_BAND = 0.15  # the top of the image, where titles sit: ink there alone is not a drawing
MIN_INK = 0.003  # share of pixels below the title band that differ from the background
NEW_FAMILIES = ("histogram", "box_plot", "heat_map", "contour_plot", "vector_field", "polar_plot",
                "chemical_structure", "probability_tree", "venn_diagram")


@pytest.fixture(scope="module")
def rendered(synth_sandbox):
    """family -> its SEEDS triplets, each sample written by the corpus plan and rendered by the sandbox."""
    names = families.resolve(None)
    programs = corpus.programs(CORPUS_SEED, names, range(SEEDS * len(names)))
    by_family: dict[str, list] = {}
    with TripletRenderer(synth_sandbox.target, dpi=DPI, timeout_s=30.0) as renderer:
        for triplet in render_all(renderer, programs, concurrency=2):  # RenderFailed on any failure
            by_family.setdefault(triplet.program.family, []).append(triplet)
    return by_family


def ink_share(png: bytes) -> float:
    """The share of pixels below the title band that are not the background (the most common colour)."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    body = rgb.crop((0, int(rgb.height * TITLE_BAND), rgb.width, rgb.height))
    counts = body.getcolors(body.width * body.height)
    background = max(counts)[0]
    return 1 - background / (body.width * body.height)


def titles(triplet) -> list[str]:
    """The drawn axes titles and suptitle, in drawing order."""
    return [t["text"] for t in triplet.trace["figures"][0]["texts"] if t["role"] in ("title", "suptitle")]


def panels(triplet) -> int:
    """Axes that are not colour bars."""
    return sum(1 for ax in triplet.trace["figures"][0]["axes"] if ax.get("role") != "colorbar")


def test_the_registry_holds_the_new_families_once_in_corpus_order():
    names = list(families.FAMILIES)
    assert len(names) == len(set(names)) == len(families.MODULES) == 22
    assert set(NEW_FAMILIES) <= set(names)
    assert names[:13] == ["function_plot", "plane_geometry", "bar_chart", "line_chart", "scatter_plot", "pie_chart",
                          "force_diagram", "circuit", "surface_3d", "solid_3d", "cube_net", "number_line",
                          "data_table"]  # the first families keep their place in the round-robin
    assert set(families.describe()) == set(names) and all(families.describe().values())


def test_every_family_renders_non_blank_figures(rendered):
    assert sorted(rendered) == sorted(families.FAMILIES)
    for family, triplets in rendered.items():
        assert len(triplets) == SEEDS, family
        for triplet in triplets:
            (figure,) = triplet.trace["figures"]
            assert figure["axes"], f"{triplet.program.name} drew no axes"
            assert ink_share(triplet.image) >= MIN_INK, (triplet.program.name, ink_share(triplet.image))


def test_seeds_give_distinct_programs_and_titles(rendered):
    for family, triplets in rendered.items():
        codes = {t.program.code for t in triplets}
        assert len(codes) == SEEDS, family
        drawn = [" | ".join(titles(t)) for t in triplets]
        assert all(drawn) and len(set(drawn)) == SEEDS, (family, drawn)


def test_seeds_vary_the_drawn_texts_and_the_figure_size(rendered):
    """No two samples of a family draw the same texts, and not all share one figure size."""
    for family, triplets in rendered.items():
        texts = [frozenset(t["text"] for t in tr.trace["figures"][0]["texts"] if "tick" not in t["role"])
                 for tr in triplets]
        assert len(set(texts)) == SEEDS, family
        sizes = {tuple(t.trace["figures"][0]["size_inches"]) for t in triplets}
        assert len(sizes) > 1, (family, sizes)


def test_some_samples_are_laid_out_in_several_panels(rendered):
    multi = {family for family, triplets in rendered.items() if any(panels(t) > 1 for t in triplets)}
    assert len(multi) >= 3, multi


def test_many_seeds_write_distinct_programs_without_rendering():
    """Forty seeds per family: forty programs, and titles drawn from a broad vocabulary."""
    for name, write in families.FAMILIES.items():
        codes = [write(random.Random(seed)) for seed in range(40)]
        assert len(set(codes)) == 40, name
    words = set()
    for seed in range(200):
        rng = random.Random(seed)
        words.update(re.findall(r"[A-Za-z]+", _text.title(rng, _text.quantity(rng), _text.ordered(rng))))
        words.update(" ".join(_text.labels(rng, 4)).split())
    assert len(words) > 400  # the word list, made-up names and the quantities, not a handful of templates


def test_the_word_list_comes_from_the_pydoc_topics():
    """The committed list is derived from text that ships with Python (regenerated by wordlist.py)."""
    assert len(_words.WORDS) > 400 and list(_words.WORDS) == sorted(set(_words.WORDS))
    assert all(word.isalpha() and word.islower() and 4 <= len(word) <= 10 for word in _words.WORDS)
    prose = wordlist.topics_text()
    found = sum(1 for word in _words.WORDS if re.search(rf"\b{word}\b", prose))
    assert found >= 0.95 * len(_words.WORDS)  # allows for a Python whose topics changed a little


def test_the_word_list_keeps_prose_words_and_drops_identifiers():
    text = ("Each mapping holds values. Each mapping holds values. Each mapping holds values.\n"
            "   code_block mapping mapping mapping\n"
            "The \"lineno\" lineno lineno lineno() and quickly quickly quickly, called called called.\n"
            "print print print while while while\n")
    assert wordlist.derive(text) == ("holds", "mapping", "values")

"""Every family renders through the real sandbox server, and each caption states only facts
found in the execution trace the sandbox recorded while drawing."""
from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image

from services.evaluation.synth import corpus as plan_of
from services.evaluation.synth import families

from .conftest import COUNT, SEED

QUOTED = re.compile(r"“(.*?)”")
HEX_COLOR = re.compile(r"#[0-9a-f]{6}(?:[0-9a-f]{2})?")
# Numbers the caption builder derives rather than copies: ordinals of figures, axes and grid cells
# ("Axes 2", "rows 1–3") and what is left after a shortened list ("and 3 more").
DERIVED = re.compile(r"\b(?:Figure|Axes|rows?|columns?) \d+(?:–\d+)?|\band \d+ more\b")
# A number standing alone (not the 3 of "3d projection").
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?!\w|\.\d)")


@pytest.fixture(scope="module")
def triplets(corpus):
    """The session corpus's triplets: every family's programs rendered by the real sandbox server."""
    rendered = corpus.rendered
    assert [t.program for t in rendered] == list(plan_of.programs(SEED, families.resolve(None), range(COUNT)))
    return rendered


def trace_facts(trace) -> tuple[set[str], set[str]]:
    """Every string in the trace (whitespace collapsed) and every number, as the caption prints
    numbers (`:g`), including the lengths of its lists (counts of figures, axes, ticks)."""
    strings, numbers = set(), set()

    def walk(node):
        if isinstance(node, bool):
            return
        if isinstance(node, str):
            strings.add(" ".join(node.split()))
        elif isinstance(node, (int, float)):
            numbers.add(f"{node:g}")
        elif isinstance(node, dict):
            for key, value in node.items():
                strings.add(key)
                walk(value)
        elif isinstance(node, list):
            numbers.add(f"{len(node):g}")
            for value in node:
                walk(value)

    walk(trace)
    return strings, numbers


def ungrounded(caption: str, trace: dict) -> list[str]:
    """The caption's quoted strings, colours and numbers that the trace does not hold."""
    strings, numbers = trace_facts(trace)
    missing = [f"string {s!r}" for s in QUOTED.findall(caption) if s not in strings]
    missing += [f"colour {c}" for c in HEX_COLOR.findall(caption) if c not in strings]
    rest = DERIVED.sub(" ", HEX_COLOR.sub(" ", QUOTED.sub(" ", caption)))
    missing += [f"number {n}" for n in NUMBER.findall(rest) if f"{float(n):g}" not in numbers]
    return missing


def test_two_samples_of_every_family_render_one_figure_each(triplets):
    assert sorted({t.program.family for t in triplets}) == sorted(families.FAMILIES)
    for triplet in triplets:
        image = Image.open(io.BytesIO(triplet.image))
        assert image.format == "PNG"
        (figure,) = triplet.trace["figures"]
        assert list(image.size) == list(figure["size_px"]), triplet.program.name
        assert figure["axes"], f"{triplet.program.name} drew no axes"


def test_programs_read_like_code_a_person_wrote(triplets):
    """Named parameters before the drawing, no file output, the figure shown at the end."""
    for triplet in triplets:
        code = triplet.program.code
        compile(code, triplet.program.name, "exec")
        assert "savefig" not in code and "open(" not in code
        assert code.rstrip().endswith("plt.show()"), triplet.program.name
        assignments = re.findall(r"^[a-z_][a-z0-9_, ]* = ", code, flags=re.MULTILINE)
        assert len(assignments) >= 3, f"{triplet.program.name} names too few of its parameters"


def test_samples_of_a_family_differ(triplets):
    by_family: dict[str, set[str]] = {}
    for triplet in triplets:
        by_family.setdefault(triplet.program.family, set()).add(triplet.program.code)
    assert all(len(codes) == 2 for codes in by_family.values()), by_family.keys()


def test_captions_state_only_facts_in_the_trace(triplets):
    for triplet in triplets:
        assert triplet.caption.startswith("1 figure"), triplet.caption
        assert ungrounded(triplet.caption, triplet.trace) == [], (triplet.program.name, triplet.caption)


def test_captions_carry_the_programs_own_texts(triplets):
    """The caption is grounded in what this program drew: its title string is quoted in it."""
    for triplet in triplets:
        titles = [t["text"] for t in triplet.trace["figures"][0]["texts"] if t["role"] == "title"]
        assert titles, triplet.program.name
        assert f"“{' '.join(titles[0].split())}”" in triplet.caption


def test_captions_list_no_tick_labels_of_a_hidden_axis(triplets):
    """Figures whose axes are all hidden (geometry, circuits, nets, number lines, tables) draw no ticks."""
    hidden = [t for t in triplets if all(not ax.get("axis_on", True) and ax.get("kind") != "3d"
                                         for ax in t.trace["figures"][0]["axes"])]
    assert {t.program.family for t in hidden} >= {"plane_geometry", "circuit", "cube_net", "number_line"}
    for triplet in hidden:
        assert "axis lines and ticks hidden" in triplet.caption
        assert "tick labels" not in triplet.caption, (triplet.program.name, triplet.caption)


def test_the_grounding_check_catches_a_fact_not_in_the_trace(triplets):
    triplet = triplets[0]
    assert ungrounded(triplet.caption + " Axes 1: texts “a label never drawn”; draws 987 lines.",
                      triplet.trace) == ["string 'a label never drawn'", "number 987"]
    assert json.dumps(triplet.trace)  # the trace is plain JSON, as the sandbox sent it



def test_a_variant_is_chosen_by_one_draw_against_its_bound():
    import random

    from services.evaluation.synth.families._common import variant

    below = ((0.15, lambda rng: "a"), (0.3, lambda rng: "b"))
    chosen = [variant(random.Random(seed), below, otherwise=lambda rng: "c") for seed in range(2000)]
    for seed, name in enumerate(chosen):  # one draw, compared with the bounds in order
        draw = random.Random(seed).random()
        assert name == ("a" if draw < 0.15 else "b" if draw < 0.3 else "c")
    assert 0.1 < chosen.count("a") / 2000 < 0.2 and 0.1 < chosen.count("b") / 2000 < 0.2
    # the variant writes from the same source, one draw on
    expected = random.Random(7)
    expected.random()
    assert variant(random.Random(7), (), otherwise=lambda rng: rng.random()) == expected.random()

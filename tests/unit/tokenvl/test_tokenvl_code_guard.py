"""The code guard (constrained decoding of an answer's program): what it refuses and accepts, character by
character and token by token, and how the sampler falls back to the next acceptable token."""
from __future__ import annotations

import numpy as np
import pytest

from services.models.tokenvl.triton.code_guard import (
    FENCE_OPEN,
    MIN_RELATION_SUPPORT,
    CodeGuard,
    GuardedSampler,
    GuardRules,
    learn_rules,
)
from services.models.tokenvl.triton.sampling import Sampler, SamplingOptions


def refusal(text: str, free=(), chunk: int = 1, parallel=()) -> int | None:
    """The offset of the first chunk of `text` (after the opening fence) the guard refuses, or None."""
    guard = CodeGuard(free, parallel)
    guard.advance(FENCE_OPEN)
    for start in range(0, len(text), chunk):
        piece = text[start:start + chunk]
        if not guard.accepts(piece):
            return start
        guard.advance(piece)
    return None


PROGRAM = '''import numpy as np
import matplotlib.pyplot as plt

# W/(m·K)
thermal_conductivity = {
    "Copper": [401.0, 390.5],
    "Brass (W/m²)": [109.0, 120],
    'Steel': [50.2, 45.1],
}
names = [f"{name}!" for name in thermal_conductivity]
doc = """a note
over two lines"""
empty = ''
fig, ax = plt.subplots(figsize=(6, 4))
for offset, (name, values) in enumerate(thermal_conductivity.items()):
    ax.bar(np.arange(len(values)) + offset, values, label=name, color="C0" if offset else "C1")
total = sum(v for v in thermal_conductivity["Copper"])
key = sorted(names, key=lambda item: item[1:])
label = r"$\\kappa$ " + str(total) + \\
        "!"
ax.set_title(label)
plt.show()
'''


@pytest.mark.parametrize("chunk", [1, 3, 7])
def test_a_well_formed_program_is_accepted_whatever_the_tokens(chunk):
    # label=, color=, figsize= and key= are keyword arguments; v is read before its `for`
    assert refusal(PROGRAM + "```", free={"label", "color", "figsize", "key", "v"}, chunk=chunk) is None


@pytest.mark.parametrize("line, bad", [
    ("print(len(sound_level))\n", "sound_level"),           # a name never bound
    ("thermal_conductivity2 = thermal_conductivity3\n", "thermal_conductivity3"),
    ("x = [1, 2}\n", "}"),                                 # a bracket closed by the wrong one
    ("x = (1))\n", ")"),                                   # a bracket never opened
    ("title = 'Heat\n", "\n"),                            # a string cut by the end of its line
    ("unit = 'W/m' + ²\n", "²"),                          # beyond ASCII outside a string
    ("day = 05\n", "5"),                                  # a leading zero
    ("x = [1, 2,\n     ,\n", ","),                          # an empty item
    ("n = len(thermal_conductivity) 'kg'\n", "'kg'"),      # an operand after an operand ...
    ("n = thermal_conductivity total\n", "total"),
    ("n = thermal_conductivity[0] 5\n", "5"),
    ("x = [1,  # one\n", "#"),                            # a comment inside brackets
    ("x = [1, \\\n", "\\"),                              # ... or a continuation
    ("x = $AssertionError\n", "$"),                      # never Python outside a string
    ("n = len(thermal_conductivity /)\n", ")"),           # an operator with no operand after it ...
    ("n = 1 +\n", "\n"),
    ("print(thermal_conductivity, label=)\n", ")"),
    ("x = [1,\n\n", "\n\n"),                              # a blank line inside brackets ...
    ("x = [1,\n" + " " * 90 + "2]\n", " " * 10 + "2]"),      # ... or one of more than 80 spaces so far
])
def test_the_errors_that_fail_a_render_are_refused_where_they_start(line, bad):
    program = "thermal_conductivity = [1.0]\n" + line
    offset = refusal(program, free={"label"})
    assert offset is not None
    start = program.index(line) + line.rindex(bad)
    # a name is refused at its first character that begins no allowed name (`so` begins `sorted`)
    assert start <= offset < start + len(bad)
    assert refusal("thermal_conductivity = [1.0]\nprint(len(thermal_conductivity))\n") is None


@pytest.mark.parametrize("program, bad", [
    ("heat = [[1, 2, 3], [4, 5, 6, 7]]\n", "7"),              # a row one value longer than the first
    ("heat = [[1, 2, 3], [4, 5]]\n", "]]"),                   # ... or one shorter
    ("d = {'a': (1, 2), 'b': (3, 4, 5)}\n", "5"),             # a dict's tuples
    ("d = {'a': [1, 2], 'b': [3]}\n", "]}"),                  # a dict's lists
    ("r = [(1, 'x'), (2, 'y', 3)]\n", "3"),                   # records
    ("r = [[1, 2], (3,), [4]]\n", "]]"),                      # lists and tuples each keep their own length
    ("d = {'a': ([1, 2], [3, 4, 5])}\n", "5"),                # x and y of a scatter group, as a tuple
])
def test_records_of_one_collection_that_differ_in_length_are_refused_where_they_do(program, bad):
    assert refusal(program) == program.index(bad)


@pytest.mark.parametrize("program", [
    "heat = [[1, 2, 3],\n        [4, 5, 6,],\n]\n",  # a trailing comma
    "r = [[1, 2], (3,), [4, 5]]\n",
    "import numpy as np\nr = [np.hypot(1, 2), np.hypot(3)]\n",   # calls' arguments are not records
    "x = [1, 2]\nr = [x[0], x[0:1]]\n",                             # nor subscripts
    "import matplotlib.pyplot as plt\nplt.plot([0, 1], [2] * 2)\n",   # nor a call's lists
    "odd = True\nshifts = ([0] if odd else [-1, 1])\n",          # a parenthesised expression: no records
])
def test_records_of_one_shape_calls_and_subscripts_are_accepted(program):
    assert refusal(program) is None


TABLE = (("row_names", "items", "table_values", "items"), ("column_names", "items", "table_values", "rows"))


def parallel_refusal(program: str, parallel=TABLE) -> int | None:
    guard = CodeGuard({"v"}, parallel)  # v: the comprehension variable, read before its `for`
    guard.advance(FENCE_OPEN)
    for offset, char in enumerate(program):
        if not guard.accepts(char):
            return offset
        guard.advance(char)
    return None


@pytest.mark.parametrize("program, bad", [
    # a table with fewer rows than row names, and a row longer than the column names
    ("row_names = ['a', 'b', 'c']\ncolumn_names = ['x', 'y']\ntable_values = [\n    [1, 2],\n    [3, 4],\n]\n",
     "]\n"),
    ("row_names = ['a', 'b']\ncolumn_names = ['x', 'y']\ntable_values = [[1, 2], [3, 4], [5, 6]]\n", "[5"),
    ("row_names = ['a', 'b']\ncolumn_names = ['x', 'y']\ntable_values = [[1, 2, 3], [4, 5]]\n", "3"),
    # a dict display's lists, as a bar chart's values per panel against its categories
    ("column_names = ['x', 'y']\ntable_values = {'p': [1, 2], 'q': [3, 4, 5]}\n", "5"),
])
def test_a_list_parallel_to_an_earlier_one_must_have_its_length(program, bad):
    assert parallel_refusal(program) == program.rindex(bad)


@pytest.mark.parametrize("program", [
    "row_names = ['a', 'b']\ncolumn_names = ['x', 'y', 'z']\ntable_values = [[1, 2, 3], [4, 5, 6]]\n",
    # a list of one item, a list that goes on past its display, a name assigned anew: no length to keep
    "row_names = ['a']\ntable_values = [[1], [2], [3]]\n",
    "row_names = ['a', 'b'] + ['c']\ntable_values = [[1], [2], [3]]\n",
    "row_names = ['a', 'b']  # two\nrow_names = list('abc')\ntable_values = [[1], [2], [3]]\n",
    "row_names == ['a', 'b']\ntable_values = [[1], [2], [3]]\n",
    # a comprehension counts no items; nor does a list of another name, or one inside brackets
    "row_names = ['a', 'b']\ntable_values = [[v] for v in range(3)]\n",
    "row_names = ['a', 'b']\nother = [[1], [2], [3]]\nprint([[1], [2], [3]])\n",
])
def test_parallel_lists_ask_nothing_of_lists_they_do_not_relate(program):
    assert parallel_refusal(program) is None


def test_parallel_lists_are_the_relations_every_program_keeps():
    keep = [f"labels = {['l'] * n}\nsizes = {[1] * n}\ncolors = {['c'] * (n + 1)}\n" for n in range(2, 14)]
    assert learn_rules(keep).parallel == (("labels", "items", "sizes", "items"),)
    broken = keep + ["labels = ['a', 'b']\nsizes = [1, 2, 3]\n"]
    assert learn_rules(broken).parallel == ()
    assert learn_rules(keep[:MIN_RELATION_SUPPORT - 1]).parallel == ()    # too few programs show it


def test_the_closing_fence_waits_for_open_brackets_and_the_stop_token_for_the_fence():
    guard = CodeGuard()
    assert guard.accepts("")                          # prose: the stop token may come
    guard.advance("Here you are:\n" + FENCE_OPEN + "x = [1,\n")
    assert guard.in_code
    assert not guard.accepts("```") and not guard.accepts("")
    guard.advance("2]\n")
    assert guard.accepts("```")
    guard.advance("```")
    assert not guard.in_code and guard.accepts("") and guard.accepts("print(undefined_name)")


def test_a_free_name_marked_as_a_keyword_argument_is_read_only_as_one():
    assert refusal("print(1, label=2)\n", free={"label="}) is None
    program = "print(len(label))\n"
    assert refusal(program, free={"label="}) == program.index("))")
    assert refusal(program, free={"label"}) is None


def test_keywords_may_follow_an_operand_and_strings_a_string():
    assert refusal("import numpy as np\nfrom math import pi\nx = [pi if pi is not None else 0 for _ in 'ab']\n"
                   "ok = x[0] in x and not x or x\ntitle = 'a' f'{pi}' \"c\"\n", free={"_"}) is None


def test_the_names_of_for_def_lambda_import_and_as_are_bound():
    assert refusal("import numpy as np\nfrom math import pi as half_turn\ndef area(r, scale=2):\n"
                   "    return half_turn * r ** scale\nfor i, (a, b) in enumerate([(1, 2)]):\n"
                   "    print(area(a) + np.sqrt(b) + i)\nwith open('f') as handle:\n    handle.read()\n") is None


def test_free_names_are_what_the_programs_read_unbound_and_make_them_all_acceptable():
    programs = ["x, y = [1], [2]\nax.plot(x, y, color='red', linewidth=2)\n",
                "total = sum(v * 2 for v in range(3))\nprint(w)\n"]
    free = set(learn_rules(programs).free_names)
    # keyword arguments, a comprehension's variable, and a name read before any binding; not the targets
    # before "=" nor a statement's first name (`ax`)
    assert free == {"color=", "linewidth=", "v", "w"}
    assert all(refusal(program, free) is None for program in programs)


def test_rules_learnt_from_engine_programs_accept_the_engine_s_held_out_programs():
    """Rules learnt from training programs of the engine (seed 0, as the recipe learns them from its corpus)
    let through held-out programs of another seed, one of each family: the names, and the parallel lists."""
    from services.evaluation.synth import corpus
    from services.evaluation.synth.families import FAMILIES

    families = tuple(FAMILIES)
    rules = learn_rules(corpus.program(0, families, index).code for index in range(20 * len(families)))
    assert 50 < len(rules.free_names) < 400 and {"label=", "color=", "fontsize="} <= set(rules.free_names)
    assert ("row_names", "items", "table_values", "items") in rules.parallel
    for index in range(len(families)):
        program = corpus.program(1, families, index)
        assert refusal(program.code + "```", rules.free_names, chunk=4, parallel=rules.parallel) is None, \
            program.family


def test_a_generation_with_a_code_guard_decodes_under_it():
    """TokenVL's generation loop takes the guard when the model declares names (a scripted decoder whose
    argmax writes a bracket closed by the wrong one): the control writes it, the guarded one does not."""
    from tokenizers import Tokenizer as HFTokenizer

    from services.models.tokenvl.fixtures import train_fixture_tokenizer
    from services.models.tokenvl.tokens import Tokenizer
    from services.models.tokenvl.triton.generation import TokenVLGeneration, TokenVLRequest
    from tests.unit.tokenvl.test_tokenvl_stop_path import ScriptedDecoder

    tokenizer = Tokenizer(HFTokenizer.from_str(train_fixture_tokenizer()))
    script = tokenizer.encode(FENCE_OPEN + "x = (1]\n```") + [tokenizer.im_end_id]

    def answer(**options) -> str:
        generation = TokenVLGeneration(tokenizer, ScriptedDecoder(script, tokenizer.vocab_size), context_length=4096,
                                       max_images=1, max_image_pixels=1 << 20, **options)
        prepared = generation.prepare(TokenVLRequest(prompt="Draw it.", max_tokens=len(script) + 4))
        return "".join(chunk.text for chunk in generation.stream(prepared, None))

    assert "(1]" in answer()
    guarded = answer(code_guard=GuardRules())
    assert guarded.startswith(FENCE_OPEN + "x = (1") and "(1]" not in guarded


# --- the sampler -----------------------------------------------------------------------------------
VOCAB = ["", FENCE_OPEN, "values", " = ", "[1]", "\n", "print(", "sound", ")", "```", "len(", "-"]
STOP, FENCE, VALUES, EQUALS, ONE, NEWLINE, PRINT, SOUND, CLOSE, END, LEN, MINUS = range(len(VOCAB))


def guarded(options: SamplingOptions, prefix=(FENCE, VALUES, EQUALS, ONE, NEWLINE, PRINT)) -> GuardedSampler:
    guard = CodeGuard()
    for token in prefix:
        guard.advance(VOCAB[token])
    return GuardedSampler(Sampler(options), guard, VOCAB)


def logits(**scores) -> np.ndarray:
    values = np.full(len(VOCAB), -10.0)
    for name, score in scores.items():
        values[globals()[name]] = score
    return values


def test_greedy_takes_the_best_token_the_guard_accepts():
    sampler = guarded(SamplingOptions())
    assert sampler(logits(SOUND=5.0, STOP=4.0, VALUES=3.0, LEN=2.0)) == VALUES   # not `sound`, not the stop
    assert sampler.refused == 2
    assert sampler(logits(CLOSE=1.0, END=2.0)) == CLOSE                          # `)` before the fence


def test_sampling_never_draws_a_refused_token_and_is_the_plain_sampler_when_nothing_is_refused():
    options = SamplingOptions(temperature=1.0, top_p=1.0, seed=7)
    scores = logits(SOUND=3.0, VALUES=3.0, LEN=3.0)
    picks = [guarded(SamplingOptions(temperature=1.0, top_p=1.0, seed=seed))(scores) for seed in range(40)]
    assert SOUND not in picks and {VALUES, LEN} <= set(picks)
    allowed = logits(LEN=3.0, MINUS=2.5)       # "len(" and "-" in any order: nothing to refuse
    plain, guard = Sampler(options), guarded(options)
    assert [plain(allowed) for _ in range(30)] == [guard(allowed) for _ in range(30)]
    assert guard.refused == 0


def test_with_nothing_acceptable_the_guard_gives_way():
    texts = ["", FENCE_OPEN, "sound"]     # inside "print(": the stop, the fence and `sound` are all refused
    guard = CodeGuard()
    guard.advance(FENCE_OPEN + "print(")
    sampler = GuardedSampler(Sampler(SamplingOptions()), guard, texts)
    assert sampler(np.array([0.0, 1.0, 2.0])) == 2
    assert sampler.guard is None and sampler.refused == 3   # given way: the rest of the answer is the model's
    assert sampler(np.array([3.0, 1.0, 2.0])) == 0

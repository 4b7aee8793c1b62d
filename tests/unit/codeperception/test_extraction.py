"""Code extraction by the STEM2Code-Eval rule."""
from services.codeperception.extraction import extract_code

PROGRAM = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\n"


def test_the_first_python_block_wins_over_later_ones_and_plain_blocks():
    answer = f"Intro\n```\nplain = 1\n```\n```python\n{PROGRAM}```\n```python\nsecond = 2\n```"
    assert extract_code(answer) == PROGRAM


def test_a_plain_block_is_used_when_there_is_no_python_block():
    assert extract_code(f"```\n{PROGRAM}```") == PROGRAM


def test_only_text_after_think_counts():
    thinking = "<think>\n```python\ndraft = 1\n```\n</think>"
    assert extract_code(f"{thinking}\nFinal:\n```python\n{PROGRAM}```") == PROGRAM
    assert extract_code(f"{thinking}\nI give up.") is None  # the draft inside the thinking is not code


def test_no_block_or_another_language_is_no_code():
    assert extract_code("Just prose, plt.plot([1]).") is None
    assert extract_code('```json\n{"a": 1}\n```') is None
    assert extract_code("```python\n   \n```") is None
    assert extract_code("") is None


def test_language_tag_case_and_indented_fences():
    assert extract_code(f"  ```Python\n{PROGRAM}  ```") == PROGRAM

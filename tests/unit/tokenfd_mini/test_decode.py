"""Word decoding follows the query's tokens along a line (services/models/tokenfd/mini/decode.py)."""
import numpy as np

from services.models.tokenfd.mini.decode import CELL, decode_word, iou


def _maps(*fires):
    maps = np.zeros((len(fires), 128, 128), dtype=np.float32)
    for k, places in enumerate(fires):
        for y, x0, x1 in places:
            maps[k, y:y + 4, x0:x1] = 0.9
    return maps


def test_a_two_token_word_is_found_where_both_tokens_are_side_by_side():
    # token 0 fires at two places, token 1 only next to the second: the word is there
    maps = _maps([(10, 10, 20), (60, 40, 50)], [(60, 51, 58), (100, 100, 110)])
    match = decode_word(maps, 0.5)
    assert match is not None
    assert iou(match.box, (40 * CELL, 60 * CELL, 58 * CELL, 64 * CELL)) > 0.9


def test_no_match_when_a_token_never_fires_or_never_near_the_others():
    assert decode_word(_maps([(10, 10, 20)], []), 0.5) is None
    assert decode_word(_maps([(10, 10, 20)], [(100, 100, 110)]), 0.5) is None

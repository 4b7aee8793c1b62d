"""Matches of a whole query: where its tokens appear together, in order, along a text line.

TokenFD gives one similarity map per token of the query. A user asks for a word or a
phrase, so the useful answer is the places where the query's tokens stand side by side:
token i+1's region lies just right of token i's, on the same line. Each token's regions
are the connected components of its map above the threshold (`maps.components`); a
match chains one region per token and is their union, scored by the mean of their peaks.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .maps import Box

# Two regions are on one line when their vertical extents overlap by at least this share
# of the shorter one (the maps blur a glyph's box by a cell or two, so not all of it).
MIN_LINE_OVERLAP = 0.5
# The next token may start at most this many line heights right of the previous one's
# end: about a space between words, with room for blur; a token on the line's next word
# further on is another match.
MAX_GAP_LINE_HEIGHTS = 1.0
# Regions per token that are chained, best first: bounds the search on a noisy map.
MAX_REGIONS_PER_TOKEN = 64


@dataclass(frozen=True)
class Match:
    x0: float
    y0: float
    x1: float
    y1: float
    score: float               # mean of the chained regions' peak similarities
    tokens: tuple[int, ...]    # the query's token indices, in order


def follows(previous: Box, following: Box) -> bool:
    """Whether `following` continues `previous` along a text line: same line, to its right, close by."""
    overlap = min(previous.y1, following.y1) - max(previous.y0, following.y0)
    shorter = min(previous.y1 - previous.y0, following.y1 - following.y0)
    if shorter <= 0 or overlap < MIN_LINE_OVERLAP * shorter:
        return False
    if (following.x0 + following.x1) <= (previous.x0 + previous.x1):  # centre not to the right
        return False
    line_height = max(previous.y1 - previous.y0, following.y1 - following.y0)
    return following.x0 - previous.x1 <= MAX_GAP_LINE_HEIGHTS * line_height


def query_matches(regions: Sequence[Sequence[Box]], *, max_matches: int) -> list[Match]:
    """The best chains of one region per token, in the query's order, best score first.

    `regions[i]` are token i's regions (image pixels, each scored by its peak). A token
    with no region means no match. Chains share no region: once a chain is taken, the
    weaker ones through any of its regions are dropped.
    """
    if max_matches <= 0 or not regions or any(not token for token in regions):
        return []
    candidates = [sorted(token, key=lambda box: box.score, reverse=True)[:MAX_REGIONS_PER_TOKEN]
                  for token in regions]
    # best[i][k]: the highest score sum of a chain over tokens 0..i ending at region k of
    # token i, and the region of token i-1 it came from (None: no chain reaches k).
    best: list[list[tuple[float, int | None] | None]] = [[(box.score, None) for box in candidates[0]]]
    for index in range(1, len(candidates)):
        row: list[tuple[float, int | None] | None] = []
        for box in candidates[index]:
            reach = [(entry[0] + box.score, k)
                     for k, (entry, previous) in enumerate(zip(best[-1], candidates[index - 1], strict=True))
                     if entry is not None and follows(previous, box)]
            row.append(max(reach) if reach else None)
        best.append(row)

    chains = []
    for last, entry in enumerate(best[-1]):
        if entry is None:
            continue
        path, k = [last], last
        for index in range(len(candidates) - 1, 0, -1):
            k = best[index][k][1]
            path.append(k)
        path.reverse()
        chains.append((entry[0] / len(candidates), path))
    chains.sort(key=lambda chain: chain[0], reverse=True)

    used: set[tuple[int, int]] = set()
    matches = []
    for score, path in chains:
        members = {(index, k) for index, k in enumerate(path)}
        if members & used:
            continue
        used |= members
        boxes = [candidates[index][k] for index, k in enumerate(path)]
        matches.append(Match(x0=min(b.x0 for b in boxes), y0=min(b.y0 for b in boxes),
                             x1=max(b.x1 for b in boxes), y1=max(b.y1 for b in boxes),
                             score=float(score), tokens=tuple(range(len(path)))))
        if len(matches) == max_matches:
            break
    return matches

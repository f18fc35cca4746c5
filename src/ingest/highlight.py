"""Where a query's terms occur in a text, and the passage to show around them (pure).

Done here rather than by the database (FTS5 `snippet`, `ts_headline`) so both engines give the
same passage, and so a hit carries match *spans* (character offsets) instead of markers that
archived text could contain itself: a table styles the spans, JSON hands them on as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.store.query import Query, Term, fold

SNIPPET_CHARS = 200  # about 30 words, or 200 Chinese characters
_GAP = r"[\W_]+"  # what separates two words (store/query.py: words are runs of [^\W_])
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![^\W_])", r"(?![^\W_])"

Span = tuple[int, int]  # [start, end) in Unicode code points of the string it belongs to


@dataclass(frozen=True, slots=True)
class Passage:
    text: str
    spans: tuple[Span, ...]


def find(text: str, query: Query) -> list[Span]:
    """Every occurrence of the query's terms (not the excluded ones) in `text`, in order."""
    folded, origin = _folded(text)
    spans: set[Span] = set()
    for term in query.terms():
        if term.substring is not None:
            spans.update(_substrings(folded, term.substring))
        else:
            spans.update(m.span() for m in _phrase(term).finditer(folded))
    if origin is not None:  # back to the offsets of `text`
        spans = {(origin[a], origin[b - 1] + 1) for a, b in spans}
    return _merge(sorted(spans))


def _folded(text: str) -> tuple[str, list[int] | None]:
    """`text` folded, with each folded character's offset in `text` when folding changed the
    length (ß, ligatures, lone accents); None when offsets are the same (nearly always)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None
    pieces, origin = [], []
    for index, char in enumerate(text):
        piece = fold(char)
        pieces.append(piece)
        origin.extend([index] * len(piece))
    return "".join(pieces), origin


def passage(text: str, query: Query, *, width: int = SNIPPET_CHARS) -> Passage:
    """The `width` characters of `text` holding the most matches (its opening when none), cut
    at spaces where possible, with "…" where text was left out; spans relative to the passage."""
    spans = find(text, query)
    start = _best_start(spans, width)
    start = max(0, start - width // 4) if spans else 0
    if start > 0:
        space = text.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", end - 20, end)
        end = space if space > start else end
    lead = "…" if start > 0 else ""
    shown = lead + text[start:end].strip("\n") + ("…" if end < len(text) else "")
    offset = len(lead) - start
    inside = tuple(
        (max(a, start) + offset, min(b, end) + offset) for a, b in spans if a < end and b > start
    )
    return Passage(shown, inside)


def _best_start(spans: list[Span], width: int) -> int:
    """Start of the match whose window of `width` characters covers the most matches."""
    best, count, j = 0, 0, 0
    for i, (start, _) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] <= start + width:
            j += 1
        if j - i + 1 > count:
            best, count = start, j - i + 1
    return best


@lru_cache(maxsize=256)
def _phrase(term: Term) -> re.Pattern[str]:
    """The term's words as whole words of a folded text, one after the other (anything but
    letters and digits between them); the last one may be a prefix. Scanning with it is what
    splitting the text into words and comparing them did, at the regex engine's speed."""
    words = _GAP.join(re.escape(word) for word in term.words)
    return re.compile(_EDGE_BEFORE + words + ("[^\\W_]*" if term.prefix else "") + _EDGE_AFTER)


def _substrings(haystack: str, needle: str) -> list[Span]:
    found, at = [], haystack.find(needle)
    while at != -1:
        found.append((at, at + len(needle)))
        at = haystack.find(needle, at + len(needle))
    return found


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

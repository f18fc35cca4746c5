"""Search snippets as (matched, text) runs, so a page can mark matches with <mark> while every
character of the archived text stays escaped."""

from __future__ import annotations

from collections.abc import Sequence


def highlight(snippet: str, spans: Sequence[Sequence[int]]) -> list[tuple[bool, str]]:
    """Split a snippet into runs at its match spans ([start, end) offsets, as a search hit
    gives them: no markers in the text, so brackets in archived text stay text)."""
    runs: list[tuple[bool, str]] = []
    at = 0
    for start, end in spans:
        if start > at:
            runs.append((False, snippet[at:start]))
        runs.append((True, snippet[start:end]))
        at = end
    if at < len(snippet):
        runs.append((False, snippet[at:]))
    return runs

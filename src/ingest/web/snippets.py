"""Search snippets as (matched, text) runs, so a page can mark matches with <mark> while every
character of the archived text stays escaped."""

from __future__ import annotations

OPEN, CLOSE = "[", "]"


def highlight(snippet: str) -> list[tuple[bool, str]]:
    """Split a snippet whose matches are wrapped in [ and ] into runs; brackets that do not
    pair up are kept as text."""
    runs: list[tuple[bool, str]] = []
    rest = snippet
    while rest:
        start = rest.find(OPEN)
        end = rest.find(CLOSE, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            runs.append((False, rest))
            break
        if start:
            runs.append((False, rest[:start]))
        runs.append((True, rest[start + 1 : end]))
        rest = rest[end + 1 :]
    return runs

"""Fixture files with the `{base}` placeholder filled in, and the seed article split up.

Fixtures are served by loopback servers on random ports elsewhere, so they hold `{base}` where a
real site has its origin. The substitution is done on bytes: the placeholder and any loopback
origin are ASCII, so this is right for UTF-8 and windows-1252 files alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
PLACEHOLDER = b"{base}"
SEED = "sensetime-singapore.txt"
CROSSLINK_PREFIX = "SEE ALSO:"


def load_fixture(name: str, base: str) -> bytes:
    """The bytes of `tests/fixtures/<name>` with `{base}` replaced by `base` (no trailing /)."""
    return (FIXTURES / name).read_bytes().replace(PLACEHOLDER, base.rstrip("/").encode("ascii"))


@dataclass(frozen=True)
class SeedArticle:
    """The seed article as a reader sees it: headline, body paragraphs, the cross-link line."""

    headline: str
    paragraphs: tuple[str, ...]
    crosslink: str


def seed_article() -> SeedArticle:
    """Split the seed text: line 1 is the headline, the SEE ALSO line is page furniture."""
    lines = [line for line in (FIXTURES / SEED).read_text(encoding="utf-8").splitlines() if line]
    body = lines[1:]
    crosslinks = [line for line in body if line.startswith(CROSSLINK_PREFIX)]
    assert len(crosslinks) == 1, "the seed has exactly one cross-link line"
    return SeedArticle(
        headline=lines[0],
        paragraphs=tuple(line for line in body if line not in crosslinks),
        crosslink=crosslinks[0],
    )

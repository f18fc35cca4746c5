"""Near-duplicate lookup in the archive: fingerprint columns and the band-index candidate query."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ingest.dedupe import (
    TextPrint,
    Thresholds,
    bands,
    near_duplicate,
    similarity,
    text_print,
)
from ingest.store.models import Article

BAND_COLUMNS = (Article.band0, Article.band1, Article.band2, Article.band3)


@dataclass(frozen=True, slots=True)
class Match:
    """The article a text is a near-duplicate of (the original of its group), and how close."""

    article_id: int
    similarity: float


def fingerprint_columns(text: str) -> dict[str, int]:
    """The `simhash` and `band0..3` values of an article whose text is `text`."""
    simhash = text_print(text).simhash
    return {"simhash": simhash} | {
        column.key: band for column, band in zip(BAND_COLUMNS, bands(simhash), strict=True)
    }


def find_near_duplicate(
    conn: sa.Connection, article_id: int, text: str, thresholds: Thresholds
) -> Match | None:
    """The original that `text` (of article `article_id`) is a near-duplicate of, if any.

    Candidates share a band with the text's fingerprint (index lookups only) and are within the
    threshold. `duplicate_of` always points at a group's original (the earliest article), so
    groups stay one level deep. When the text is close to members of several groups, it bridges
    them: they are one story, and the later groups are re-pointed at the earliest original.
    """
    mine = text_print(text)
    if mine.words < thresholds.min_words:
        return None
    candidates = conn.execute(
        sa.select(Article.id, Article.simhash, Article.word_count, Article.duplicate_of).where(
            sa.or_(*(c == b for c, b in zip(BAND_COLUMNS, bands(mine.simhash), strict=True))),
            Article.id != article_id,
        )
    ).all()
    originals = {
        row.duplicate_of or row.id
        for row in candidates
        if near_duplicate(mine, TextPrint(row.simhash, row.word_count), thresholds) is not None
    }
    originals.discard(article_id)
    if not originals:
        return None
    original, *others = sorted(originals)
    if others:
        _regroup(conn, original, others)
    simhash = conn.execute(sa.select(Article.simhash).where(Article.id == original)).scalar_one()
    return Match(original, similarity(mine.simhash, simhash))


def _regroup(conn: sa.Connection, original: int, others: list[int]) -> None:
    """Point the members of the groups of `others` (and those originals) at `original`."""
    simhash = conn.execute(sa.select(Article.simhash).where(Article.id == original)).scalar_one()
    members = conn.execute(
        sa.select(Article.id, Article.simhash).where(
            sa.or_(Article.id.in_(others), Article.duplicate_of.in_(others))
        )
    ).all()
    for member in members:
        conn.execute(
            sa.update(Article)
            .where(Article.id == member.id)
            .values(duplicate_of=original, similarity=similarity(simhash, member.simhash))
        )

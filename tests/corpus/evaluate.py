"""Run the labelled corpus through the archive's real write path and score the grouping.

Each document goes in as the pipeline would put it: a feed item (`entries.record`), then, for a
page, what was extracted from it (`save_page`), into a real SQLite archive. The predicted group
of a document is the original its article points to (`duplicate_of`), or that article itself.
Scores are pairwise: precision = share of predicted same-story pairs that are truly the same
story, recall = share of truly same-story pairs that were grouped.

`python -m tests.corpus.evaluate` prints precision and recall for a range of thresholds.
"""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa

from ingest.dedupe import Thresholds
from ingest.records import Extracted, FetchResult, ParsedEntry
from ingest.store import articles, entries, feeds
from ingest.store.engine import open_archive
from ingest.store.models import Article, Entry
from ingest.update.prepare import page_text
from tests.corpus.generate import Document, load


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    pairs: int  # truly same-story pairs


def predict(documents: list[Document], thresholds: Thresholds, db: Path) -> dict[str, int]:
    """Document id → predicted group (an article id)."""
    engine = open_archive(f"sqlite:///{db}")
    try:
        for doc in documents:
            host = urlsplit(doc.url).netloc
            feed_id, _ = feeds.add_feed(engine, f"https://{host}/{doc.kind}.xml")
            entry = ParsedEntry(guid=doc.id, link=doc.url, title=doc.title, summary=doc.title)
            with engine.begin() as conn:
                outcome = entries.record(
                    conn, feed_id, [entry], fulltext=True, thresholds=thresholds
                )
            if doc.via != "page":
                continue
            for article_id in outcome.pending:
                page = FetchResult(doc.url, doc.url, 200, {}, body=doc.text.encode())
                extracted = Extracted(text=doc.text, title=doc.title, canonical_url=doc.canonical)
                articles.save_page(
                    engine, article_id, page, page_text(extracted), None, thresholds=thresholds
                )
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(Entry.guid, sa.func.coalesce(Article.duplicate_of, Article.id)).join(
                    Article, Article.id == Entry.article_id
                )
            ).all()
    finally:
        engine.dispose()
    return {guid: group for guid, group in rows}


def score(documents: list[Document], predicted: dict[str, int]) -> Scores:
    true_positive = false_positive = false_negative = 0
    for a, b in itertools.combinations(documents, 2):
        same_story = a.group == b.group
        grouped = predicted[a.id] == predicted[b.id]
        true_positive += same_story and grouped
        false_positive += grouped and not same_story
        false_negative += same_story and not grouped
    return Scores(
        true_positive / ((true_positive + false_positive) or 1),
        true_positive / ((true_positive + false_negative) or 1),
        true_positive + false_negative,
    )


def evaluate(thresholds: Thresholds, documents: list[Document] | None = None) -> Scores:
    documents = documents or load()
    with tempfile.TemporaryDirectory() as tmp:
        return score(documents, predict(documents, thresholds, Path(tmp) / "corpus.db"))


if __name__ == "__main__":
    from tests.corpus import newsroom

    corpora = {"newsroom": newsroom.build(), "seed stories": load()}
    print("pairwise scores of the duplicate grouping (precision / recall)")
    print("min_words similarity " + " ".join(f"{name:>16}" for name in corpora))
    grid = [(100, s) for s in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)] + [(50, 0.6), (150, 0.6)]
    for min_words, min_similarity in grid:
        cells = []
        for docs in corpora.values():
            result = evaluate(Thresholds(min_similarity, min_words), docs)
            cells.append(f"{result.precision:.3f} / {result.recall:.3f}".rjust(16))
        print(f"{min_words:9} {min_similarity:10} " + " ".join(cells), flush=True)

"""Search latency at scale: one-word queries with filters, and the worst queries we know of.

Builds a synthetic archive quickly (SQLAlchemy Core executemany into the migrated schema; on
SQLite the search indexes are then built in one pass, see `fill`): articles of ~200 words
drawn from a Zipf-like vocabulary (a few words in most articles, most words rare, as in news
text), over 20 feeds, 5 languages, three years of dates, 5% near-duplicates. Then times
`store.search.search`, the function the CLI and the API call, snippets and highlights included:

- one-word queries, the words drawn by frequency (what people type is mostly common words),
  each with one filter (none, a feed, --since 30d, --lang, a site) and duplicates hidden;
- the worst cases: the commonest words, prefixes, many ORs, CJK substrings, the query that
  once ran for 10 minutes (`zeta* eta* theta*`). Each must end within the time limit.

    python benchmarks/search.py                       # 100k, then 1M (SQLite)
    python benchmarks/search.py --sizes 100000 --postgres
    python benchmarks/search.py --db /tmp/bench.db     # keep the archive: later runs reuse it
    python benchmarks/search.py --save benchmarks/results/search.json
    python benchmarks/search.py --compare benchmarks/results/search.json
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ingest.errors import QueryTooCostly, UsageError
from ingest.store.engine import open_archive
from ingest.store.filters import ArticleFilter
from ingest.store.models import Article, Entry, Feed
from ingest.store.search import search

SIZES = (100_000, 1_000_000)
VOCABULARY = 50_000
WORDS_PER_ARTICLE = 200
FEEDS = 20
LANGS = ("en", "de", "fr", "es", "zh")
QUERIES = 300
POOL = 20_000
STOPWORDS = 100  # the commonest words stand for "the", "and": timed as worst cases, not here
BATCH = 10_000
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CJK = "滨江公园散步今天我们去了很大东京新しい開きました市场经济发展"

WORST = [
    "zeta* eta* theta*",
    "w0",  # the commonest word: in nearly every article
    "w0 w1 w2",
    "w0 OR w1 OR w2 OR w3 OR w4 OR w5 OR w6 OR w7 OR w8 OR w9 OR w10 OR w11",
    '"w0 w1"',
    "w1* w2* w3*",
    "w0 -w1",
    "公园",  # shorter than a trigram: a scan
    "滨江公园",
]


def _word(rank: int) -> str:
    # w0 is the commonest; some words share a prefix (`zeta`, `theta`, ...) for prefix queries
    return ("zeta", "eta", "theta")[rank % 3] + str(rank) if rank % 97 == 5 else f"w{rank}"


class Corpus:
    """Zipf(1.0) word draws. A text is two halves picked from a pool of drawn halves (400M
    combinations) plus a few fresh words: drawing 200 words per article was most of the
    time it took to build 1M articles."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = [_word(rank) for rank in range(VOCABULARY)]
        self.cumulative = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))
        half = WORDS_PER_ARTICLE // 2 - 5
        self.halves = [" ".join(self.draw(half)) for _ in range(POOL)]

    def draw(self, count: int) -> list[str]:
        total = self.cumulative[-1]
        return [
            self.words[bisect.bisect(self.cumulative, self.rng.random() * total)]
            for _ in range(count)
        ]

    def text(self, lang: str) -> str:
        first, second = self.rng.choice(self.halves), self.rng.choice(self.halves)
        middle = " ".join(self.draw(10))
        if lang == "zh":  # running text without spaces in the middle of the article
            cut = self.rng.randrange(len(CJK) - 8)
            middle += " " + CJK[cut : cut + 8] + "。"
        return f"{first} {middle} {second}"


# The search indexes' insert triggers (migrations 0002, 0006): set aside while a SQLite archive
# is filled, the indexes then built in one pass (FTS5 'rebuild'), the triggers put back as they
# were. Per-row triggers (tokenizing, and a GLOB over every text for the substring index) made
# filling 1M articles take over half an hour on 2 cores.
BULK_TRIGGERS = ("article_fts_insert", "article_cjk_insert")


def fill(engine: sa.Engine, start: int, stop: int, corpus: Corpus) -> None:
    """Articles `start`..`stop` (and one entry each) in Core executemany batches."""
    if start >= stop:
        return
    if engine.dialect.name != "sqlite":
        _insert(engine, start, stop, corpus)
        return
    names = ", ".join(f"'{name}'" for name in BULK_TRIGGERS)
    with engine.begin() as conn:
        triggers = conn.exec_driver_sql(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({names})"
        ).all()
        assert len(triggers) == len(BULK_TRIGGERS), triggers
        for name, _ in triggers:
            conn.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        _insert(engine, start, stop, corpus)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO article_fts(article_fts) VALUES ('rebuild')")
            conn.exec_driver_sql(  # only the Chinese articles hold unspaced text (Corpus.text)
                "INSERT INTO article_cjk(rowid, title, text) SELECT id, title, text FROM article"
                f" WHERE id > {start} AND language = 'zh'"
            )
            for _, sql in triggers:
                conn.exec_driver_sql(sql)


def _insert(engine: sa.Engine, start: int, stop: int, corpus: Corpus) -> None:
    rng = corpus.rng
    with engine.begin() as conn:
        if start == 0:
            conn.execute(
                sa.insert(Feed), [{"url": f"https://f{i}.example/feed"} for i in range(FEEDS)]
            )
        feeds = conn.execute(sa.select(Feed.id).order_by(Feed.id)).scalars().all()
    for first in range(start, stop, BATCH):
        articles, entries = [], []
        for i in range(first, min(stop, first + BATCH)):
            lang = LANGS[i % len(LANGS)]
            site = i % FEEDS
            title = " ".join(corpus.draw(6))
            articles.append(
                {
                    "id": i + 1,
                    "url": f"https://site{site}.example/{i}",
                    "canonical_url": f"https://site{site}.example/{i}",
                    "title": title,
                    "text": corpus.text(lang),
                    "word_count": WORDS_PER_ARTICLE,
                    "language": lang,
                    "published": NOW - timedelta(minutes=rng.randrange(3 * 365 * 24 * 60)),
                    "duplicate_of": i if i > 0 and rng.random() < 0.05 else None,  # of the previous
                    "extraction": "feed",
                    "categories": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            entries.append(
                {
                    "feed_id": feeds[site],
                    "key": f"k{i}",
                    "article_id": i + 1,
                    "history": [],
                    "categories": [],
                    "enclosures": [],
                    "first_seen": NOW,
                    "last_seen": NOW,
                }
            )
        with engine.begin() as conn:
            conn.execute(sa.insert(Article), articles)
            conn.execute(sa.insert(Entry), entries)


def filters(engine: sa.Engine, rng: random.Random) -> list[tuple[str, ArticleFilter]]:
    with engine.connect() as conn:
        feeds = conn.execute(sa.select(Feed.id)).scalars().all()
    return [
        ("none", ArticleFilter()),
        ("feed", ArticleFilter(feed_ids=(rng.choice(feeds),))),
        ("since 30d", ArticleFilter(since=NOW - timedelta(days=30))),
        ("lang", ArticleFilter(lang="de")),
        ("site", ArticleFilter(site="site3.example")),
    ]


def timed(engine: sa.Engine, query: str, keep: ArticleFilter) -> tuple[float, int, str]:
    started = time.perf_counter()
    try:
        found = len(search(engine, query, limit=20, keep=keep))
        outcome = "ok"
    except QueryTooCostly:
        found, outcome = 0, "stopped"  # at the time limit
    except UsageError:
        found, outcome = 0, "refused"  # by the parser (too short a prefix, too many terms)
    return (time.perf_counter() - started) * 1000, found, outcome


def _stats(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "max_ms": round(times[-1], 2),
    }


def one_word(engine: sa.Engine, corpus: Corpus) -> dict[str, Any]:
    """All queries together, then `by_filter`: the same figures for each filter's share."""
    rng = corpus.rng
    cases = filters(engine, rng)
    words = [w for w in corpus.draw(QUERIES * 3) if int(w.lstrip("zethaw")) >= STOPWORDS][:QUERIES]
    for word in words[:5]:  # warm the page cache
        timed(engine, word, ArticleFilter())
    times = [timed(engine, word, cases[i % len(cases)][1])[0] for i, word in enumerate(words)]
    by_filter = {name: _stats(times[i :: len(cases)]) for i, (name, _) in enumerate(cases)}
    return {**_stats(times), "by_filter": by_filter}


def worst(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    found = {}
    for query in WORST:
        ms, hits, outcome = timed(engine, query, ArticleFilter())
        found[query] = {"ms": round(ms, 1), "hits": hits, "outcome": outcome}
    return found


@contextmanager
def archive(postgres: bool, keep: Path | None) -> Iterator[sa.Engine]:
    if postgres:
        from tests.postgres import create_database, running_server

        with running_server() as server:
            engine = open_archive(create_database(server, "bench"))
            yield engine
            engine.dispose()
        return
    if keep is not None:  # built once, grown and reused by later runs
        engine = open_archive(f"sqlite:///{keep}")
        yield engine
        engine.dispose()
        return
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_archive(f"sqlite:///{Path(tmp) / 'bench.db'}")
        yield engine
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    parser.add_argument("--db", type=Path, help="keep the SQLite archive here (reused if there)")
    parser.add_argument("--save", type=Path, help="write the results to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare with an earlier JSON result")
    args = parser.parse_args()
    earlier = json.loads(args.compare.read_text()) if args.compare else {}
    results: dict[str, Any] = {"engine": "postgresql" if args.postgres else "sqlite"}
    corpus = Corpus(random.Random(1))
    with archive(args.postgres, args.db) as engine:
        with engine.connect() as conn:
            size = conn.execute(sa.select(sa.func.count()).select_from(Article)).scalar() or 0
        for target in sorted(args.sizes):
            started = time.perf_counter()
            fill(engine, size, target, corpus)
            if args.postgres:
                with engine.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            size = target
            built = time.perf_counter() - started
            stats = one_word(engine, corpus)
            was = earlier.get(str(size), {}).get("one_word")
            print(
                f"{size:>9,} articles (filled in {built:.0f} s): one word + filter: "
                f"p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms, max {stats['max_ms']} ms"
                + (
                    f"  (was p50 {was['p50_ms']}, p95 {was['p95_ms']}, max {was['max_ms']})"
                    if was
                    else ""
                ),
                flush=True,
            )
            for name, got in stats["by_filter"].items():
                print(
                    f"    {name:<10} p50 {got['p50_ms']:>7} ms, p95 {got['p95_ms']:>7} ms, "
                    f"max {got['max_ms']:>7} ms"
                )
            hard = worst(engine)
            results[str(size)] = {"one_word": stats, "worst": hard, "fill_s": round(built, 1)}
            for query, got in hard.items():
                print(
                    f"    {got['ms']:>8.1f} ms  {got['hits']:>3} hits  {got['outcome']:<8} {query}"
                )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

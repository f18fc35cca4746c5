"""Near-duplicate benchmark: lookup + verification per article as the archive grows to 1M.

Into a real SQLite archive (the migrated schema, the LSH key index included) go first 300
articles with real texts and their real index keys, then synthetic articles with random keys
(unrelated texts: they share a key with nothing) up to each size, bulk-inserted with
SQLAlchemy Core. Each timed step is what the pipeline does for a new text
(`store.similar.link_article`): its shingles and MinHash keys, the index query, loading the
candidate originals and verifying the text against them; every lookup text is a light edit of
one of the 300, so every step verifies one candidate. Prints ms per article (elapsed and CPU)
at each size and the ratio of CPU time to the first size's; a flat ratio means candidates come
from the index, not a scan.

    python benchmarks/dedupe.py                      # 1k, 10k, 100k, 1M
    python benchmarks/dedupe.py --max 100000 --save benchmarks/results/dedupe.json
    python benchmarks/dedupe.py --compare benchmarks/results/dedupe.json
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ingest.dedupe import BANDS, Thresholds, band_keys, features
from ingest.store.engine import open_archive
from ingest.store.models import Article, ArticleBand, utcnow
from ingest.store.similar import index_text, link_article

SIZES = (1_000, 10_000, 100_000, 1_000_000)
LOOKUPS = 300
BATCH = 20_000
VOCABULARY = 5_000


def text(rng: random.Random) -> str:
    return " ".join(f"w{rng.randrange(VOCABULARY)}" for _ in range(300))


def edited(original: str, rng: random.Random) -> str:
    words = original.split()
    for _ in range(5):
        words[rng.randrange(len(words))] = f"edit{rng.randrange(100)}"
    return " ".join(words)


def article_row(i: int, body: str, now: Any) -> dict[str, Any]:
    return {
        "canonical_url": f"https://bench.example/{i}",
        "text": body,
        "word_count": len(body.split()),
        "extraction": "full",
        "created_at": now,
        "updated_at": now,
        "categories": [],
    }


def seed(engine: sa.Engine, originals: list[str]) -> None:
    """The articles the lookups find: real texts with their real keys."""
    now = utcnow()
    with engine.begin() as conn:
        for i, body in enumerate(originals):
            article_id = conn.execute(
                sa.insert(Article).values(**article_row(i, body, now)).returning(Article.id)
            ).scalar_one()
            index_text(conn, article_id, band_keys(features(body)))


def fill(engine: sa.Engine, start: int, stop: int, rng: random.Random) -> None:
    """Articles `start`..`stop` with random index keys, in Core batches."""
    now = utcnow()
    for first in range(start, stop, BATCH):
        count = min(stop, first + BATCH) - first
        with engine.begin() as conn:
            ids = (
                conn.execute(
                    sa.insert(Article).returning(Article.id),
                    [article_row(i, "", now) for i in range(first, first + count)],
                )
                .scalars()
                .all()
            )
            conn.execute(
                sa.insert(ArticleBand),
                [
                    {"article_id": article_id, "band": band, "key": rng.getrandbits(64) - 2**63}
                    for article_id in ids
                    for band in range(BANDS)
                ],
            )


def time_lookups(engine: sa.Engine, texts: list[str]) -> tuple[float, float]:
    """Mean ms per article of the pipeline's near-duplicate step (rolled back: no writes),
    elapsed and CPU (this process: SQLite runs in it; CPU time is what other jobs on a shared
    machine disturb least)."""
    thresholds = Thresholds()
    verified = 0
    with engine.connect() as conn:
        started, cpu = time.perf_counter(), time.process_time()
        for body in texts:
            mine = features(body)
            grouping = link_article(conn, 0, mine, band_keys(mine), thresholds)
            verified += grouping.original is not None
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        conn.rollback()
    assert verified == len(texts), f"only {verified} of {len(texts)} copies found"
    return elapsed / len(texts) * 1000, cpu / len(texts) * 1000


def query_plan(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT DISTINCT coalesce(a.duplicate_of, a.id) FROM article a "
            "JOIN article_band b ON b.article_id = a.id WHERE b.key IN (1, 2) AND b.article_id != 0"
        ).all()
        conn.rollback()
    return [row[-1] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=SIZES[-1], help="stop after this size")
    parser.add_argument("--save", type=Path, help="write the results to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare with an earlier JSON result")
    args = parser.parse_args()
    rng = random.Random(1)
    originals = [text(rng) for _ in range(LOOKUPS)]
    lookups = [edited(body, rng) for body in originals]
    results: dict[str, Any] = {"lookups": LOOKUPS, "ms_per_article": {}, "cpu_ms_per_article": {}}
    earlier = json.loads(args.compare.read_text()) if args.compare else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_archive(f"sqlite:///{Path(tmp) / 'bench.db'}")
        print("plan:", "; ".join(query_plan(engine)))
        seed(engine, originals)
        size = LOOKUPS
        base: float | None = None
        for target in (s for s in SIZES if s <= args.max):
            fill(engine, size, target, rng)
            size = target
            ms, cpu = time_lookups(engine, lookups)
            base = base or cpu
            results["ms_per_article"][str(size)] = round(ms, 4)
            results["cpu_ms_per_article"][str(size)] = round(cpu, 4)
            line = (
                f"{size:>9,} articles: {ms:.3f} ms/article, {cpu:.3f} ms CPU "
                f"({cpu / base:.2f}x the first size)"
            )
            if earlier and str(size) in earlier.get("ms_per_article", {}):
                line += f"  was {earlier['ms_per_article'][str(size)]:.3f}"
            print(line, flush=True)
        engine.dispose()
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

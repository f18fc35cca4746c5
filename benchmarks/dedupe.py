"""Near-duplicate lookup benchmark: time per lookup as the archive grows from 1k to 1M articles.

Synthetic fingerprints are bulk-inserted with SQLAlchemy Core into a real SQLite archive (the
migrated schema, band indexes included); each lookup is the pipeline's own query
(`store.similar.find_near_duplicate`). Prints ms per lookup at each size and the ratio to the
first size; a flat ratio means candidates come from the index, not a scan.

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

from ingest.dedupe import Thresholds, bands, to_signed
from ingest.store.engine import open_archive
from ingest.store.models import Article, utcnow
from ingest.store.similar import find_near_duplicate

SIZES = (1_000, 10_000, 100_000, 1_000_000)
LOOKUPS = 300
BATCH = 20_000
WORDS = " ".join(f"word{i}" for i in range(300))  # a text long enough to be looked up


def fill(engine: sa.Engine, start: int, stop: int, rng: random.Random) -> None:
    """Articles `start`..`stop` with random fingerprints, in Core batches."""
    now = utcnow()
    for first in range(start, stop, BATCH):
        rows = []
        for i in range(first, min(stop, first + BATCH)):
            simhash = to_signed(rng.getrandbits(64))
            b = bands(simhash)
            rows.append(
                {
                    "canonical_url": f"https://bench.example/{i}",
                    "text": "",
                    "word_count": 300,
                    "extraction": "full",
                    "simhash": simhash,
                    "band0": b[0],
                    "band1": b[1],
                    "band2": b[2],
                    "band3": b[3],
                    "created_at": now,
                    "updated_at": now,
                    "categories": [],
                }
            )
        with engine.begin() as conn:
            conn.execute(sa.insert(Article), rows)


def time_lookups(engine: sa.Engine, rng: random.Random) -> float:
    """Mean ms per lookup of a text (the fingerprint query on one connection)."""
    texts = [WORDS + f" unique{rng.getrandbits(32)}" for _ in range(LOOKUPS)]
    thresholds = Thresholds()
    with engine.connect() as conn:
        started = time.perf_counter()
        for text in texts:
            find_near_duplicate(conn, 0, text, thresholds)
        elapsed = time.perf_counter() - started
        conn.rollback()
    return elapsed / LOOKUPS * 1000


def query_plan(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM article WHERE band0 = 1 OR band1 = 2 "
            "OR band2 = 3 OR band3 = 4"
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
    results: dict[str, Any] = {"lookups": LOOKUPS, "ms_per_lookup": {}}
    earlier = json.loads(args.compare.read_text()) if args.compare else None
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_archive(f"sqlite:///{Path(tmp) / 'bench.db'}")
        print("plan:", "; ".join(query_plan(engine)))
        size = 0
        base: float | None = None
        for target in (s for s in SIZES if s <= args.max):
            fill(engine, size, target, rng)
            size = target
            ms = time_lookups(engine, rng)
            base = base or ms
            results["ms_per_lookup"][str(size)] = round(ms, 4)
            line = f"{size:>9,} articles: {ms:.3f} ms/lookup  ({ms / base:.2f}x the first size)"
            if earlier and str(size) in earlier["ms_per_lookup"]:
                line += f"  was {earlier['ms_per_lookup'][str(size)]:.3f}"
            print(line, flush=True)
        engine.dispose()
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Growth benchmark: recording one big feed, and the per-entry write cost as the archive grows.

- one link-less feed of N items (2,000 / 8,000 / 50,000 by default) recorded into an empty
  archive: the item preparation (done by a worker process in a real run) and the write (load →
  decide → apply, one transaction) are timed apart; the write should grow linearly;
- the per-entry cost of recording a 20-item feed into an archive already holding 1k and then
  100k articles (the ratio is the goal: within 1.5x).

    python benchmarks/growth.py
    python benchmarks/growth.py --sizes 2000 8000 --save benchmarks/results/growth.json

Everything runs in this process on a temporary SQLite file; no network.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.dedupe import Thresholds
from ingest.records import ParsedEntry
from ingest.store import entries, feeds
from ingest.store.engine import open_archive
from ingest.update.prepare import prepare_entries

START = datetime(2024, 1, 1, tzinfo=UTC)


def items(prefix: str, count: int, *, links: bool) -> tuple[ParsedEntry, ...]:
    return tuple(
        ParsedEntry(
            guid=f"{prefix}-{i}",
            link=f"http://example.org/{prefix}/{i}" if links else None,
            title=f"Item {i} of {prefix}",
            summary=f"<p>Text of item {i} of {prefix}: the council met and voted on plan {i}.</p>",
            published=START + timedelta(minutes=i),
        )
        for i in range(count)
    )


def big_feed(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_archive(f"sqlite:///{tmp}/growth.db")
        feed_id, _ = feeds.add_feed(engine, "http://example.org/big.xml")
        started = time.perf_counter()
        prepared, _ = prepare_entries(items("big", size, links=False), Thresholds().min_words)
        prepare_s = time.perf_counter() - started
        started = time.perf_counter()
        with engine.begin() as conn:
            outcome = entries.record(conn, feed_id, prepared, fulltext=False)
        write_s = time.perf_counter() - started
        assert outcome.new == size, outcome
        started = time.perf_counter()
        with engine.begin() as conn:
            again = entries.record(conn, feed_id, prepared, fulltext=False)
        unchanged_s = time.perf_counter() - started
        assert again.new == 0 and again.updated == 0
        engine.dispose()
    return {
        "items": size,
        "prepare_s": prepare_s,
        "write_s": write_s,
        "write_us_per_item": 1e6 * write_s / size,
        "unchanged_write_s": unchanged_s,
    }


def per_entry_cost(archived: list[int], feeds_per_step: int = 20) -> dict[str, float]:
    """Microseconds per entry written, recording 20-item feeds into archives of these sizes."""
    found: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_archive(f"sqlite:///{tmp}/growth.db")
        have = 0
        for target in archived:
            filler, _ = feeds.add_feed(engine, f"http://example.org/filler-{target}.xml")
            while have < target:
                batch = min(5000, target - have)
                prepared, _ = prepare_entries(items(f"fill{have}", batch, links=True))
                with engine.begin() as conn:
                    entries.record(conn, filler, prepared, fulltext=True)
                have += batch
            ready = [
                prepare_entries(items(f"probe{target}-{n}", 20, links=True))[0]
                for n in range(feeds_per_step)
            ]
            ids = [
                feeds.add_feed(engine, f"http://example.org/probe-{target}-{n}.xml")[0]
                for n in range(feeds_per_step)
            ]
            started = time.perf_counter()
            for feed_id, prepared in zip(ids, ready, strict=True):
                with engine.begin() as conn:
                    entries.record(conn, feed_id, prepared, fulltext=True)
            elapsed = time.perf_counter() - started
            found[str(target)] = 1e6 * elapsed / (20 * feeds_per_step)
            have += 20 * feeds_per_step
        engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 8000, 50000])
    parser.add_argument("--archived", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"big_feed": [big_feed(size) for size in args.sizes]}
    results["per_entry_us"] = per_entry_cost(args.archived)
    for row in results["big_feed"]:
        print(
            f"one feed of {row['items']:>6} items: prepare {row['prepare_s']:6.2f} s (worker), "
            f"write {row['write_s']:6.2f} s ({row['write_us_per_item']:.0f} us/item), "
            f"unchanged re-poll write {row['unchanged_write_s']:5.2f} s"
        )
    costs = results["per_entry_us"]
    for size, cost in costs.items():
        print(f"per-entry write cost with {int(size):>7} archived articles: {cost:7.0f} us")
    sizes = sorted(costs, key=int)
    results["growth_ratio"] = costs[sizes[-1]] / costs[sizes[0]]
    print(f"growth ratio {sizes[-1]} vs {sizes[0]}: {results['growth_ratio']:.2f}x (goal <= 1.5x)")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

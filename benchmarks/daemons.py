"""Several daemons on one PostgreSQL: feeds/s with 1 daemon vs 2, in the same run.

Starts a throwaway PostgreSQL server (as tests/postgres.py does), a loopback farm of feeds
(tests/farm.py), then for each node count a fresh database, the farm subscribed, N `ingest run`
processes, and the time until every page is archived. Prints the numbers and the ratio, writes
them to a JSON file, and compares with an earlier one:

    python benchmarks/daemons.py                           # 100 feeds x 3 pages, 1 and 2 nodes
    python benchmarks/daemons.py --save benchmarks/results/daemons.json
    python benchmarks/daemons.py --compare benchmarks/results/daemons.json

Never reaches the network: everything is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.farm import Farm  # noqa: E402
from tests.postgres import create_database, running_server  # noqa: E402

from ingest.store import feeds  # noqa: E402
from ingest.store.engine import open_archive  # noqa: E402
from ingest.store.models import Article  # noqa: E402


def run_nodes(base: str, nodes: int, feeds_n: int, items: int, page_delay: float) -> dict[str, Any]:
    url = create_database(base, prefix="bench")
    engine = open_archive(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")} | {
        "INGEST_DB_URL": url,
        "INGEST_TICK_INTERVAL": "0.2",
        "INGEST_HOST_DELAY": "0",
        "INGEST_PER_HOST_CONCURRENCY": "64",
        "INGEST_BATCH_SIZE": "20",
        "INGEST_MIN_INTERVAL": "3600",
        "INGEST_WORKERS": "1",
    }
    total = feeds_n * items
    with (
        Farm(feeds=feeds_n, items=items, page_delay=page_delay) as farm,
        tempfile.TemporaryDirectory() as cwd,
    ):
        for feed_url in farm.feed_urls():
            feeds.add_feed(engine, feed_url)
        started = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "ingest", "run"],
                cwd=cwd,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(nodes)
        ]
        try:
            while not farm.counts:  # start the clock at the first request: startup excluded
                time.sleep(0.01)
            startup = time.perf_counter() - started
            started = time.perf_counter()
            while True:
                with engine.connect() as conn:
                    done = conn.execute(
                        sa.select(sa.func.count()).where(Article.extraction == "full")
                    ).scalar_one()
                if done >= total:
                    break
                if time.perf_counter() - started > 600:
                    raise SystemExit("timed out")
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(60)
        work = [p for p in farm.counts if p.startswith(("/feed/", "/page/"))]  # not robots.txt
        duplicates = sum(farm.counts[p] - 1 for p in work)
    engine.dispose()
    return {
        "nodes": nodes,
        "startup_s": round(startup, 2),
        "seconds": round(elapsed, 2),
        "feeds_per_s": round(feeds_n / elapsed, 2),
        "pages_per_s": round(total / elapsed, 2),
        "duplicate_requests": duplicates,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=3)
    parser.add_argument("--page-delay", type=float, default=0.05, help="server time per page (s)")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    with running_server() as base:
        runs = [run_nodes(base, n, args.feeds, args.items, args.page_delay) for n in (1, 2)]
    result = {
        "farm": {"feeds": args.feeds, "items": args.items, "page_delay": args.page_delay},
        "cores": os.cpu_count(),
        "runs": runs,
        "speedup_2_vs_1": round(runs[1]["feeds_per_s"] / runs[0]["feeds_per_s"], 2),
    }
    for run in runs:
        print(
            f"{run['nodes']} daemon(s): {run['seconds']:6.2f} s  {run['feeds_per_s']:6.2f} feeds/s"
            f"  {run['pages_per_s']:6.2f} pages/s  duplicate requests: {run['duplicate_requests']}"
        )
    print(f"2 daemons vs 1: x{result['speedup_2_vs_1']}")
    if args.compare and args.compare.exists():
        before = json.loads(args.compare.read_text())
        print(f"before: x{before['speedup_2_vs_1']}  ", [r["feeds_per_s"] for r in before["runs"]])
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

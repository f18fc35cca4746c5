"""`ingest feeds add` of many URLs: the whole CLI run, start-up included, on a loopback farm.

The farm of benchmarks/polling.py: `--feeds` RSS feeds of `--items` entries on 50 loopback
addresses (127.0.0.2 … 127.0.0.51), each response after 50 ms. One `ingest feeds add URL…`
checks every URL (concurrently, within the per-host limits), parses it in the worker pool and
records it as the feed's first poll. Goal (issue 8): 500 URLs on 50 hosts in under 5 s.

    python benchmarks/feeds_add.py                      # 500 feeds x 20 entries, host_delay 0
    python benchmarks/feeds_add.py --polite             # also with the default host_delay
    python benchmarks/feeds_add.py --save benchmarks/results/feeds_add.json

Never reaches the network.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from polling import ALLOW, BIN, feed_urls, serve


def add_all(urls: list[str], host_delay: float | None) -> dict[str, float]:
    """One `ingest feeds add` of every URL into a fresh archive: seconds and entries archived."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
        env["INGEST_DB_URL"] = f"sqlite:///{tmp}/ingest.db"
        env["INGEST_ALLOW_NETWORKS"] = ",".join(ALLOW)  # the farm stands for public hosts
        if host_delay is not None:
            env["INGEST_HOST_DELAY"] = str(host_delay)
        started = time.perf_counter()
        done = subprocess.run(
            [str(BIN / "ingest"), "feeds", "add", *urls],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
            check=False,
        )
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"feeds add failed ({done.returncode}): {done.stderr[-2000:]}")
        added = done.stderr.count("added: [")
        entries = sum(
            int(line.rsplit("(", 1)[1].split()[0])
            for line in done.stderr.splitlines()
            if line.endswith("entries archived)")
        )
    return {"seconds": round(seconds, 2), "added": added, "entries": entries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--polite", action="store_true", help="also with the default host_delay")
    parser.add_argument("--save", type=Path, help="write the numbers to this JSON file")
    args = parser.parse_args()
    port, farm = serve(args.items)
    try:
        urls = feed_urls(args.feeds, port)
        results: dict[str, Any] = {"feeds": args.feeds, "items": args.items}
        results["host_delay_0"] = add_all(urls, 0)
        if args.polite:
            results["default_host_delay"] = add_all(urls, None)
    finally:
        farm.terminate()
    for name in ("host_delay_0", "default_host_delay"):
        if name in results:
            r = results[name]
            print(
                f"feeds add of {args.feeds} URLs ({name}): {r['seconds']:.2f} s, "
                f"{r['added']} added, {r['entries']} entries archived"
            )
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

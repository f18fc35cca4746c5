"""Imported once by the worker pool's forkserver, before it forks any worker: the feed-parsing
stack, warmed up (feedparser, courlan and babel's tables, MinHash's permutations through
datasketch and numpy), shared copy-on-write by every worker instead of loaded in each.

A run that fetches pages preloads ingest.workerpreload after it (the extraction stack); a
feeds-only run does not pay for that. `gc.freeze()`: see ingest.workerpreload.
"""

from __future__ import annotations

import gc

from ingest.update.prepare import warm_up

warm_up()
gc.freeze()

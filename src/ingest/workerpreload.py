"""Imported once by the worker pool's forkserver, before it forks any worker, after
ingest.parsepreload, when the run extracts pages: the extraction stack and the language model.

What is loaded here is shared copy-on-write by every worker instead of loaded again in each:
py3langid's model alone is ~75 MB per process. `gc.freeze()` keeps it shared: a worker's
garbage collections would otherwise write to the header of every object loaded here, and each
page they touch would become the worker's own copy.
"""

from __future__ import annotations

import gc

from ingest.extract import warm_up

warm_up()
gc.freeze()

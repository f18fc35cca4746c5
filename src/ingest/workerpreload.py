"""Imported once by the worker pool's forkserver, before it forks any worker.

What is loaded here (the extraction stack, the language model, MinHash's permutations) is
shared copy-on-write by every worker instead of being loaded again in each: py3langid's model
alone is ~75 MB per process, numpy/scipy (through datasketch) ~50 MB. `gc.freeze()` keeps it
shared: a worker's garbage collections would otherwise write to the header of every object
loaded here, and each page they touch becomes the worker's own copy.
"""

from __future__ import annotations

import gc

from ingest.extract import warm_up

warm_up()
gc.freeze()

"""Limits applied inside each parse/extract worker process when it starts.

A hostile feed or page costs at most one worker's memory: past the cap an allocation fails with
MemoryError (a value for that one call), where it would otherwise grow until the kernel's OOM
killer picks a process, maybe the archiver itself.
"""

from __future__ import annotations

import resource


def limit_memory(megabytes: int) -> None:
    """Cap the process's data memory (heap and anonymous mappings: what parsers allocate).

    RLIMIT_DATA rather than RLIMIT_AS: shared libraries and thread stacks reserve address space
    that is never used, so an address-space cap would fail workers for nothing.
    """
    if megabytes <= 0:
        return
    limit = megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))

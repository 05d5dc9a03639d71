"""Process-wide state ipqa changes, each in one named function called on purpose.

Nothing else in the package sets environment variables or library-wide thread counts: entry points
(`ipqa` in cli.py, ui.py) call `offline_environment()` once at start, and `Engine` calls
`single_thread_search()` before it loads an index.
"""

from __future__ import annotations

import os
from pathlib import Path

_search_configured = False


def user_cache() -> Path:
    """ipqa's folder of per-user copies that can always be made again (database generations,
    the multilingual encoder's inflated weights): IPQA_CACHE, else $XDG_CACHE_HOME/ipqa, else
    ~/.cache/ipqa."""
    return Path(
        os.environ.get("IPQA_CACHE")
        or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "ipqa")
    )


def single_thread_search() -> None:
    """FAISS searches with one OpenMP thread in this process.

    Why: ipqa searches one small query vector at a time, where OpenMP's extra threads only
    spin-wait (measurably slower on a busy 2-core machine) and fight the UI's concurrent requests
    for cores. Builds that run before it keep FAISS's default (HNSW construction uses threads).
    Idempotent; importing faiss costs a fraction of a second once."""
    global _search_configured
    if _search_configured:
        return
    import faiss

    faiss.omp_set_num_threads(1)
    _search_configured = True

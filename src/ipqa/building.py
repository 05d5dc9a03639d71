"""Building the index: the only code path that writes one. Reading never builds (an `Engine`
raises on a missing index); the entry points that promise a first run without `ipqa build` call
`ensure_index` first."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipqa.chunking import ChunkerParams
from ipqa.embedding import SentenceTransformerEncoder
from ipqa.errors import IpqaError
from ipqa.index import build_index, built_by_another_version, current_generation
from ipqa.settings import Settings
from ipqa.stores import database, is_database


def chunker_params(settings: Settings) -> ChunkerParams:
    return ChunkerParams(max_chars=settings.chunk_max_chars, overlap=settings.chunk_overlap)


@dataclass(frozen=True)
class BuildResult:
    """What a build did: the generation now live and its size (`ipqa build --json`)."""

    generation: str  # the live generation folder's name
    index: Path  # its folder
    rebuilt: bool  # False: the index was up to date and nothing was written
    documents: int
    chunks: int
    sentences: int
    seconds: float
    published: Any = None  # with a database store: the database's generation id

    def to_json(self) -> dict[str, Any]:
        out = {"generation": self.generation, "index": str(self.index), "rebuilt": self.rebuilt,
               "up_to_date": not self.rebuilt, "documents": self.documents, "chunks": self.chunks,
               "sentences": self.sentences, "seconds": round(self.seconds, 3)}  # fmt: skip
        if self.published is not None:
            out["published"] = self.published
        return out


def _live_generation(index_dir: Path) -> Path | None:
    """The index folder's live generation; None when there is none or CURRENT is damaged (a build
    replaces a damaged one)."""
    try:
        return current_generation(index_dir)
    except IpqaError:
        return None


def build(
    settings: Settings,
    log: Callable[[str], None] = lambda _m: None,
    force: bool = False,
    progress: bool | None = None,
) -> BuildResult:
    """Bring the index up to date with the corpus (the only code path that writes an index)."""
    t0 = time.perf_counter()
    before = _live_generation(settings.index_dir)
    gen = build_index(
        settings.corpus_dir,
        settings.index_dir,
        chunker_params(settings),
        SentenceTransformerEncoder,
        log,
        force=force,
        progress=progress,
    )
    gid = None
    if is_database(settings.store):  # the folder's new generation becomes the database's current one
        gid = database(settings).publish(gen, log)
        log(f"published as generation {gid}")
    counts = json.loads((gen / "manifest.json").read_text(encoding="utf-8")).get("counts", {})
    return BuildResult(gen.name, gen, before is None or before.name != gen.name,
                       int(counts.get("documents", 0)), int(counts.get("chunks", 0)),
                       int(counts.get("sentences", 0)), time.perf_counter() - t0, gid)  # fmt: skip


def ensure_index(settings: Settings, log: Callable[[str], None]) -> BuildResult | None:
    """Build the index when the index folder has none, or has one made by another version of
    ipqa's reading or analysis (after an upgrade); None when the one there is current.

    Entry points that promise a first run without `ipqa build` (`ipqa ask`, `ipqa chat`, ui.py)
    call this before they create an `Engine`; the engine itself only ever reads. A database store
    is built and published by `ipqa build` alone. An index stale for what the user changed (the
    corpus, the chunking settings) is left to `ipqa build`, as the engine's error says."""
    if is_database(settings.store):
        return None
    if current_generation(settings.index_dir) is None:
        log(f"no index in {settings.index_dir} yet — building it from {settings.corpus_dir} (about 10 s)…")
        return build(settings, log)
    if reason := built_by_another_version(settings.index_dir):
        log(f"the index is out of date ({reason}) — rebuilding it from {settings.corpus_dir} (about 10 s)…")
        return build(settings, log)
    return None


def serving_generation(settings: Settings) -> Any:
    """The generation the index currently serves (folder name or database id); None: no index."""
    if is_database(settings.store):
        return database(settings).current()
    gen = current_generation(settings.index_dir)
    return gen.name if gen is not None else None

"""Where the index lives: files in a folder (the default, for one machine) or PostgreSQL with
pgvector (`--store postgresql://…` / IPQA_STORE, for several processes sharing one index).

Both give the engine the same `LoadedIndex` (documents, sentences, their vectors, corpus
statistics); they differ in where passages are searched: FAISS and BM25 in memory, or the
database (`rankings`). Builds always analyse documents into a local file generation first; a
database store then publishes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipqa.errors import InputError
from ipqa.index import LoadedIndex


@dataclass(frozen=True)
class Opened:
    index: LoadedIndex
    rankings: Any = None  # None: search in memory (files); else the database's StoreRankings
    generation: Any = None  # what `changed` compares against


def is_database(store: str | None) -> bool:
    return bool(store) and store.split(":", 1)[0] in ("postgresql", "postgres")


_stores: dict[str, Any] = {}


def database(settings: Any) -> Any:
    """The process's PostgresStore for these settings (one connection pool per URL)."""
    try:
        import pgvector  # noqa: F401
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401

        from ipqa.stores.postgres import PostgresStore
    except ImportError:
        raise InputError(
            "the PostgreSQL store needs the postgres extra: .venv/bin/pip install -e '.[postgres]'"
        ) from None

    key = settings.store
    if key not in _stores:
        _stores[key] = PostgresStore(
            settings.store, settings.pg_pool_size, settings.pg_timeout, settings.pg_ef_search
        )
    return _stores[key]


def cache_dir() -> Path:
    """Where database generations are copied for reading (outside any index folder)."""
    from ipqa.runtime import user_cache

    return user_cache() / "store"


def open_index(settings: Any, load_files: Callable[[], LoadedIndex]) -> Opened:
    """The index as the settings say: the folder's (`load_files`) or the database's."""
    if not is_database(settings.store):
        return Opened(load_files())
    from ipqa.index import load_generation_without_faiss
    from ipqa.stores.postgres import StoreRankings

    db = database(settings)
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    gid, folder = db.materialise(cache)
    index = load_generation_without_faiss(folder)
    return Opened(index, StoreRankings(db, gid, dict(index.bm25.vocab_dict)), gid)


def changed(settings: Any, opened: Opened) -> bool:
    """Whether another generation serves now (a build published one since this was opened)."""
    if not is_database(settings.store):
        return False
    return database(settings).current() != opened.generation

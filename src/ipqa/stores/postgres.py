"""The index in PostgreSQL with pgvector: one index shared by several ipqa processes.

Why long: schema, transactional publishing and the two searches share one connection policy
(pooling, timeouts, error messages without credentials).

What lives where:

* ``ipqa_meta``: the schema version (``ipqa db init`` applies the migrations below, in order).
* ``ipqa_generation`` / ``ipqa_current``: every published build is a generation; ``ipqa_current``
  names the one that serves. A build publishes a whole generation and switches ``ipqa_current`` in
  one transaction, so readers see the old generation or the new one, never a mix; a killed build
  leaves nothing behind. Concurrent builds are refused by an advisory lock.
* ``ipqa_file``: a generation's files (documents and their canonical text, sentences, chunks, the
  sentence vectors, corpus statistics, the BM25 vocabulary, the manifest) as they are in a file
  index, with their checksums; each process copies them once into a local cache and reads them
  with the same checks as a file index.
* ``ipqa_chunk_g<N>``: the passages with their vectors (HNSW indexes, inner product) and a
  ``tsvector`` of ipqa's own terms (GIN index); ``ipqa_posting_g<N>``: each term's BM25 weight
  per passage, as the file index's BM25 has them. Vector and keyword search run in the database;
  the two rankings are fused by the same code as for files, which is what makes the answers the
  same as the file store's.

Credentials come only from the URL or the environment (libpq's PG* variables, ``.pgpass``) and
are never printed: messages name the database by host, port and name only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ipqa.errors import BuildLockedError, IndexError_, IpqaError
from ipqa.index import fault_point

# The pool retries in the background and logs each failed attempt; ipqa says it once, in one line.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
logging.getLogger("psycopg.pool").propagate = False

SCHEMA_VERSION = 1
BUILD_LOCK_KEY = 0x1B0A_5EED  # pg_advisory_lock key of ipqa builds
KEEP_GENERATIONS = 2  # the current one and the one before (readers may still be on it)
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 64

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE TABLE IF NOT EXISTS ipqa_meta (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE ipqa_generation (
            id bigserial PRIMARY KEY,
            created timestamptz NOT NULL DEFAULT now(),
            manifest jsonb NOT NULL
        );
        CREATE TABLE ipqa_current (
            only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
            generation bigint NOT NULL REFERENCES ipqa_generation (id)
        );
        CREATE TABLE ipqa_file (
            generation bigint NOT NULL REFERENCES ipqa_generation (id) ON DELETE CASCADE,
            name text NOT NULL,
            sha256 text NOT NULL,
            data bytea NOT NULL,
            PRIMARY KEY (generation, name)
        );
        """,
    ),
]


class StoreUnavailable(IndexError_):
    """The database cannot be reached, or answers with an error."""


def display_url(url: str) -> str:
    """host:port/dbname of a postgresql:// URL — never its user or password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        info = conninfo_to_dict(url)
    except Exception:
        return "the database (malformed URL)"
    host = info.get("host") or os.environ.get("PGHOST") or "localhost"
    port = info.get("port") or os.environ.get("PGPORT") or "5432"
    return f"{host}:{port}/{info.get('dbname') or os.environ.get('PGDATABASE') or '(default)'}"


def _one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    return msg[:200] or type(exc).__name__


def _table(kind: str, generation: int) -> Any:
    from psycopg import sql

    return sql.Identifier(f"ipqa_{kind}_g{int(generation)}")


class PostgresStore:
    """One database. Connections come from a small pool; every call has a statement timeout."""

    def __init__(self, url: str, pool_size: int = 4, timeout: float = 10.0, ef_search: int = 160) -> None:
        self.url = url
        self.where = display_url(url)
        self.timeout = timeout
        self.ef_search = ef_search
        self._pool_size = pool_size
        self._pool: Any = None
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- connections

    def _get_pool(self) -> Any:
        with self._lock:
            if self._pool is None:
                from pgvector.psycopg import register_vector
                from psycopg_pool import ConnectionPool

                ms = int(self.timeout * 1000)
                self._pool = ConnectionPool(
                    self.url,
                    min_size=0,
                    max_size=self._pool_size,
                    timeout=self.timeout,
                    kwargs={"connect_timeout": max(1, int(self.timeout)), "options": f"-c statement_timeout={ms}",
                            "autocommit": True},
                    configure=register_vector,
                    open=True,
                    check=ConnectionPool.check_connection,
                )  # fmt: skip
            return self._pool

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled connection; any database failure becomes one clear StoreUnavailable."""
        import psycopg

        pool = conn = None
        try:
            pool, conn = self._checkout()
            yield conn
        except psycopg.errors.UndefinedTable as exc:
            if "ipqa_chunk_g" in str(exc) or "ipqa_posting_g" in str(exc):
                raise StoreUnavailable(
                    f"index replaced: the generation this process loaded is no longer in the database at "
                    f"{self.where} (newer builds replaced it) — start again to load the current one"
                ) from None
            raise StoreUnavailable(
                f"index unavailable: the database at {self.where} has no ipqa schema — run `ipqa db init`"
            ) from None
        except psycopg.OperationalError as exc:
            raise StoreUnavailable(f"index unavailable: database at {self.where}: {_one_line(exc)}") from None
        except psycopg.Error as exc:
            raise StoreUnavailable(f"database error at {self.where}: {_one_line(exc)}") from None
        finally:
            if pool is not None and conn is not None:
                with contextlib.suppress(Exception):
                    pool.putconn(conn)

    def _checkout(self) -> tuple[Any, Any]:
        """(pool, connection). A pool that gave up while the database was away (it backs off
        between attempts) is replaced as soon as the database answers again."""
        from psycopg_pool import PoolTimeout

        pool = self._get_pool()
        try:
            return pool, pool.getconn()
        except PoolTimeout:
            if not self._reachable():
                raise StoreUnavailable(
                    f"index unavailable: cannot reach the database at {self.where}"
                ) from None
        self.close()
        pool = self._get_pool()
        try:
            return pool, pool.getconn()
        except PoolTimeout:
            raise StoreUnavailable(f"index unavailable: cannot reach the database at {self.where}") from None

    def _reachable(self) -> bool:
        import psycopg

        try:
            psycopg.connect(self.url, connect_timeout=max(1, int(min(self.timeout, 5)))).close()
            return True
        except psycopg.Error:
            return False

    def _direct(self, autocommit: bool = False) -> Any:
        """A connection of its own (builds: the advisory lock is held by the session)."""
        import psycopg

        try:
            return psycopg.connect(self.url, connect_timeout=max(1, int(self.timeout)), autocommit=autocommit)
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"index unavailable: cannot reach the database at {self.where}: {_one_line(exc)}"
            ) from None

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    # ---------------------------------------------------------------- schema

    def schema_version(self) -> int | None:
        with self.connection() as conn:
            exists = conn.execute("SELECT to_regclass('ipqa_meta') IS NOT NULL").fetchone()[0]
            if not exists:
                return None
            row = conn.execute("SELECT value FROM ipqa_meta WHERE key = 'schema_version'").fetchone()
            return int(row[0]) if row else None

    def check_schema(self) -> None:
        version = self.schema_version()
        if version is None:
            raise IndexError_(f"the database at {self.where} has no ipqa schema — run `ipqa db init`")
        if version != SCHEMA_VERSION:
            raise IndexError_(
                f"the database at {self.where} has ipqa schema version {version}, this ipqa needs "
                f"{SCHEMA_VERSION} — run `ipqa db init`"
            )

    def init(self) -> tuple[int | None, int]:
        """Apply the migrations not applied yet, each in its own transaction: (before, after)."""
        conn = self._direct()
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (BUILD_LOCK_KEY,))
                exists = conn.execute("SELECT to_regclass('ipqa_meta') IS NOT NULL").fetchone()[0]
                row = (
                    conn.execute("SELECT value FROM ipqa_meta WHERE key = 'schema_version'").fetchone()
                    if exists
                    else None
                )
                before = int(row[0]) if row else None
                if before is not None and before > SCHEMA_VERSION:
                    raise IndexError_(
                        f"the database at {self.where} has a newer ipqa schema ({before}) than this ipqa "
                        f"({SCHEMA_VERSION})"
                    )
                for version, ddl in MIGRATIONS:
                    if before is None or version > before:
                        conn.execute(ddl)
                        conn.execute(
                            "INSERT INTO ipqa_meta (key, value) VALUES ('schema_version', %s) "
                            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                            (str(version),),
                        )
            return before, SCHEMA_VERSION
        except IpqaError:
            raise
        except Exception as exc:
            raise StoreUnavailable(
                f"cannot initialise the database at {self.where}: {_one_line(exc)}"
            ) from None
        finally:
            conn.close()

    # ---------------------------------------------------------------- publishing a build

    def publish(self, gen: Path, log: Callable[[str], None] = lambda _m: None) -> int:
        """Copy a built file generation into the database as a new generation and make it
        current, all in one transaction. Returns the generation's id."""
        import psycopg
        from pgvector.psycopg import register_vector
        from psycopg import sql

        self.check_schema()
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        conn = self._direct()
        try:
            register_vector(conn)
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (BUILD_LOCK_KEY,)).fetchone()[0]
            conn.commit()
            if not got:
                raise BuildLockedError(
                    f"another build is publishing to the database at {self.where}; try again later"
                )
            try:
                with conn.transaction():
                    conn.execute("SET LOCAL statement_timeout = 0")
                    # room for the HNSW graph while it is built (about 2 KB per passage): a bound, not
                    # an allocation; a graph that does not fit is built far more slowly
                    conn.execute("SET LOCAL maintenance_work_mem = '2GB'")
                    gid = conn.execute(
                        "INSERT INTO ipqa_generation (manifest) VALUES (%s) RETURNING id",
                        (json.dumps(manifest),),
                    ).fetchone()[0]
                    log(f"publishing generation {gid} to {self.where}…")
                    self._write_chunks(conn, gen, gid)
                    self._write_postings(conn, gen, gid)
                    self._write_files(conn, gen, gid, manifest)
                    fault_point("before_switch")
                    conn.execute(
                        "INSERT INTO ipqa_current (only_row, generation) VALUES (true, %s) "
                        "ON CONFLICT (only_row) DO UPDATE SET generation = EXCLUDED.generation",
                        (gid,),
                    )
                    old = [
                        r[0]
                        for r in conn.execute(
                            "SELECT id FROM ipqa_generation WHERE id <> %s ORDER BY id DESC OFFSET %s",
                            (gid, KEEP_GENERATIONS - 1),
                        )
                    ]
                    for o in old:
                        for kind in ("chunk", "posting"):
                            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_table(kind, o)))
                        conn.execute("DELETE FROM ipqa_generation WHERE id = %s", (o,))
                return gid
            finally:
                if not conn.closed:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (BUILD_LOCK_KEY,))
                    conn.commit()
        except IpqaError:
            raise
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"the build could not be published to {self.where}: {_one_line(exc)}"
            ) from None
        finally:
            conn.close()

    def _write_chunks(self, conn: Any, gen: Path, gid: int) -> None:
        from psycopg import sql

        from ipqa.text import terms

        t = _table("chunk", gid)
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (id integer PRIMARY KEY, doc text NOT NULL, section text NOT NULL, "
                "text text NOT NULL, start_offset integer NOT NULL, end_offset integer NOT NULL, "
                "embedding vector(384) NOT NULL, embedding_ml vector(512) NOT NULL, tsv tsvector NOT NULL)"
            ).format(t)
        )
        vectors = np.load(gen / "chunk_vectors.npy", allow_pickle=False)
        vectors_ml = np.load(gen / "chunk_vectors_ml.npy", allow_pickle=False)
        with (gen / "chunks.jsonl").open(encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
        with conn.cursor().copy(
            sql.SQL(
                "COPY {} (id, doc, section, text, start_offset, end_offset, embedding, embedding_ml, tsv) "
                "FROM STDIN"
            ).format(t)
        ) as copy:
            for i, row in enumerate(rows):
                # the tsvector holds ipqa's own terms, so keyword candidates are what BM25 scores
                tsv = " ".join(dict.fromkeys(terms(row["text"]))).replace("\\", "")
                copy.write_row((i, row["doc"], row["section"], row["text"], row["start"], row["end"],
                                vectors[i], vectors_ml[i], _tsvector_literal(tsv)))  # fmt: skip
        for column in ("embedding", "embedding_ml"):
            conn.execute(
                sql.SQL(
                    "CREATE INDEX ON {} USING hnsw ({} vector_ip_ops) WITH (m = {}, ef_construction = {})"
                ).format(t, sql.Identifier(column), sql.Literal(HNSW_M), sql.Literal(HNSW_EF_CONSTRUCTION))
            )
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gin (tsv)").format(t))

    def _write_postings(self, conn: Any, gen: Path, gid: int) -> None:
        from psycopg import sql

        t = _table("posting", gid)
        conn.execute(
            sql.SQL(
                "CREATE TABLE {} (term integer NOT NULL, chunk integer NOT NULL, score real NOT NULL)"
            ).format(t)
        )
        data = np.load(gen / "bm25" / "data.csc.index.npy", allow_pickle=False)
        indices = np.load(gen / "bm25" / "indices.csc.index.npy", allow_pickle=False)
        indptr = np.load(gen / "bm25" / "indptr.csc.index.npy", allow_pickle=False)
        term_of = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        with conn.cursor().copy(sql.SQL("COPY {} (term, chunk, score) FROM STDIN").format(t)) as copy:
            for term, chunk, score in zip(term_of.tolist(), indices.tolist(), data.tolist(), strict=True):
                copy.write_row((term, chunk, score))
        conn.execute(sql.SQL("ALTER TABLE {} ADD PRIMARY KEY (term, chunk)").format(t))

    def _write_files(self, conn: Any, gen: Path, gid: int, manifest: dict) -> None:
        from ipqa.index import VECTOR_INDEX_FILES

        for name, digest in sorted(manifest["files"].items()):
            if name in VECTOR_INDEX_FILES:
                continue  # the database has the vectors, with its own index
            data = (gen / name).read_bytes()
            conn.execute(
                "INSERT INTO ipqa_file (generation, name, sha256, data) VALUES (%s, %s, %s, %s)",
                (gid, name, digest, data),
            )
        conn.execute(
            "INSERT INTO ipqa_file (generation, name, sha256, data) VALUES (%s, 'manifest.json', %s, %s)",
            (
                gid,
                hashlib.sha256((gen / "manifest.json").read_bytes()).hexdigest(),
                (gen / "manifest.json").read_bytes(),
            ),
        )

    # ---------------------------------------------------------------- reading

    def current(self) -> int | None:
        """The generation that serves now (None: nothing published yet)."""
        with self.connection() as conn:
            row = conn.execute("SELECT generation FROM ipqa_current").fetchone()
            return int(row[0]) if row else None

    def materialise(self, cache_dir: Path) -> tuple[int, Path]:
        """The current generation's files in a local folder (copied once per generation)."""
        self.check_schema()
        with self.connection() as conn:
            row = conn.execute("SELECT generation FROM ipqa_current").fetchone()
            if row is None:
                raise IndexError_(f"no index in the database at {self.where} yet — run `ipqa build`")
            gid = int(row[0])
            digest = conn.execute(
                "SELECT sha256 FROM ipqa_file WHERE generation = %s AND name = 'manifest.json'", (gid,)
            ).fetchone()
            if digest is None:
                raise IndexError_(f"index is damaged: generation {gid} in the database has no manifest")
            key = hashlib.sha256(self.where.encode()).hexdigest()[:12]
            target = cache_dir / f"pg-{key}-g{gid}-{digest[0][:12]}"
            if (target / "manifest.json").is_file():
                return gid, target
            tmp = cache_dir / f".pg-{key}-g{gid}.{os.getpid()}.tmp"
            shutil.rmtree(tmp, ignore_errors=True)
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT name, sha256, data FROM ipqa_file WHERE generation = %s ORDER BY name", (gid,)
                )
                for name, digest, data in cur:
                    path = tmp / name
                    if ".." in Path(name).parts or Path(name).is_absolute():
                        raise IndexError_(f"the database at {self.where} holds a file with a bad name")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    blob = bytes(data)
                    if hashlib.sha256(blob).hexdigest() != digest:
                        raise IndexError_(
                            f"index is damaged: {name} in the database does not match its checksum"
                        )
                    path.write_bytes(blob)
        if not (tmp / "manifest.json").is_file():
            raise IndexError_(f"index is damaged: generation {gid} in the database has no manifest")
        try:
            tmp.rename(target)
        except OSError:  # another process got there first
            shutil.rmtree(tmp, ignore_errors=True)
        for old in cache_dir.glob(f"pg-{key}-g*"):  # copies of generations no longer served
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        return gid, target

    # ---------------------------------------------------------------- searching

    def dense(
        self, generation: int, qvec: np.ndarray, depth: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine) best first, by the HNSW index; restricted to some chunks, an exact
        scan over them (a filtered HNSW search can return fewer than asked)."""
        from pgvector import Vector
        from psycopg import sql

        column = sql.Identifier("embedding" if qvec.shape[-1] == 384 else "embedding_ml")
        t = _table("chunk", generation)
        vec = Vector(np.asarray(qvec, dtype=np.float32))
        with self.connection() as conn, conn.transaction():
            conn.execute(
                sql.SQL("SET LOCAL hnsw.ef_search = {}").format(sql.Literal(max(self.ef_search, depth)))
            )
            if allowed is None:
                query = sql.SQL("SELECT id, -({c} <#> %s) FROM {t} ORDER BY {c} <#> %s LIMIT %s").format(
                    c=column, t=t
                )
                rows = conn.execute(query, (vec, vec, depth)).fetchall()
            else:
                conn.execute("SET LOCAL enable_indexscan = off")
                query = sql.SQL(
                    "SELECT id, -({c} <#> %s) FROM {t} WHERE id = ANY(%s) ORDER BY {c} <#> %s, id LIMIT %s"
                ).format(c=column, t=t)
                rows = conn.execute(query, (vec, allowed.tolist(), vec, depth)).fetchall()
        # ties broken by id, as FAISS does
        out = [(int(i), float(s)) for i, s in rows]
        return sorted(out, key=lambda r: (-np.float32(r[1]), r[0]))

    def keyword(
        self, generation: int, term_ids: list[int], depth: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) best first: the passages whose tsvector has a query term, scored
        with the same per-term weights as the file index's BM25 (a term asked twice counts twice)."""
        from psycopg import sql

        counts = Counter(term_ids)
        if not counts:
            return []
        ids, weights = list(counts), [float(counts[i]) for i in counts]
        query = sql.SQL(
            "SELECT p.chunk, SUM(p.score::float8 * q.w) AS s FROM {p} p "
            "JOIN unnest(%s::int[], %s::float8[]) AS q(term, w) ON p.term = q.term "
            "{where} GROUP BY p.chunk ORDER BY s DESC, p.chunk LIMIT %s"
        ).format(
            p=_table("posting", generation),
            where=sql.SQL("WHERE p.chunk = ANY(%s)") if allowed is not None else sql.SQL(""),
        )
        args: tuple = (
            (ids, weights, allowed.tolist(), depth) if allowed is not None else (ids, weights, depth)
        )
        with self.connection() as conn:
            rows = conn.execute(query, args).fetchall()
        return [(int(c), float(np.float32(s))) for c, s in rows if s > 0]


def _tsvector_literal(text: str) -> str:
    """A tsvector's text form of plain terms (each quoted, so no term is read as an operator)."""
    return " ".join("'" + w.replace("'", "''") + "'" for w in text.split())


class StoreRankings:
    """The retriever's two rankings, computed in the database (see ipqa.retrieval)."""

    def __init__(self, store: PostgresStore, generation: int, vocab: dict[str, int]) -> None:
        self.store, self.generation, self.vocab = store, generation, vocab

    def dense(self, qvec: np.ndarray, depth: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        return self.store.dense(self.generation, qvec, depth, allowed)

    def keyword(
        self, query_terms: list[str], depth: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        return self.store.keyword(
            self.generation, [self.vocab[t] for t in query_terms if t in self.vocab], depth, allowed
        )

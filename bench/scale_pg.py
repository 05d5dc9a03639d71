"""How the PostgreSQL + pgvector store scales: one index generation of N chunks (default 1,000,000).

Chunks: the real report's chunk texts (cycled; copy k of the report is document "<stem>-k.txt") and
the real chunk vectors plus Gaussian noise (sigma per dimension, default 0.05), re-normalised; fixed
seed. With sigma 0.05 the noise norm (~0.98) is as large as the vector's, so a query's nearest
neighbours are other noisy copies of its source chunk, ranked by the noise alone: a hard, structureless
case for HNSW (real embeddings have local structure), so the recall here is on the pessimistic side.
--noise-dim 32 puts the same amount of noise into a random 32-dimensional subspace per source chunk
(a lower local intrinsic dimensionality: a structured case). Queries are further perturbed chunk
vectors (not in the table).

Steps, each timed: binary COPY into an unlogged staging table; INSERT … SELECT into the store's table
(schema below) computing tsv = to_tsvector('simple', text); VACUUM ANALYZE; GIN index on tsv; HNSW
index (m=16, ef_construction=64, vector_ip_ops). Then sizes, recall@10 of the HNSW index against exact
search (NumPy, streamed while the vectors are generated) at each ef_search, and query latency at the
smallest ef_search with recall@10 >= 0.95 for 1 and 8 concurrent clients (threads, one connection
each). Latencies are also printed as ratios against the baseline measured in the same invocation:
exact search (sequential scan, no vector index) over the first --baseline-chunks chunks, 1 client.

Usage:  .venv/bin/python bench/scale_pg.py [--store postgresql://…] [--chunks 1000000]
            [--ef 20,40,80,160,320] [--queries 200] [--out bench/scale_pg_results.json]
            [--sigma 0.05] [--noise-dim 384] [--seed 1]       (1,000,000 chunks: ~11 min on 2 cores)
Without --store a temporary server is started (tests/pgserver.py) and removed afterwards.
With --store the benchmark's tables are dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DIM = 384
BATCH = 50_000  # vectors generated, copied and scored per batch (the seed schedule depends on it)
TABLE = "ipqa_chunk_g1"
STAGE = "ipqa_bench_stage"
BASE_TABLE = "ipqa_bench_baseline"
TARGET_RECALL = 0.95
SCHEMA = (
    f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, doc text NOT NULL, section text NOT NULL, "
    "text text NOT NULL, start_offset integer NOT NULL, end_offset integer NOT NULL, "
    "embedding vector(384) NOT NULL, tsv tsvector NOT NULL)"
)
QUERY = f"SELECT id FROM {TABLE} ORDER BY embedding <#> %s::vector LIMIT 10"
# For the temporary server only (a real server is configured by its administrator).
TEMP_SERVER_SETTINGS = {
    "shared_buffers": "'2GB'",
    "max_wal_size": "'8GB'",
    "checkpoint_timeout": "'30min'",
    "max_connections": "50",
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# -- the data -------------------------------------------------------------------------------------
def current_generation(index_root: Path) -> Path:
    current = index_root / "CURRENT"
    if current.is_file():
        gen = index_root / current.read_text(encoding="utf-8").strip()
        if (gen / "chunks.jsonl").is_file():
            return gen
    gens = sorted(p for p in index_root.glob("gen-*") if (p / "chunks.jsonl").is_file())
    if not gens:
        raise SystemExit(f"no built index under {index_root} (run `ipqa build` first)")
    return max(gens, key=lambda p: p.stat().st_mtime)


def load_source(index_root: Path) -> tuple[list[dict], np.ndarray, Path]:
    gen = current_generation(index_root)
    chunks = [json.loads(line) for line in (gen / "chunks.jsonl").open(encoding="utf-8") if line.strip()]
    vecs = np.load(gen / "chunk_vectors.npy").astype(np.float32)
    if vecs.shape != (len(chunks), DIM):
        raise SystemExit(f"{gen}: {len(chunks)} chunks but vectors of shape {vecs.shape}")
    return chunks, vecs, gen


class Noise:
    """Noisy copies of the source vectors: src + Gaussian noise (sigma per dimension), re-normalised.

    noise_dim < 384 puts the same expected noise norm into a random noise_dim-dimensional subspace per
    source chunk (a lower local intrinsic dimensionality, as real embeddings have); 384 is isotropic.
    """

    def __init__(self, src: np.ndarray, sigma: float, noise_dim: int, seed: int):
        self.src, self.sigma, self.dim = src, sigma, noise_dim
        self.bases: list[np.ndarray] = []
        if noise_dim < DIM:
            rng = np.random.default_rng([seed, 2**20])
            self.bases = [np.linalg.qr(rng.normal(size=(DIM, noise_dim)))[0].astype(np.float32) for _ in src]

    def make(self, which: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if not self.bases:
            x = self.src[which] + rng.normal(0.0, self.sigma, (len(which), DIM)).astype(np.float32)
        else:
            z = rng.normal(0.0, self.sigma * np.sqrt(DIM / self.dim), (len(which), self.dim)).astype(
                np.float32
            )
            x = self.src[which].copy()
            for s, basis in enumerate(self.bases):
                rows = np.flatnonzero(which == s)
                x[rows] += z[rows] @ basis.T
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    def batches(self, n: int, seed: int) -> Iterator[tuple[int, np.ndarray]]:
        """(first id, vectors) per batch; chunk i is a noisy copy of source chunk i % len(src)."""
        for b, lo in enumerate(range(0, n, BATCH)):
            hi = min(n, lo + BATCH)
            yield lo, self.make(np.arange(lo, hi) % len(self.src), np.random.default_rng([seed, b]))


class TopK:
    """Exact top-k inner product of a few queries, fed batch by batch."""

    def __init__(self, queries: np.ndarray, k: int = 10):
        self.q, self.k = queries, k
        self.scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
        self.ids = np.zeros((len(queries), 0), dtype=np.int64)

    def add(self, first_id: int, x: np.ndarray) -> None:
        s = np.concatenate([self.scores, self.q @ x.T], axis=1)
        ids = np.concatenate(
            [self.ids, np.broadcast_to(np.arange(first_id, first_id + len(x)), (len(s), len(x)))], 1
        )
        top = np.argpartition(-s, self.k - 1, axis=1)[:, : self.k]
        self.scores, self.ids = np.take_along_axis(s, top, 1), np.take_along_axis(ids, top, 1)

    def truth(self) -> list[set[int]]:
        return [set(map(int, row)) for row in self.ids]


# -- binary COPY ----------------------------------------------------------------------------------
def _field(b: bytes) -> bytes:
    return struct.pack(">i", len(b)) + b


def copy_rows(first_id: int, x: np.ndarray, chunks: list[dict], stem: str) -> bytes:
    """Binary COPY tuples (id, doc, section, text, start_offset, end_offset, embedding)."""
    n_src = len(chunks)
    per_src = [
        _field(c["section"].encode())
        + _field(c["text"].encode())
        + struct.pack(">iiii", 4, int(c["start"]), 4, int(c["end"]))
        for c in chunks
    ]
    head = struct.pack(">h", 7)
    vec_head = struct.pack(">iHH", 4 + 4 * DIM, DIM, 0)
    raw = x.astype(">f4").tobytes()
    width = 4 * DIM
    out, doc_field, doc_k = [], b"", -1
    for j in range(len(x)):
        i = first_id + j
        k = i // n_src
        if k != doc_k:
            doc_field, doc_k = _field(f"{stem}-{k:06d}.txt".encode()), k
        out.append(head + struct.pack(">ii", 4, i) + doc_field + per_src[i % n_src] + vec_head)
        out.append(raw[j * width : (j + 1) * width])
    return b"".join(out)


# -- measuring ------------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def run_queries(conn, queries: np.ndarray, sql: str = QUERY) -> tuple[list[list[int]], list[float]]:
    got, ms = [], []
    with conn.cursor() as cur:
        for q in queries:
            t = time.perf_counter()
            cur.execute(sql, (q,))
            rows = cur.fetchall()
            ms.append((time.perf_counter() - t) * 1000)
            got.append([r[0] for r in rows])
    return got, ms


def recall(got: list[list[int]], truth: list[set[int]]) -> float:
    """Found true neighbours over all true neighbours (a ratio of integers: 0.95 is exactly 0.95)."""
    found = sum(len(set(g) & t) for g, t in zip(got, truth, strict=True))
    return found / sum(len(t) for t in truth)


def connect(url: str):
    import psycopg
    from pgvector.psycopg import register_vector

    conn = psycopg.connect(url, autocommit=True)
    register_vector(conn)
    return conn


def concurrent(url: str, queries: np.ndarray, ef: int, clients: int, rounds: int) -> dict:
    """Each client (thread, own connection) runs all queries `rounds` times in its own order."""
    conns = [connect(url) for _ in range(clients)]
    for c in conns:
        c.execute(f"SET hnsw.ef_search = {int(ef)}")
        run_queries(c, queries[:10])  # warm: prepared statement, caches
    barrier = threading.Barrier(clients + 1)
    lat: list[list[float]] = [[] for _ in range(clients)]

    def work(n: int) -> None:
        order = np.random.default_rng(n).permutation(len(queries))
        barrier.wait()
        for _ in range(rounds):
            lat[n].extend(run_queries(conns[n], queries[order])[1])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    for c in conns:
        c.close()
    all_ms = [m for per in lat for m in per]
    return {
        "clients": clients,
        "queries": len(all_ms),
        "p50_ms": pct(all_ms, 50),
        "p95_ms": pct(all_ms, 95),
        "qps": len(all_ms) / wall,
    }


@contextlib.contextmanager
def progress(url: str, every: float = 60.0) -> Iterator[None]:
    """Log pg_stat_progress_create_index every `every` seconds while an index is built."""
    stop = threading.Event()

    def poll() -> None:
        with contextlib.closing(connect(url)) as conn:
            while not stop.wait(every):
                for phase, done, total in conn.execute(
                    "SELECT phase, tuples_done, tuples_total FROM pg_stat_progress_create_index"
                ).fetchall():
                    log(f"  … {phase}: {done:,}" + (f" / {total:,}" if total else "") + " tuples")

    t = threading.Thread(target=poll, daemon=True)
    t.start()
    try:
        yield
    finally:
        stop.set()
        t.join(timeout=5)


@contextlib.contextmanager
def timed(results: dict, key: str, what: str) -> Iterator[None]:
    log(f"{what} …")
    t = time.perf_counter()
    yield
    results[key] = time.perf_counter() - t
    log(f"{what}: {results[key]:.1f} s")


# -- the benchmark --------------------------------------------------------------------------------
def bench(url: str, args: argparse.Namespace) -> dict:
    chunks, src, gen = load_source(args.index)
    stem = Path(chunks[0]["doc"]).stem
    n = args.chunks
    efs = sorted({int(e) for e in args.ef.split(",") if e.strip()})
    rng_q = np.random.default_rng([args.seed, 10**6])
    noise = Noise(src, args.sigma, args.noise_dim, args.seed)
    queries = noise.make(rng_q.integers(0, len(src), args.queries), rng_q)
    res: dict = {
        "chunks": n,
        "source_chunks": len(chunks),
        "source_generation": gen.name,
        "sigma": args.sigma,
        "noise_dim": args.noise_dim,
        "seed": args.seed,
        "queries": args.queries,
        "ef_search": efs,
        "hnsw": {"m": 16, "ef_construction": 64},
        "baseline_chunks": min(args.baseline_chunks, n),
        "embedding_storage": args.embedding_storage,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "timings_s": {},
        "sizes_mb": {},
    }
    tm = res["timings_s"]
    conn = connect(url)
    res["server"] = conn.execute("SELECT version()").fetchone()[0]
    (res["pgvector"],) = conn.execute(
        "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
    ).fetchone()
    res["settings"] = dict(
        conn.execute(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN ('shared_buffers', "
            "'work_mem', 'max_wal_size', 'max_parallel_workers_per_gather', 'effective_cache_size')"
        ).fetchall()
    )
    exists = conn.execute(
        "SELECT count(*) FROM pg_class WHERE relname = ANY(%s) AND relkind = 'r'",
        ([TABLE, STAGE, BASE_TABLE],),
    ).fetchone()[0]
    if exists and not args.replace:
        raise SystemExit(f"{TABLE} (or a benchmark table) already exists in {redact(url)}; use --replace")
    for t in (TABLE, STAGE, BASE_TABLE):
        conn.execute(f"DROP TABLE IF EXISTS {t}")

    log(f"{n:,} chunks from {len(chunks)} real chunks of {gen.name}, sigma {args.sigma}, seed {args.seed}")
    conn.execute(
        f"CREATE UNLOGGED TABLE {STAGE} (id integer, doc text, section text, text text, "
        "start_offset integer, end_offset integer, embedding vector(384))"
    )
    top = TopK(queries)
    copy_sql = f"COPY {STAGE} (id, doc, section, text, start_offset, end_offset, embedding) FROM STDIN (FORMAT BINARY)"
    with (
        timed(tm, "copy", "binary COPY into the staging table"),
        conn.cursor() as cur,
        cur.copy(copy_sql) as cp,
    ):
        cp.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for first, x in noise.batches(n, args.seed):
            cp.write(copy_rows(first, x, chunks, stem))
            top.add(first, x)
        cp.write(struct.pack(">h", -1))
    truth = top.truth()
    conn.execute(SCHEMA)
    if args.embedding_storage != "default":  # an experiment: the store's schema keeps the type's default
        conn.execute(
            f"ALTER TABLE {TABLE} ALTER COLUMN embedding SET STORAGE {args.embedding_storage.upper()}"
        )
    with timed(tm, "insert_tsvector", "INSERT … SELECT with to_tsvector('simple', text)"):
        conn.execute(
            f"INSERT INTO {TABLE} SELECT id, doc, section, text, start_offset, end_offset, embedding, "
            f"to_tsvector('simple', text) FROM {STAGE} ORDER BY id"
        )
    conn.execute(f"DROP TABLE {STAGE}")
    with timed(tm, "vacuum_analyze", "VACUUM ANALYZE"):
        conn.execute(f"VACUUM ANALYZE {TABLE}")
    with timed(tm, "gin", "GIN index on tsv"):
        conn.execute(f"CREATE INDEX {TABLE}_tsv ON {TABLE} USING gin (tsv)")
    conn.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
    conn.execute("SET max_parallel_maintenance_workers = 1")
    with timed(tm, "hnsw", "HNSW index (m=16, ef_construction=64)"), progress(url):
        conn.execute(
            f"CREATE INDEX {TABLE}_embedding ON {TABLE} USING hnsw (embedding vector_ip_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
    tm["load_total"] = tm["copy"] + tm["insert_tsvector"] + tm["vacuum_analyze"]
    tm["tsvector_gin"] = tm["insert_tsvector"] + tm["gin"]
    mb = 1024 * 1024
    sizes = conn.execute(
        "SELECT pg_database_size(current_database()), pg_table_size(%s), pg_relation_size(%s), "
        "pg_relation_size(%s), pg_relation_size(%s), pg_total_relation_size(%s)",
        (TABLE, f"{TABLE}_embedding", f"{TABLE}_tsv", f"{TABLE}_pkey", TABLE),
    ).fetchone()
    res["sizes_mb"] = dict(
        zip(
            ["database", "table", "hnsw_index", "gin_index", "pkey_index", "table_total"],
            [s / mb for s in sizes],
            strict=True,
        )
    )
    log("sizes (MB): " + ", ".join(f"{k} {v:,.0f}" for k, v in res["sizes_mb"].items()))

    # Baseline: exact search (sequential scan + top-10 sort, no vector index) over a small table.
    b = res["baseline_chunks"]
    conn.execute(f"CREATE TABLE {BASE_TABLE} (LIKE {TABLE})")
    conn.execute(f"INSERT INTO {BASE_TABLE} SELECT * FROM {TABLE} WHERE id < %s", (b,))
    conn.execute(f"VACUUM ANALYZE {BASE_TABLE}")
    base_sql = QUERY.replace(TABLE, BASE_TABLE)
    run_queries(conn, queries, base_sql)  # warm
    _, ms = run_queries(conn, queries, base_sql)
    res["baseline"] = {
        "what": f"exact search (sequential scan) over {b:,} chunks, 1 client",
        "p50_ms": pct(ms, 50),
        "p95_ms": pct(ms, 95),
    }
    log(f"baseline {res['baseline']['what']}: p50 {pct(ms, 50):.2f} ms, p95 {pct(ms, 95):.2f} ms")

    # Exact search over all N in PostgreSQL (few queries: it scans the whole table), as a check of the
    # NumPy ground truth and for what the HNSW index saves.
    k = min(args.exact_queries, len(queries))
    if k:
        # Its own statement text: a plan cached under enable_indexscan=off would outlive the RESET.
        conn.execute("SET enable_indexscan = off")
        got, ms = run_queries(conn, queries[:k], QUERY + " -- exact")
        conn.execute("RESET enable_indexscan")
        res["exact_full"] = {
            "queries": k,
            "recall@10_vs_numpy": recall(got, truth[:k]),
            "p50_ms": pct(ms, 50),
            "p95_ms": pct(ms, 95),
        }
        log(
            f"exact scan over {n:,}: p50 {pct(ms, 50):.0f} ms, agreement with NumPy {recall(got, truth[:k]):.3f}"
        )

    # Recall against exact, per ef_search (1 client; a warm-up pass first).
    run_queries(conn, queries)
    res["per_ef"] = []
    for ef in efs:
        conn.execute(f"SET hnsw.ef_search = {ef}")
        got, ms = run_queries(conn, queries)
        row = {"ef_search": ef, "recall@10": recall(got, truth), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95)}
        res["per_ef"].append(row)
        log(
            f"ef_search {ef}: recall@10 {row['recall@10']:.3f}, p50 {row['p50_ms']:.2f} ms, p95 {row['p95_ms']:.2f} ms"
        )
    ok = [r for r in res["per_ef"] if r["recall@10"] >= TARGET_RECALL]
    chosen = (ok[0] if ok else max(res["per_ef"], key=lambda r: r["recall@10"]))["ef_search"]
    res["chosen_ef"], res["chosen_reaches_target"] = chosen, bool(ok)
    conn.close()

    res["concurrency"] = []
    for clients in (1, 8):
        r = concurrent(url, queries, chosen, clients, rounds=args.rounds)
        res["concurrency"].append(r)
        log(
            f"{clients} client(s) at ef_search {chosen}: p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms, "
            f"{r['qps']:.0f} queries/s"
        )
    if not args.keep and args.store:
        with contextlib.closing(connect(url)) as c:
            c.execute(f"DROP TABLE IF EXISTS {TABLE}, {BASE_TABLE}")
    return res


def markdown(res: dict) -> str:
    tm, sz, base = res["timings_s"], res["sizes_mb"], res["baseline"]
    lines = [
        f"PostgreSQL + pgvector store, {res['chunks']:,} chunks (384-d), HNSW m=16, ef_construction=64; "
        f"{res['machine']['cpus']} CPUs; {res['server'].split(' on ')[0]}, pgvector {res['pgvector']}.",
        "",
        "| step | seconds |",
        "|---|---:|",
        f"| binary COPY (staging table) | {tm['copy']:,.1f} |",
        f"| INSERT … SELECT with to_tsvector | {tm['insert_tsvector']:,.1f} |",
        f"| VACUUM ANALYZE | {tm['vacuum_analyze']:,.1f} |",
        f"| **load total** | **{tm['load_total']:,.1f}** |",
        f"| GIN index on tsv | {tm['gin']:,.1f} |",
        f"| **tsvector + GIN** | **{tm['tsvector_gin']:,.1f}** |",
        f"| **HNSW index** | **{tm['hnsw']:,.1f}** |",
        "",
        "| size | MB |",
        "|---|---:|",
        f"| table (heap + TOAST) | {sz['table']:,.0f} |",
        f"| HNSW index | {sz['hnsw_index']:,.0f} |",
        f"| GIN index | {sz['gin_index']:,.0f} |",
        f"| primary key | {sz['pkey_index']:,.0f} |",
        f"| **database (pg_database_size)** | **{sz['database']:,.0f}** |",
        "",
        f"Baseline (= 1.00×): {base['what']}: p50 {base['p50_ms']:.2f} ms, p95 {base['p95_ms']:.2f} ms.",
        "",
        "| ef_search | recall@10 vs exact | p50 ms (× baseline) | p95 ms (× baseline) |",
        "|---:|---:|---:|---:|",
    ]
    for r in res["per_ef"]:
        mark = " ←" if r["ef_search"] == res["chosen_ef"] else ""
        lines.append(
            f"| {r['ef_search']}{mark} | {r['recall@10']:.3f} | {r['p50_ms']:.2f} ({r['p50_ms'] / base['p50_ms']:.2f}×) "
            f"| {r['p95_ms']:.2f} ({r['p95_ms'] / base['p95_ms']:.2f}×) |"
        )
    target = "" if res["chosen_reaches_target"] else f" (no ef_search reached recall {TARGET_RECALL})"
    lines += [
        "",
        f"At ef_search = {res['chosen_ef']}{target}:",
        "",
        "| clients | p50 ms (× baseline) | p95 ms (× baseline) | queries/s |",
        "|---:|---:|---:|---:|",
    ]
    for r in res["concurrency"]:
        lines.append(
            f"| {r['clients']} | {r['p50_ms']:.2f} ({r['p50_ms'] / base['p50_ms']:.2f}×) "
            f"| {r['p95_ms']:.2f} ({r['p95_ms'] / base['p95_ms']:.2f}×) | {r['qps']:.0f} |"
        )
    if "exact_full" in res:
        e = res["exact_full"]
        lines += [
            "",
            f"Exact search over all {res['chunks']:,} chunks in PostgreSQL (sequential scan, "
            f"{e['queries']} queries): p50 {e['p50_ms']:,.0f} ms ({e['p50_ms'] / base['p50_ms']:.0f}× baseline); "
            f"top-10 agreement with the NumPy ground truth {e['recall@10_vs_numpy']:.3f}.",
        ]
    return "\n".join(lines)


def redact(url: str) -> str:
    """The URL without a password (credentials never go to logs)."""
    from urllib.parse import urlsplit, urlunsplit

    p = urlsplit(url)
    if p.password is None:
        return url
    host = p.hostname or ""
    netloc = f"{p.username}:***@{host}" + (f":{p.port}" if p.port else "")
    return urlunsplit(p._replace(netloc=netloc))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="postgresql://… URL (default: a temporary server)")
    ap.add_argument("--chunks", type=int, default=1_000_000)
    ap.add_argument("--ef", default="20,40,80,160,320", help="hnsw.ef_search values, comma-separated")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "scale_pg_results.json")
    ap.add_argument("--sigma", type=float, default=0.05, help="Gaussian noise per dimension")
    ap.add_argument(
        "--noise-dim",
        type=int,
        default=DIM,
        help="noise in a random subspace of this dimension per source chunk",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--baseline-chunks", type=int, default=10_000)
    ap.add_argument("--exact-queries", type=int, default=10, help="queries for the full exact scan (0: skip)")
    ap.add_argument("--rounds", type=int, default=1, help="passes over the queries per client")
    ap.add_argument("--maintenance-work-mem", default="6GB")
    ap.add_argument(
        "--embedding-storage",
        choices=["default", "plain", "main"],
        default="default",
        help="experiment: STORAGE of the embedding column (default: the vector type's, EXTERNAL = TOASTed)",
    )
    ap.add_argument("--index", type=Path, default=ROOT / "index", help="built index (source chunks, vectors)")
    ap.add_argument("--workdir", type=Path, help="parent folder of the temporary server's data")
    ap.add_argument("--replace", action="store_true", help="drop existing benchmark tables first")
    ap.add_argument("--keep", action="store_true", help="with --store: keep the tables afterwards")
    args = ap.parse_args(argv)
    if args.chunks < 1 or args.queries < 1:
        ap.error("--chunks and --queries must be positive")
    if not 1 <= args.noise_dim <= DIM:
        ap.error(f"--noise-dim must be between 1 and {DIM}")

    with contextlib.ExitStack() as stack:
        url = args.store
        if not url:
            sys.path.insert(0, str(ROOT))
            from tests.pgserver import running_postgres

            tmp = Path(
                stack.enter_context(tempfile.TemporaryDirectory(prefix="ipqa-scale-pg-", dir=args.workdir))
            )
            tmp.chmod(0o711)  # under root the server runs as the postgres user, who must reach tmp/pg
            t = time.perf_counter()
            url = stack.enter_context(running_postgres(tmp, settings=TEMP_SERVER_SETTINGS)).url
            log(f"temporary server {url} started in {time.perf_counter() - t:.1f} s")
        res = bench(url, args)
    res["store"] = redact(args.store) if args.store else "temporary server (tests/pgserver.py)"
    table = markdown(res)
    res["markdown"] = table
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    print("\n" + table + "\n")
    log(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

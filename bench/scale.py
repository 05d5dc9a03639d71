"""How ipqa scales: synthetic corpora of ~10,000 and ~100,000 chunks.

For each size: generate varied documents from the report's sentences (numbers, places and
programme names changed, sentences recombined), `ipqa build` them (build throughput, disk size,
peak RSS), then answer 200 questions in one process (load time, p50/p99 latency, peak RSS), and
compare exact FAISS search with HNSW on the chunk vectors (recall@10 against exact, latency).
Usage:  .venv/bin/python bench/scale.py [--sizes 10000 100000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PLACES = ["Japan", "South Korea", "Singapore", "Taiwan", "mainland China", "Vietnam", "India", "Malaysia"]
SYLLABLES = "ka ri to mo na se lu vi da pe zo ra ki no mi sa te yu ha be".split()


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def _mutate(sentence: str, rng: random.Random, names: list[str]) -> str:
    s = re.sub(r"\d+(?:[.,]\d+)?", lambda m: str(rng.randint(2, 9000)), sentence)
    for p in ("Japan", "South Korea", "Singapore"):
        if p in s and rng.random() < 0.5:
            s = s.replace(p, rng.choice(PLACES), 1)
    if rng.random() < 0.6:
        s = s.rstrip(".") + f", according to the {rng.choice(names)} programme."
    return s


def generate(corpus: Path, target_chunks: int, seed: int = 1) -> int:
    """Write documents until they hold about target_chunks chunks; returns the chunk count."""
    from ipqa.chunking import ChunkerParams, chunk_document
    from ipqa.corpus import load_document, parse_document

    rng = random.Random(seed)
    report = load_document(ROOT / "corpus" / "asia-pacific-digital-ip-report.txt")
    pool = [s.text for s in report.sentences]
    headings = [s.heading for s in report.sections if s.level == 2]
    names = [_name(rng) for _ in range(3000)]
    # A finite pool of distinct sentences, recombined: realistic repetition, and each distinct
    # sentence is embedded once (ipqa's build embeds unique texts only).
    variants = [_mutate(rng.choice(pool), rng, names) for _ in range(max(2000, target_chunks // 2))]
    corpus.mkdir(parents=True, exist_ok=True)
    total, n = 0, 0
    while total < target_chunks:
        lines = []
        for sec in range(1, 41):
            lines.append(f"{sec // 10 + 1}.{sec % 10 + 1} {rng.choice(headings)[4:]} {_name(rng)}")
            for _ in range(3):
                lines.append(" ".join(rng.choice(variants) for _ in range(rng.randint(3, 6))))
        text = "\n".join(lines) + "\n"
        doc = parse_document(f"synthetic-{n:05d}.txt", text, "0")
        total += len(chunk_document(doc, ChunkerParams()))
        (corpus / f"synthetic-{n:05d}.txt").write_text(text, encoding="utf-8")
        n += 1
    return total


def measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        text = out.read().decode()
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{cmd} failed")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, text


def query_child(index_dir: str, corpus_dir: str) -> None:
    """Runs in its own process: load, answer 200 questions, compare exact and HNSW search."""
    import statistics

    import faiss
    import numpy as np

    from ipqa.engine import Engine
    from ipqa.index import HNSW_EF_CONSTRUCTION, HNSW_M
    from ipqa.settings import Settings

    t0 = time.perf_counter()
    engine = Engine(Settings.load(index_dir=Path(index_dir), corpus_dir=Path(corpus_dir)))
    load_s = time.perf_counter() - t0
    golden = [json.loads(line) for f in sorted((ROOT / "eval" / "labelled").glob("*.jsonl"))
              for line in f.open(encoding="utf-8") if line.strip()]  # fmt: skip
    qs = [g["question"] for g in golden if g.get("register") not in (None, "non-english")]
    qs = (qs * 2)[:200]
    ms = []
    for q in qs:
        t = time.perf_counter()
        engine.ask(q)
        ms.append((time.perf_counter() - t) * 1000)
    ms.sort()
    result = {
        "load_s": load_s,
        "p50_ms": statistics.median(ms),
        "p99_ms": ms[int(0.99 * (len(ms) - 1))],
        "index_kind": engine.index.manifest["vector_index"]["kind"],
    }
    # Exact vs HNSW on the same chunk vectors.
    fi = engine.index.faiss_index
    n = fi.ntotal
    vecs = fi.reconstruct_n(0, n) if not hasattr(fi, "hnsw") else fi.storage.reconstruct_n(0, n)
    exact = faiss.IndexFlatIP(vecs.shape[1])
    exact.add(vecs)
    qv = engine.encoder.encode(qs)
    rng = np.random.default_rng(0)
    noisy = vecs[rng.choice(n, 300, replace=False)] + rng.normal(0, 0.05, (300, vecs.shape[1])).astype(
        "float32"
    )
    noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
    queries = np.vstack([qv, noisy]).astype("float32")
    t = time.perf_counter()
    _, truth = exact.search(queries, 10)
    result["exact_ms"] = (time.perf_counter() - t) * 1000 / len(queries)
    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(vecs.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vecs)
    result["hnsw_build_s"] = time.perf_counter() - t
    for ef in (32, 64, 128):
        hnsw.hnsw.efSearch = ef
        t = time.perf_counter()
        _, got = hnsw.search(queries, 10)
        lat = (time.perf_counter() - t) * 1000 / len(queries)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth, strict=True)]))
        result[f"hnsw_ef{ef}"] = {"recall@10": recall, "ms": lat}
    print(json.dumps(result))


def main() -> None:
    if any(a == "--store" or a.startswith("--store=") for a in sys.argv[1:]):  # the PostgreSQL store
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import scale_pg

        scale_pg.main(sys.argv[1:])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--workdir", type=Path)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ipqa-scale-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_VERBOSITY": "error"}
    rows = []
    for size in args.sizes:
        corpus, index = work / f"corpus-{size}", work / f"index-{size}"
        chunks = generate(corpus, size)
        env_i = {**env, "IPQA_CORPUS_DIR": str(corpus), "IPQA_INDEX_DIR": str(index)}
        build_s, build_rss, _ = measured([PY, "-m", "ipqa.cli", "build", "--force"], env_i)
        disk = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 1e6
        _, q_rss, out = measured([PY, __file__, "--child", str(index), str(corpus)], env)
        r = json.loads(out.strip().splitlines()[-1])
        rows.append((size, chunks, build_s, build_rss, disk, r, q_rss))
        print(f"{size}: {chunks} chunks, build {build_s:.0f} s, {json.dumps(r)}", flush=True)
    print("\n| chunks | build (s) | chunks/s | build RSS (MB) | index on disk (MB) | load (s) | ask p50 / p99 (ms) "
          "| RSS (MB) | search | exact ms/query | HNSW ef=128 recall@10, ms/query |")  # fmt: skip
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for _size, chunks, build_s, build_rss, disk, r, q_rss in rows:
        h = r["hnsw_ef128"]
        print(f"| {chunks} | {build_s:.0f} | {chunks / build_s:.0f} | {build_rss:.0f} | {disk:.0f} | {r['load_s']:.1f} "
              f"| {r['p50_ms']:.1f} / {r['p99_ms']:.1f} | {q_rss:.0f} | {r['index_kind']} | {r['exact_ms']:.2f} "
              f"| {h['recall@10']:.3f}, {h['ms']:.2f} |")  # fmt: skip
    for _size, chunks, *_rest in rows:
        r = _rest[3]
        print(f"HNSW at {chunks} chunks: " + ", ".join(
            f"ef={ef}: recall@10 {r[f'hnsw_ef{ef}']['recall@10']:.3f}, {r[f'hnsw_ef{ef}']['ms']:.2f} ms" for ef in (32, 64, 128)
        ))  # fmt: skip


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        query_child(sys.argv[2], sys.argv[3])
    else:
        main()

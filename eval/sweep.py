"""Choose chunk size, overlap and fusion by measurement (run by hand; results in docs/tuning.md).

For each chunker setting a fresh index is built in a temporary folder; each retriever mode and RRF
constant is then scored on the golden set's answerable English questions. Usage:
    .venv/bin/python eval/sweep.py
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from ipqa.engine import Engine, build
from ipqa.evaluation import load_golden, run_golden
from ipqa.settings import Settings

HERE = Path(__file__).parent


def main() -> None:
    items = load_golden(HERE / "golden.jsonl")
    base = Settings.load()
    print("max_chars overlap rrf_k  mode    recall@5  MRR@10  fact_acc  refusal_acc  false_refusals")
    with tempfile.TemporaryDirectory() as tmp:
        for max_chars in (300, 450, 600, 800, 1000):
            for overlap in (0, 1):
                s = replace(base, index_dir=Path(tmp) / f"{max_chars}-{overlap}", chunk_max_chars=max_chars,
                            chunk_overlap=overlap, top_k=10)  # fmt: skip
                build(s)
                for rrf_k in (10, 60):
                    engine = Engine(replace(s, rrf_k=rrf_k), auto_build=False)
                    for mode in ("hybrid", "dense", "bm25") if rrf_k == 60 else ("hybrid",):
                        m = run_golden(
                            items, lambda q, m=mode, e=engine: e.ask(q, retriever=m), engine.index.doc_texts
                        ).metrics
                        print(
                            f"{max_chars:9d} {overlap:7d} {rrf_k:5d}  {mode:6s}  {m['retrieval_recall_at_5']:.3f}"
                            f"     {m['retrieval_mrr_at_10']:.3f}   {m['answer_fact_accuracy']:.3f}     "
                            f"{m['refusal_accuracy']:.3f}        {m['false_refusal_rate']:.3f}",
                            flush=True,
                        )


if __name__ == "__main__":
    main()

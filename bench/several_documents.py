"""What answering from each document that would answer alone costs (engine._other_documents).

One index of the report and a blind read's new documents; the same questions asked by two engines
over it, one with the step off (`other_documents_ratio` above 1, the baseline) and one with it on,
alternating question by question so that drift in machine load hits both alike. Prints the median
and 90th-percentile latency of each and their ratio, and how many answers quote several documents.

Usage:  .venv/bin/python bench/several_documents.py [--read eval/blind/read26] [--questions 120]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--read", default=str(ROOT / "eval" / "blind" / "read26"), help="a blind read's folder")
    ap.add_argument("--questions", type=int, default=120, help="questions asked of each engine")
    args = ap.parse_args()

    from ipqa.building import build
    from ipqa.engine import Engine
    from ipqa.settings import Settings

    read = Path(args.read)
    sets = sorted(p for p in read.glob("*.jsonl") if (read / p.stem).is_dir())
    if not sets:
        print(f"no new-document sets (NAME.jsonl beside NAME/) in {read}", file=sys.stderr)
        return 2
    questions = [json.loads(line)["question"] for s in sets for line in s.open(encoding="utf-8")]
    questions = questions[:: max(1, len(questions) // args.questions)][: args.questions]
    with tempfile.TemporaryDirectory(prefix="ipqa-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        shutil.copy(ROOT / "corpus" / "asia-pacific-digital-ip-report.txt", corpus)
        for s in sets:
            for f in (read / s.stem).iterdir():
                shutil.copy(f, corpus / f.name)
        base = Settings.load(corpus_dir=corpus, index_dir=Path(tmp) / "index", other_documents_ratio=1.01)
        build(base, lambda _: None)
        engines = {
            "off": Engine(base),
            "on": Engine(Settings.load(corpus_dir=corpus, index_dir=base.index_dir)),
        }
        for e in engines.values():  # load the encoders before timing
            e.ask(questions[0])
        ms: dict[str, list[float]] = {"off": [], "on": []}
        several = {"off": 0, "on": 0}
        for q in questions:
            for name, e in engines.items():
                t0 = time.perf_counter()
                ans = e.ask(q)
                ms[name].append((time.perf_counter() - t0) * 1000)
                several[name] += len({c.doc for c in ans.citations}) > 1
    print(f"{len(questions)} questions from {', '.join(s.stem for s in sets)}, asked of the report and "
          f"{len(sets)} documents together")  # fmt: skip
    print("| | median ms | p90 ms |")
    print("|---|---|---|")
    for name in ("off", "on"):
        xs = sorted(ms[name])
        print(f"| {name} | {statistics.median(xs):.0f} | {xs[int(0.9 * (len(xs) - 1))]:.0f} |")
    ratio = statistics.median(ms["on"]) / statistics.median(ms["off"])
    print(
        f"ratio on/off (median): {ratio:.2f}; answers quoting several documents: "
        f"{several['off']} off, {several['on']} on, of {len(questions)}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

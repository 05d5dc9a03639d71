"""Score an answering model on the blind sets, or compare two such scorings question by question.

Each folder under eval/blind/ (read9, read10 …) holds question sets written by people who saw
neither the code nor any labelled question, read once to decide whether a candidate lands
(eval/blind/README.md). A set on
the report (report_*.jsonl) is asked of an index of the report alone; a set on a new document
(NAME.jsonl beside a NAME/ folder) of the report and every new document together.

Usage: python eval/score_blind.py [--model DIR] --sets eval/blind/read9 --out DIR
       python eval/score_blind.py --compare SHIPPED_DIR CANDIDATE_DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from math import comb
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "eval"))

from score_documents import ask_all, auc  # noqa: E402

from ipqa.labels import language_of, load_labelled_file  # noqa: E402


def handled(r: dict) -> bool:
    """Answered with its facts when answerable, refused when not: a wrong answer and a wrong
    refusal weigh the same."""
    return (not r["refused"] and r["fact"]) if r["answerable"] else r["refused"]


def score(corpus_files: list[Path], items: list[dict], model: str | None) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="ipqa-blind-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for f in corpus_files:
            shutil.copy(f, corpus / f.name)
        run, support = ask_all(corpus, Path(tmp) / "index", [dict(it, split="blind") for it in items], model)
    return [
        {"id": r.id, "language": language_of(it), "register": r.category, "answerable": r.answerable,
         "refused": r.refused, "fact": bool(r.fact_ok), "cites": bool(r.cites_gold), "p": support[r.question],
         "citations_valid": r.citations_valid, "citations": r.citations_total,
         "uncited_sentences": r.uncited_sentences, "sentences": r.answer_sentences,
         "supported_sentences": r.grounded_sentences, "question": r.question}
        for it, r in zip(items, run.results, strict=True)
    ]  # fmt: skip


def summary(rows: list[dict]) -> str:
    ans = [r for r in rows if r["answerable"]]
    neg = [r for r in rows if not r["answerable"]]
    answered = [r for r in ans if not r["refused"]]

    def share(xs: list[bool]) -> str:
        return f"{sum(xs) / len(xs):.3f}" if xs else "  -  "

    return (
        f"handled {sum(map(handled, rows)):3d}/{len(rows)}  fact {share([r['fact'] for r in ans])}  "
        f"citation {share([r['cites'] for r in answered])}  refusal {share([r['refused'] for r in neg])}  "
        f"false refusals {share([r['refused'] for r in ans])}  "
        f"AUC {auc([r['p'] for r in ans], [r['p'] for r in neg]):.3f}"
    )


def run_all(model: str | None, sets: Path, out: Path) -> None:
    report = sorted((ROOT / "corpus").iterdir())
    new_docs = [f for d in sorted(p for p in sets.iterdir() if p.is_dir()) for f in sorted(d.iterdir())]
    out.mkdir(parents=True, exist_ok=True)
    for qfile in sorted(sets.glob("*.jsonl")):
        on_report = qfile.stem.startswith("report")
        rows = score(report if on_report else report + new_docs, load_labelled_file(qfile), model)
        tmp = out / f"{qfile.stem}.jsonl.tmp"
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        tmp.replace(out / f"{qfile.stem}.jsonl")
        print(f"{qfile.stem:12s} {summary(rows)}")


def p_worse(better: int, worse: int) -> float:
    """One-sided sign test: how likely at least `worse` of the differing questions go the
    candidate's wrong way if neither model is better."""
    n = better + worse
    return sum(comb(n, k) for k in range(worse, n + 1)) / 2**n if n else 1.0


def compare(shipped: Path, candidate: Path) -> bool:
    """Read 9's rule (eval/TEST_READS.md): pooled handled count no lower, no number significantly
    worse in any set, every citation valid and every answer sentence supported."""
    ok, pooled = True, [0, 0, 0]
    for f in sorted(shipped.glob("*.jsonl")):
        a = {r["id"]: r for r in map(json.loads, f.open(encoding="utf-8"))}
        b = {r["id"]: r for r in map(json.loads, (candidate / f.name).open(encoding="utf-8"))}
        ids = sorted(a)
        pooled[0] += sum(handled(a[i]) for i in ids)
        pooled[1] += sum(handled(b[i]) for i in ids)
        pooled[2] += len(ids)
        print(
            f"{f.stem}: shipped   {summary(list(a.values()))}\n{f.stem}: candidate {summary(list(b.values()))}"
        )
        for name, answerable, value in (
            ("fact", True, lambda r: r["fact"]),
            ("refusal", False, lambda r: r["refused"]),
            ("not falsely refused", True, lambda r: not r["refused"]),
        ):
            q = [i for i in ids if a[i]["answerable"] is answerable]
            better = sum(value(b[i]) and not value(a[i]) for i in q)
            worse = sum(value(a[i]) and not value(b[i]) for i in q)
            p = p_worse(better, worse)
            ok &= p >= 0.05
            print(f"  {name:20s} better {better:2d} worse {worse:2d}  p(worse) {p:.3f}")
        rows = list(b.values())
        ok &= sum(r["citations_valid"] for r in rows) == sum(r["citations"] for r in rows)
        ok &= not sum(r["uncited_sentences"] for r in rows)
        ok &= sum(r["supported_sentences"] for r in rows) == sum(r["sentences"] for r in rows)
    ok &= pooled[1] >= pooled[0]
    print(f"pooled handled: shipped {pooled[0]}/{pooled[2]}, candidate {pooled[1]}/{pooled[2]}")
    print("the rule holds" if ok else "the rule fails")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a folder with answering_model.json and answering_model_cross.json")
    ap.add_argument("--sets", type=Path, help="one read's folder of sets, e.g. eval/blind/read9")
    ap.add_argument("--out", type=Path, help="a folder for each set's per-question outcomes (JSONL)")
    ap.add_argument("--compare", nargs=2, type=Path, metavar=("SHIPPED", "CANDIDATE"))
    args = ap.parse_args()
    if args.compare:
        return 0 if compare(*args.compare) else 1
    if not (args.out and args.sets):
        ap.error("--sets and --out are required unless --compare is given")
    if not args.sets.is_dir():
        ap.error(f"no such folder of blind sets: {args.sets}")
    run_all(args.model, args.sets, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

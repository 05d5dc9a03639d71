"""Score an answering model on documents other than the report: does it carry over?

Each NAME/ folder under eval/other_documents holds a document and NAME.jsonl its labelled
questions (written by people who saw neither the code nor the report's labelled questions). The
documents are indexed together with the report in a temporary folder, so every question also has
the report and the other documents as distractors, as when a user adds documents.

Usage: python eval/score_documents.py [--model DIR] [--only NAME ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ipqa.building import build  # noqa: E402
from ipqa.engine import Engine  # noqa: E402
from ipqa.evaluation import run_items, summarize  # noqa: E402
from ipqa.labels import load_labelled_file  # noqa: E402
from ipqa.model import load_model  # noqa: E402
from ipqa.settings import Settings  # noqa: E402

OTHER = ROOT / "eval" / "other_documents"


def auc(pos: list[float], neg: list[float]) -> float:
    """How often an answerable question's answer probability is above an unanswerable one's
    (undefined, NaN, for a document without both kinds of question)."""
    if not pos or not neg:
        return float("nan")
    return float(roc_auc_score([1] * len(pos) + [0] * len(neg), [*pos, *neg]))


def ask_all(corpus: Path, index: Path, items: list[dict], model: str | None):
    """Build an index of `corpus` in `index`, ask every item with the model in the folder `model`
    (None: the shipped one); the run and each question's answer probability."""
    settings = Settings.load(corpus_dir=corpus, index_dir=index)
    build(settings, lambda _: None)
    kw = {}
    if model:
        kw = {
            "model": load_model(Path(model) / "answering_model.json"),
            "cross_model": load_model(Path(model) / "answering_model_cross.json"),
        }
    engine = Engine(settings, **kw)
    support: dict[str, float] = {}

    def ask(question: str):
        ans = engine.ask(question)
        support[question] = ans.support
        return ans

    return run_items(items, ask, engine.index.doc_texts), support


def metrics(rows: list[dict], results: list) -> dict[str, float]:
    """`ipqa eval`'s own metrics (evaluation.summarize) for these questions, and the AUC."""
    m = {k: float("nan") if v is None else v for k, v in summarize(results).items()}
    return {
        "fact": m["answer_fact_accuracy"],
        "citation": m["citation_support"],  # among answered, as in eval/report.md
        "refusal": m["refusal_accuracy"],
        "false_refusals": m["false_refusal_rate"],
        "auc": auc([r["p"] for r in rows if r["answerable"]], [r["p"] for r in rows if not r["answerable"]]),
        "answerable": sum(r["answerable"] for r in rows),
        "unanswerable": sum(not r["answerable"] for r in rows),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a folder with answering_model.json and answering_model_cross.json")
    ap.add_argument("--only", action="append", default=[], help="a NAME under eval/other_documents")
    ap.add_argument("--out", help="write each question's outcome here (JSONL)")
    args = ap.parse_args()
    names = args.only or sorted(p.stem for p in OTHER.glob("*.jsonl"))
    with tempfile.TemporaryDirectory(prefix="ipqa-docs-") as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        items = []
        for name in names:
            for doc in sorted((OTHER / name).iterdir()):
                shutil.copy(doc, corpus / doc.name)
            items += [dict(it, document=name) for it in load_labelled_file(OTHER / f"{name}.jsonl")]
        run, support = ask_all(corpus, Path(tmp) / "index", items, args.model)
    rows = [
        {"id": r.id, "document": it["document"], "register": r.category, "answerable": r.answerable,
         "refused": r.refused, "fact": bool(r.fact_ok), "cites": bool(r.cites_gold),
         "p": support[r.question], "question": r.question}
        for it, r in zip(items, run.results, strict=True)
    ]  # fmt: skip
    print(f"{len(rows)} questions on {len(names)} documents (English; indexed beside the report)")
    print("document      fact  citation  refusal  false refusals  AUC   (answerable/unanswerable)")
    for name in [*names, "all"]:
        mine = [i for i, r in enumerate(rows) if name in ("all", r["document"])]
        m = metrics([rows[i] for i in mine], [run.results[i] for i in mine])
        print(f"{name:12s}  {m['fact']:.3f}  {m['citation']:.3f}     {m['refusal']:.3f}    {m['false_refusals']:.3f}"
              f"           {m['auc']:.3f} ({m['answerable']}/{m['unanswerable']})")  # fmt: skip
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Learning curve: test-split accuracy of models trained on growing shares of the report's train split.

    .venv/bin/python eval/learning_curve.py

Reporting only: each model is trained exactly as eval/train.py trains, on the other documents'
questions too (settings chosen on dev); only the share of the report's train questions changes.
The test split is read to measure, never to choose. Writes eval/learning_curve.json and .png,
which `ipqa eval` puts into eval/report.md.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "eval"))

import train as T  # noqa: E402

from ipqa.evaluation import score_item, summarize  # noqa: E402
from ipqa.labels import language_of, load_extra_intents, load_extra_kinds, load_labelled  # noqa: E402

SHARES = (0.25, 0.5, 0.75, 1.0)


def main() -> int:
    folder = ROOT / "eval" / "labelled"
    items, corpus_dir = T.with_other_documents(load_labelled(folder), T.other_documents())
    items = T.with_twins(items, log=lambda _m: None)
    extra = load_extra_intents(folder)
    extra_kinds = load_extra_kinds(folder)
    mine = [it for it in items if it["split"] == "train" and not it.get("other_document")]
    train_items = [it for it in mine if not it.get("twin_of")]  # a report twin follows its near miss
    twins = [it for it in mine if it.get("twin_of")]
    others = [it for it in items if it["split"] != "train" or it.get("other_document")]
    test = [
        it
        for it in others
        if it["split"] == "test" and language_of(it) == "en" and not it.get("other_document")
    ]
    trainer = T.make_engine(corpus_dir=corpus_dir)  # the report and the other documents together
    order = list(range(len(train_items)))
    random.Random(0).shuffle(order)
    points = []
    for share in SHARES:
        keep = [train_items[i] for i in sorted(order[: round(share * len(order))])]
        n_questions, kept = len(keep), {it["id"] for it in keep}
        keep += [t for t in twins if t["twin_of"] in kept]
        model = T.train(trainer, keep + others, extra, log=lambda _m: None, extra_kinds=extra_kinds)[
            False
        ]  # the English model
        engine = T.make_engine(model)  # asked as ipqa eval asks: of the report alone
        results = [score_item(it, engine.ask(it["question"]), engine.index.doc_texts) for it in test]
        m = summarize(results)
        decided = [(r.refused != r.answerable) for r in results]
        points.append(
            {
                "train_questions": n_questions,
                "fact_accuracy": m["answer_fact_accuracy"],
                "refusal_accuracy": m["refusal_accuracy"],
                "false_refusal_rate": m["false_refusal_rate"],
                "decision_accuracy": sum(decided) / len(decided),
            }
        )
        print(points[-1])
    out = {
        "points": points,
        "chart": "learning_curve.png",
        "note": "Models trained as eval/train.py trains, on 25–100% of the report's train split and all of the other documents' questions, with the same dev choices, measured on the report's English test questions.",
    }
    (ROOT / "eval" / "learning_curve.json").write_text(json.dumps(out, indent=1) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    xs = [p["train_questions"] for p in points]
    for key, label in (("fact_accuracy", "fact accuracy"), ("refusal_accuracy", "refusal accuracy"),
                       ("decision_accuracy", "answer/refuse accuracy")):  # fmt: skip
        ax.plot(xs, [p[key] for p in points], marker="o", label=label)
    ax.set_xlabel("training questions")
    ax.set_ylabel("test split")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(ROOT / "eval" / "learning_curve.png", metadata={"Software": None})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

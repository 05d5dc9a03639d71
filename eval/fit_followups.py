"""Fit the follow-up resolver's dependence score (ipqa.conversation) on labelled conversations.

Every later turn of `eval/conversations/*.jsonl` in the train split gives its signals (computed
by `conversation.resolve` against the conversation as it went) and its label ("depends").
A logistic regression is fitted on train, its regularisation chosen on dev by rewrite accuracy;
the test split is not read. Writes `src/ipqa/followup_model.json`.

    python eval/fit_followups.py
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ipqa import conversation  # noqa: E402
from ipqa.conversation import Conversation, ask_in_conversation, resolve  # noqa: E402
from ipqa.engine import get_engine  # noqa: E402
from ipqa.evaluation import split_of  # noqa: E402


def rows(engine) -> list[dict]:
    out = []
    for path in sorted((ROOT / "eval" / "conversations").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            conv = json.loads(line)
            split = split_of(conv["id"])
            if split == "test":
                continue  # nothing that tunes reads test
            history = Conversation()
            for n, turn in enumerate(conv["turns"]):
                r = resolve(engine, turn["question"], history)
                if n:
                    out.append({"split": split, "signals": r.signals, "depends": turn["depends"]})
                history = history.add(turn["question"], ask_in_conversation(engine, turn["question"], history,
                                                                            resolved=r), r)  # fmt: skip
    return out


def main() -> None:
    engine = get_engine()
    data = rows(engine)
    names = list(conversation.SIGNALS)
    X = {
        s: np.array([[r["signals"][k] for k in names] for r in data if r["split"] == s])
        for s in ("train", "dev")
    }
    y = {s: np.array([r["depends"] for r in data if r["split"] == s]) for s in ("train", "dev")}
    best = None
    for c in (0.03, 0.1, 0.3, 1.0, 3.0, 10.0):
        m = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(X["train"], y["train"])
        acc = float((m.predict(X["dev"]) == y["dev"]).mean())
        tr = float((m.predict(X["train"]) == y["train"]).mean())
        print(f"C={c}: train {tr:.3f} dev {acc:.3f}")
        if best is None or acc > best[0]:
            best = (acc, c, m)
    acc, c, m = best
    model = {
        "weights": {k: round(float(w), 4) for k, w in zip(names, m.coef_[0], strict=True)},
        "bias": round(float(m.intercept_[0]), 4),
        "fitted_on": f"train split of eval/conversations ({len(y['train'])} turns), C={c} chosen on dev "
        f"({len(y['dev'])} turns, accuracy {acc:.3f})",
    }
    tmp = conversation.MODEL_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    tmp.replace(conversation.MODEL_FILE)
    print(json.dumps(model, indent=2))


if __name__ == "__main__":
    main()

"""The grounding checker's precision and recall on sentences real models wrote, labelled by hand.

`eval/llm_sentences/<model>.dev.raw.jsonl` holds what `eval/collect_llm_sentences.py` recorded (the
model's sentences and the checker's verdict when it ran); `labels.jsonl` says, for each sentence,
whether the passages it cites support it (judged by a person reading them, without the checker's
verdict). Here "positive" is "supported": precision is the share of sentences the checker kept
that are supported; recall the share of supported sentences it kept.

    python eval/llm_verifier.py
"""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = Path(__file__).resolve().parent / "llm_sentences"


def scores() -> dict[str, float | int]:
    verdict = {}
    for raw in sorted(FOLDER.glob("*.raw.jsonl")):
        for line in raw.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for k, s in enumerate(row["sentences"]):
                # supported by its text, whether or not it was then left out as off the point
                verdict[f"{row['id']}#{k}"] = s["supported"] or any(
                    r.startswith(("supported, but", "repeats")) for r in s["reasons"]
                )
    labels = [json.loads(line) for line in (FOLDER / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    tp = sum(verdict[x["id"]] and x["supported"] for x in labels)
    fp = sum(verdict[x["id"]] and not x["supported"] for x in labels)
    fn = sum(not verdict[x["id"]] and x["supported"] for x in labels)
    tn = sum(not verdict[x["id"]] and not x["supported"] for x in labels)
    return {
        "sentences": len(labels),
        "supported (by hand)": tp + fn,
        "kept by the checker": tp + fp,
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "unsupported removed": tn / (tn + fp) if tn + fp else float("nan"),
        "false keeps": fp,
        "false removals": fn,
    }


if __name__ == "__main__":
    for k, v in scores().items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")

"""The grounding checker's precision and recall on sentences real models wrote, labelled by a reviewer.

`eval/llm_sentences/<model>.dev.raw.jsonl` holds what `eval/collect_llm_sentences.py` recorded (the
model's sentences and the checker's verdict when it ran); `labels.jsonl` says, for each sentence,
whether the passages it cites support it (judged by a reviewer reading them — a separate session that never saw the checker's
verdict). Here "positive" is "supported": precision is the share of sentences the checker kept
that are supported; recall the share of supported sentences it kept.

    python eval/llm_verifier.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ipqa.evaluation_llm import verifier_scores

FOLDER = Path(__file__).resolve().parent / "llm_sentences"


if __name__ == "__main__":
    for k, v in verifier_scores(FOLDER).items():
        print(f"{k}: {v:.3f}" if isinstance(v, float) else f"{k}: {v}")

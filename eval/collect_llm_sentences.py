"""Collect sentences a real model wrote, with the passages they cite, for labelling.

Runs the LLM mode on the first 70 questions of the dev split (never test) against a server given by
IPQA_LLM_URL / IPQA_LLM_MODEL and writes eval/llm_sentences/<model>.raw.jsonl: per question the
model's checked sentences and the five passages it was shown. `eval/llm_sentences/labels.jsonl`
holds the labels (supported or not by what the sentence cites); `ipqa eval` does not read
either — `eval/llm_verifier.py` scores the checker on them.

    IPQA_LLM_URL=http://127.0.0.1:8765/v1 IPQA_LLM_MODEL=smollm2 python eval/collect_llm_sentences.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ipqa.evaluation_llm import compare_modes  # noqa: E402
from ipqa.settings import Settings  # noqa: E402


def main() -> None:
    settings = Settings.load()
    folder = ROOT / "eval" / "llm_sentences"
    folder.mkdir(exist_ok=True)
    for split in ("dev",):
        out = folder / f"{settings.llm_model}.{split}.raw.jsonl"
        compare_modes(
            settings, ROOT / "eval", lambda m: print(m, file=sys.stderr), split=split, records=out, limit=70
        )
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()

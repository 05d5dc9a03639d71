"""Choose the refusal threshold from eval/calibration.jsonl (kept apart from the golden set).

Every question is answered once with the support threshold switched off; the other refusal rules
(uncovered place, missing figure, unsupported premise) still apply. Then each candidate threshold
is scored on both sides. The rule: among thresholds that still answer at least 95% of the
answerable questions (the false-refusal bound is 5%), take the one that refuses the most of the
rest; ties go to the lower threshold, i.e. towards answering. Usage: python eval/calibrate.py
"""

from __future__ import annotations

import json
from pathlib import Path

from ipqa.engine import Engine
from ipqa.settings import Settings

HERE = Path(__file__).parent


def main() -> None:
    items = [json.loads(line) for line in (HERE / "calibration.jsonl").open(encoding="utf-8")]
    engine = Engine(Settings.load(refuse_below=-1.0))
    rows = []
    for it in items:
        a = engine.ask(it["question"])
        rows.append((it["answerable"], a.refused, a.support))
    pos = [r for r in rows if r[0]]
    neg = [r for r in rows if not r[0]]
    best = None
    print(f"{len(pos)} answerable, {len(neg)} not answerable")
    print("threshold  answered(answerable)  refused(unanswerable)  balanced")
    for i in range(0, 61):
        t = round(0.10 + i * 0.01, 2)
        tpr = sum(not ref and sup >= t for _, ref, sup in pos) / len(pos)
        tnr = sum(ref or sup < t for _, ref, sup in neg) / len(neg)
        bal = (tpr + tnr) / 2
        if tpr >= 0.95 and (best is None or tnr > best[3] + 1e-9):
            best = (bal, t, tpr, tnr)
        if i % 2 == 0:
            print(f"  {t:.2f}      {tpr:.3f}                 {tnr:.3f}                  {bal:.3f}")
    bal, t, tpr, tnr = best
    print(f"chosen threshold {t:.2f}: answered {tpr:.3f} of answerable, refused {tnr:.3f} of the rest")


if __name__ == "__main__":
    main()

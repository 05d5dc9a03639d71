"""Choose the refusal threshold from eval/calibration.jsonl (kept apart from the golden set).

Every question is answered once with the support threshold switched off; the other refusal rules
(uncovered place, missing figure, unsupported premise) still apply. Then each candidate threshold
is scored by balanced accuracy: the mean of (answerable answered) and (unanswerable refused), so
neither side wins by being more numerous. Several neighbouring thresholds often tie; the middle
of the first best plateau is taken (the widest margin on both sides). Usage: python eval/calibrate.py
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
    grid = [round(0.10 + i * 0.01, 2) for i in range(61)]
    scored = []
    print("threshold  answered(answerable)  refused(unanswerable)  balanced")
    for t in grid:
        tpr = sum(not ref and sup >= t for _, ref, sup in pos) / len(pos)
        tnr = sum(ref or sup < t for _, ref, sup in neg) / len(neg)
        scored.append((t, tpr, tnr, (tpr + tnr) / 2))
        print(f"  {t:.2f}      {tpr:.3f}                 {tnr:.3f}                  {(tpr + tnr) / 2:.3f}")
    top = max(s[3] for s in scored)
    first = next(i for i, s in enumerate(scored) if s[3] > top - 1e-9)
    last = first
    while last + 1 < len(scored) and scored[last + 1][3] > top - 1e-9:
        last += 1
    t, tpr, tnr, bal = scored[(first + last) // 2]
    print(
        f"chosen threshold {t:.2f} (plateau {scored[first][0]:.2f}–{scored[last][0]:.2f}): "
        f"answered {tpr:.3f} of answerable, refused {tnr:.3f} of the rest, balanced {bal:.3f}"
    )


if __name__ == "__main__":
    main()

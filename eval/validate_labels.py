"""Check labelled question files (not the intent- or kind-only example files): schema, verbatim evidence, facts inside their evidence.

Usage: python eval/validate_labels.py eval/labelled/*.jsonl
       python eval/validate_labels.py --corpus eval/other_documents/brazil eval/other_documents/brazil.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ipqa.corpus import load_corpus  # noqa: E402
from ipqa.labels import UNANSWERED_FILES, problems  # noqa: E402


def sentences(corpus: Path = ROOT / "corpus") -> set[str]:
    docs, _ = load_corpus(corpus)
    return {s.text for d in docs for s in d.sentences}


def main(paths: list[str]) -> int:
    corpus = ROOT / "corpus"
    if paths[:1] == ["--corpus"] and len(paths) > 1:  # questions about other documents
        corpus, paths = Path(paths[1]), paths[2:]
    known = sentences(corpus)
    bad = 0
    seen: dict[str, str] = {}
    for path in paths:
        if Path(path).name in UNANSWERED_FILES:
            continue
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path}:{n}: not JSON ({exc})")
                bad += 1
                continue
            ps = problems(item, known)
            q = " ".join(str(item.get("question", "")).lower().split())
            if q in seen:
                ps.append(f"duplicate question (also {seen[q]})")
            seen[q] = f"{path}:{n}"
            for p in ps:
                print(f"{path}:{n}: {item.get('id')}: {p}")
            bad += bool(ps)
    print(f"{len(seen)} questions, {bad} with problems")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""src/ knows no document: none of the report's places, names, currencies or headings, and none of
the eval sets' questions (labelled, other documents, blind reads), appears in the package's code
(comments and docstrings included).

The report's own entities are found with the same general extraction the index uses, so this test
keeps working when documents are added.
"""

from __future__ import annotations

import json
import re

import pytest

from ipqa.corpus import OPENING_LABEL, load_document
from ipqa.entities import Gazetteer, build_gazetteer, names
from ipqa.labels import load_labelled

from .conftest import REPORT, ROOT

SRC = sorted((ROOT / "src" / "ipqa").rglob("*.py"))


@pytest.fixture(scope="module")
def code() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SRC)


@pytest.fixture(scope="module")
def report_entities() -> set[str]:
    gaz = Gazetteer(build_gazetteer())
    doc = load_document(REPORT)
    found: set[str] = set()
    for s in doc.sentences:
        found |= {p.surface for p in gaz.places(s.text)}
        found |= {n for n in names(s.text, gaz) if len(n) >= 4}
    found |= {s.section.split(" ", 1)[-1] for s in doc.sentences if s.section != OPENING_LABEL}
    for m in re.finditer(r"\d[\d,.]*\s+(?:trillion|billion|million)?\s*([A-Za-z]+)", doc.text):
        if m.group(1).lower() in {"yen", "won", "usd", "dollars"}:
            found.add(m.group(1))
    return {e for e in found if len(e) >= 3}


def _mentions(code: str, term: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", code, re.IGNORECASE) is not None


def test_src_names_none_of_the_reports_entities(code, report_entities):
    assert len(report_entities) > 40  # the extraction found the report's places, laws, plans, headings
    ordinary = {"ai", "iot", "r&d", "ip", "eu", "faq", "data", "big data", "conclusion", "ai chips"}
    leaked = sorted(e for e in report_entities if e.lower() not in ordinary and _mentions(code, e))
    assert leaked == [], leaked


def _eval_questions() -> list[str]:
    """Every question of every eval set: the labelled ones, the other documents' and the blind reads'."""
    out = [it["question"] for it in load_labelled(ROOT / "eval" / "labelled")]
    files = sorted((ROOT / "eval" / "other_documents").glob("*.jsonl"))
    files += sorted((ROOT / "eval" / "blind").glob("*/*.jsonl"))
    for f in files:
        out += [json.loads(line)["question"] for line in f.open(encoding="utf-8") if line.strip()]
    return out


def test_src_contains_no_question_of_any_eval_set(code):
    questions = _eval_questions()
    assert len(questions) > 4000  # labelled, other documents and blind reads were all found
    low = " ".join(code.lower().split())
    leaked = [q for q in questions if len(q) > 25 and " ".join(q.lower().split()) in low]
    assert leaked == []


def test_the_check_would_catch_a_leak(report_entities):
    assert any(_mentions('if place == "Singapore": refuse()', e) for e in report_entities)

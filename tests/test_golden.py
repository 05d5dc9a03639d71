"""The golden set is well-formed, verbatim and spread over the whole report."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from ipqa.corpus import load_document
from ipqa.evaluation import CATEGORIES, load_golden, validate_item

from .conftest import REPORT, ROOT

MINIMUM = {"factoid": 15, "numeric": 15, "paraphrase": 8, "comparison": 6, "multi-section": 5, "list": 5,
           "summary": 4, "unanswerable": 8, "out-of-domain": 6, "false-premise": 6, "injection": 6,
           "noisy": 6, "keyword-only": 5, "non-english": 5}  # fmt: skip


@pytest.fixture(scope="module")
def items():
    return load_golden(ROOT / "eval" / "golden.jsonl")


def test_every_item_is_valid(items, report_text):
    problems = {it["id"]: validate_item(it, report_text) for it in items}
    assert {k: v for k, v in problems.items() if v} == {}


def test_size_ids_and_categories(items):
    assert len(items) >= 100
    assert len({it["id"] for it in items}) == len(items)
    counts = Counter(it["category"] for it in items)
    assert set(counts) == set(CATEGORIES)
    for cat, n in MINIMUM.items():
        assert counts[cat] >= n, cat


def test_every_section_has_questions(items):
    doc = load_document(REPORT)
    covered = {s for it in items for s in it["sections"]}
    evidence_sections = set()
    for it in items:
        for ev in it["evidence"]:
            sec = next(s.section for s in doc.sentences if ev == s.text)
            evidence_sections.add(sec)
    subsections = {s.label for s in doc.sections if s.level == 2} | {"Conclusion"}
    assert subsections <= evidence_sections
    assert covered


def test_evidence_is_whole_sentences(items, report_text):
    sentences = {s.text for s in load_document(REPORT).sentences}
    for it in items:
        for ev in it["evidence"]:
            assert ev in sentences, (it["id"], ev[:60])


@pytest.mark.parametrize(
    "breakage",
    [
        lambda it: it["evidence"].__setitem__(0, it["evidence"][0].replace("Japan", "Japn")),
        lambda it: it.pop("answer_facts"),
        lambda it: it.__setitem__("category", "trivia"),
        lambda it: it.__setitem__("answerable", False),
        lambda it: it.__setitem__("answer_facts", [["a fact nowhere in the evidence"]]),
    ],
)
def test_validator_catches_broken_items(items, report_text, breakage):
    good = next(it for it in items if it["answerable"] and "Japan" in it["evidence"][0])
    bad = copy.deepcopy(good)
    breakage(bad)
    assert validate_item(good, report_text) == []
    assert validate_item(bad, report_text) != []

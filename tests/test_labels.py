"""The labelled questions: well-formed, verbatim, spread over registers, split once and for all."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from ipqa.corpus import load_document
from ipqa.labels import REGISTERS, load_labelled, load_labelled_file, problems, split_of

from .conftest import REPORT, ROOT


@pytest.fixture(scope="module")
def items():
    return load_labelled(ROOT / "eval" / "labelled")


@pytest.fixture(scope="module")
def sentences():
    return {s.text for s in load_document(REPORT).sentences}


def test_every_item_is_valid(items, sentences):
    bad = {it["id"]: problems(it, sentences) for it in items}
    assert {k: v for k, v in bad.items() if v} == {}


def test_size_registers_and_unique_questions(items):
    assert len(items) >= 600
    assert len({" ".join(it["question"].lower().split()) for it in items}) == len(items)
    counts = Counter(it["register"] for it in items)
    assert set(counts) <= set(REGISTERS)
    for reg in ("everyday", "typo", "vague", "near-miss", "false-premise", "out-of-domain"):
        assert counts[reg] >= 25, reg
    assert counts["report"] < counts["everyday"]  # mostly the way users talk


def test_split_is_a_fixed_hash_of_the_question(items):
    counts = Counter(it["split"] for it in items)
    assert 0.5 < counts["train"] / len(items) < 0.7
    assert 0.12 < counts["dev"] / len(items) < 0.28 and 0.12 < counts["test"] / len(items) < 0.28
    assert split_of("How does Japan protect trade secrets?") == split_of(
        "  how does JAPAN protect trade secrets? "
    )


def test_every_section_has_questions(items):
    sections = {s.section for s in load_document(REPORT).sentences}
    by_sentence = {s.text: s.section for s in load_document(REPORT).sentences}
    asked = {by_sentence[ev] for it in items for ev in it["evidence"]}
    assert sections <= asked


@pytest.mark.parametrize(
    "breakage",
    ["evidence_part", "fact_not_in_evidence", "unanswerable_with_evidence", "bad_register", "missing_key"],
)
def test_validator_catches_broken_items(items, sentences, breakage):
    item = copy.deepcopy(next(it for it in items if it["answerable"] and it["evidence"]))
    if breakage == "evidence_part":
        item["evidence"][0] = item["evidence"][0][:-5]
    elif breakage == "fact_not_in_evidence":
        item["answer_facts"] = [["zebra crossing"]]
    elif breakage == "unanswerable_with_evidence":
        item["answerable"] = False
    elif breakage == "bad_register":
        item["register"] = "nonsense"
    else:
        del item["intent"]
    assert problems(item, sentences)


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "eval" / "other_documents").glob("*.jsonl")))
def test_other_documents_questions_are_valid(name):
    """Questions about the other documents: evidence verbatim in their own document."""
    folder = ROOT / "eval" / "other_documents" / name
    known = {s.text for doc in sorted(folder.iterdir()) for s in load_document(doc).sentences}
    items = load_labelled_file(ROOT / "eval" / "other_documents" / f"{name}.jsonl")
    assert len(items) >= 60
    assert {it["answerable"] for it in items} == {True, False}
    bad = {it["id"]: problems(it, known) for it in items}
    assert {k: v for k, v in bad.items() if v} == {}


def test_kind_only_examples_are_well_formed_and_not_labelled_questions(items):
    from ipqa.labels import LANGUAGES, load_extra_kinds
    from ipqa.model import KINDS

    extra = load_extra_kinds(ROOT / "eval" / "labelled")
    assert len(extra) >= 200
    assert {e["kind"] for e in extra} == set(KINDS)
    assert {e.get("language", "en") for e in extra} <= set(LANGUAGES)
    asked = {" ".join(it["question"].lower().split()) for it in items}
    own = [" ".join(e["question"].lower().split()) for e in extra]
    assert len(set(own)) == len(own) and not set(own) & asked


def test_a_labelled_file_gets_its_split_and_source(tmp_path):
    from ipqa.labels import load_labelled_file, split_of

    f = tmp_path / "brazil.jsonl"
    f.write_text(
        '{"question": "How long is examination?"}\n\n{"question": "Who runs it?"}\n', encoding="utf-8"
    )
    items = load_labelled_file(f)
    assert [it["source"] for it in items] == ["brazil", "brazil"]
    assert [it["split"] for it in items] == [split_of("How long is examination?"), split_of("Who runs it?")]

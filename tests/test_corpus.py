from __future__ import annotations

from pathlib import Path

import pytest

from ipqa.corpus import OPENING_LABEL, load_corpus, load_document, parse_document, split_sentences
from ipqa.errors import CorpusError

from .conftest import CORPUS, REPORT

EXPECTED_SUBSECTIONS = [
    f"{p}.{s}" for p, n in [(1, 3), (2, 3), (3, 3), (4, 3), (5, 3), (6, 3)] for s in range(1, n + 1)
]


@pytest.fixture(scope="module")
def doc():
    return load_document(REPORT)


def test_sections_have_their_real_headings(doc):
    numbers = [s.number for s in doc.sections]
    assert numbers[0] == "" and doc.sections[0].label == OPENING_LABEL
    parts = [s.number for s in doc.sections if s.level == 1 and s.number]
    assert parts == "I II III IV V VI".split()
    assert [s.number for s in doc.sections if s.level == 2] == EXPECTED_SUBSECTIONS
    assert doc.sections[-1].heading == "Conclusion"
    headings = {s.heading for s in doc.sections}
    assert "I.New Trends in Digital Economy Development" in headings  # no space after "I."
    assert "3.1 Artificial Intelligence Technology Field" in headings
    sub = next(s for s in doc.sections if s.number == "3.1")
    assert sub.part == "III. Protection Analysis in Key Areas"


def test_every_sentence_and_section_body_is_exact(doc):
    assert len(doc.sentences) > 150
    for s in doc.sentences:
        assert doc.text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
    for sec in doc.sections:
        body = doc.text[sec.start : sec.end]
        assert sec.heading not in body or sec.heading == ""


def test_sentences_cover_the_whole_text(doc):
    """Nothing but headings and whitespace falls between sentences."""
    covered = "".join(doc.text[s.start : s.end] for s in doc.sentences)
    headings = "".join(s.heading for s in doc.sections)
    assert len("".join((covered + headings).split())) == len("".join(doc.text.split()))


@pytest.mark.parametrize(
    "fragment",
    [
        "industrial investment reaching 2.8 trillion yen",
        "continue to breakthrough in 5nm and 3nm process technologies",
        "established a 24-hour emergency contact mechanism",
        "actively promoting its “Society 5.0” strategy",
        "“AI Governance Framework 2.0” released in 2023",
    ],
)
def test_tricky_tokens_do_not_break_sentences(doc, fragment):
    assert any(fragment in s.text for s in doc.sentences), fragment


def test_splitter_on_abbreviations_quotes_and_numbers():
    text = "The U.S. office, e.g. the USPTO, grants 2.5 times more. It said “Go.” Then it stopped! Last one"
    spans = split_sentences(text, 0, len(text))
    assert [text[a:b] for a, b in spans] == [
        "The U.S. office, e.g. the USPTO, grants 2.5 times more.",
        "It said “Go.”",
        "Then it stopped!",
        "Last one",
    ]


def test_abbreviation_after_an_opening_bracket_does_not_split():
    text = "The Law on Industrial Data (No. 88-VIII) took effect in 2024. It covers mines (e.g. Kazakh ones)."
    assert [text[a:b] for a, b in split_sentences(text, 0, len(text))] == [
        "The Law on Industrial Data (No. 88-VIII) took effect in 2024.",
        "It covers mines (e.g. Kazakh ones).",
    ]


def test_lowercase_after_period_does_not_split():
    text = "Revenue rose to 5 bn. in 2023 and kept rising."
    assert len(split_sentences(text, 0, len(text))) == 1


def test_crlf_and_offsets():
    text = "Intro line one. Intro two.\r\n1.1 Heading Here\r\nBody sentence one. Body two.\r\n"
    doc = parse_document("x.txt", text, "0")
    assert [s.label for s in doc.sections] == [OPENING_LABEL, "1.1 Heading Here"]
    assert "\r" not in doc.text  # the canonical text ipqa quotes from
    for s in doc.sentences:
        assert doc.text[s.start : s.end] == s.text and "\r" not in s.text


def test_bad_files_are_skipped_with_reasons(tmp_path: Path):
    (tmp_path / "good.txt").write_text("Japan grants patents quickly. That is all.", encoding="utf-8")
    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"abc\x00def")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait.".encode("latin-1"))
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    outside = tmp_path.parent / "outside.txt"
    outside.write_text("Secret text outside the corpus.", encoding="utf-8")
    (tmp_path / "link.txt").symlink_to(outside)
    docs, skipped = load_corpus(tmp_path)
    assert [d.doc for d in docs] == ["good.txt"]
    reasons = " | ".join(skipped)
    for name, why in [("empty.txt", "empty"), ("binary.txt", "binary"), ("latin1.txt", "UTF-8"),
                      ("image.png", "not a supported file type"), ("link.txt", "outside")]:  # fmt: skip
        assert name in reasons and why in reasons


def test_empty_corpus_is_an_error(tmp_path: Path):
    with pytest.raises(CorpusError):
        load_corpus(tmp_path)


def test_the_shipped_corpus_loads():
    docs, skipped = load_corpus(CORPUS)
    assert [d.doc for d in docs] == [REPORT.name] and skipped == []


def test_a_repeated_heading_starts_a_new_section_each_time():
    from ipqa.chunking import ChunkerParams, chunk_document
    from ipqa.formats.markdown import convert_markdown

    text = "# Alpha\n\n## Enforcement\n\nAlpha fines reach 9,000 euros.\n\n# Beta\n\n## Enforcement\n\nBeta jails offenders.\n"
    doc = parse_document("x.md", convert_markdown("x.md", text), "0")
    enforcement = [s for s in doc.sections if s.heading == "Enforcement"]
    assert len(enforcement) == 2 and enforcement[0].id != enforcement[1].id
    assert [s.part for s in enforcement] == ["Alpha", "Beta"]
    chunks = chunk_document(doc, ChunkerParams())
    assert [(c.section, c.text) for c in chunks if c.section.endswith("Enforcement")] == [
        ("Alpha › Enforcement", "Alpha fines reach 9,000 euros."),  # named with its parent: it repeats
        ("Beta › Enforcement", "Beta jails offenders."),
    ]
    once = parse_document("y.md", convert_markdown("y.md", "# Alpha\n\n## Enforcement\n\nFines.\n"), "0")
    assert {s.section for s in once.sentences} == {"Enforcement"}  # a heading used once keeps its name


def test_a_hard_link_into_the_corpus_is_skipped(tmp_path: Path):
    """Hostile probe #15: a hard link to a file outside (e.g. /etc/passwd) is not a document."""
    import os

    (tmp_path / "good.txt").write_text("Japan grants patents quickly. That is all.", encoding="utf-8")
    outside = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    outside.write_text("root:x:0:0:root:/root:/bin/bash", encoding="utf-8")
    os.link(outside, tmp_path / "passwd.txt")
    docs, skipped = load_corpus(tmp_path)
    assert [d.doc for d in docs] == ["good.txt"]
    assert any("passwd.txt: a hard link" in s for s in skipped)

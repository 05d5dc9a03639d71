"""Several documents that share headings, and one document whose headings repeat (real model,
real index).

Every document here has an "Overview" and a "Penalties" section, each about another country, in
three formats (plain text, Markdown, HTML); in mexico.md "Penalties" appears twice, under two
different parents. Nothing here is in the shipped report (Brazil, Kenya, Norway and Mexico are not
covered by it), so each answer can only come from the document it names.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

BRAZIL = """BRAZIL SOFTWARE PROTECTION BRIEFING

Overview
Brazil protects computer programs under its Software Law of 1998, which treats software as a literary work. Registering a program with the National Institute of Industrial Property is optional in Brazil, but the registration serves as evidence of authorship.

Penalties
In Brazil, copying software for commercial purposes without authorisation is punished with 1 to 4 years of imprisonment and a fine. Courts in São Paulo decided 120 software piracy cases in 2022.
"""
KENYA = """# Kenya trade secret briefing

## Overview
Kenya protects trade secrets through the common law of confidence rather than a dedicated statute. Employers in Kenya usually add confidentiality clauses to employment contracts for engineers.

## Penalties
Under the Computer Misuse and Cybercrimes Act of 2018, unlawfully obtaining confidential data in Kenya carries a fine of up to five million shillings. Kenyan courts may also order the return or destruction of the misused information.
"""
NORWAY = """<!doctype html>
<html><head><title>Norway database rights note</title></head>
<body><main><article>
<h1>Norway database rights note</h1>
<h2>Overview</h2>
<p>Norway grants the maker of a database a sui generis right that lasts 15 years from the completion of the database. The right protects a substantial investment in obtaining, verifying or presenting the contents.</p>
<h2>Penalties</h2>
<p>Infringing a database right in Norway can be punished with fines or imprisonment of up to 3 years. The Norwegian police received 35 complaints about copied databases in 2021.</p>
</article></main></body></html>
"""
MEXICO = """# Mexico enforcement review

## Copyright
Mexico's Federal Copyright Law protects software as a literary work for the life of the author plus 100 years.

### Penalties
Copyright infringement in Mexico is punished with fines of up to 40,000 units of measure and update.

## Trade secrets
Mexico protects trade secrets under the Federal Law for the Protection of Industrial Property, in force since November 2020.

### Penalties
Disclosing a trade secret in Mexico without consent is punished with 2 to 6 years in prison.
"""
FILES = {"brazil.txt": BRAZIL, "kenya.md": KENYA, "norway.html": NORWAY, "mexico.md": MEXICO}
TITLES = {
    "brazil.txt": "BRAZIL SOFTWARE PROTECTION BRIEFING",
    "kenya.md": "Kenya trade secret briefing",
    "norway.html": "Norway database rights note",
    "mexico.md": "Mexico enforcement review",
}

# (question, document, section heading, the parent heading of that section, words the cited
# sentence states)
QUESTIONS = [
    ("How long can someone be imprisoned in Brazil for copying software to sell it?", "brazil.txt",
     "Penalties", TITLES["brazil.txt"], "1 to 4 years"),
    ("Is registering a computer program required in Brazil?", "brazil.txt",
     "Overview", TITLES["brazil.txt"], "optional"),
    ("What fine applies to unlawfully obtaining confidential data in Kenya?", "kenya.md",
     "Penalties", TITLES["kenya.md"], "five million shillings"),
    ("How does Kenya protect trade secrets?", "kenya.md",
     "Overview", TITLES["kenya.md"], "common law of confidence"),
    ("How long does the database right last in Norway?", "norway.html",
     "Overview", TITLES["norway.html"], "15 years"),
    ("What punishment can infringing a database right bring in Norway?", "norway.html",
     "Penalties", TITLES["norway.html"], "3 years"),
    ("What fine applies to copyright infringement in Mexico?", "mexico.md",
     "Penalties", "Copyright", "40,000"),
    ("What is the prison term for disclosing a trade secret in Mexico?", "mexico.md",
     "Penalties", "Trade secrets", "2 to 6 years"),
]  # fmt: skip


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    from ipqa.building import build
    from ipqa.engine import Engine
    from ipqa.settings import Settings

    root = tmp_path_factory.mktemp("corpora")
    (root / "corpus").mkdir()
    for name, text in FILES.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    settings = Settings.load(corpus_dir=root / "corpus", index_dir=root / "index")
    build(settings)
    return Engine(settings)


def _section_at(engine, doc: str, offset: int):
    """The section whose body holds this offset of the document's text (one, or the test fails)."""
    found = [s for s in engine.index.documents[doc].sections if s.start <= offset < s.end]
    assert len(found) == 1, (doc, offset, found)
    return found[0]


def _check_quotes(engine, ans) -> None:
    for c in ans.citations:
        assert engine.index.doc_texts[c.doc][c.start : c.end] == c.quote
    for p in ans.retrieved:
        assert engine.index.doc_texts[p.doc][p.start : p.end] == p.text


def test_every_document_and_its_sections_are_indexed(engine):
    assert sorted(engine.index.documents) == sorted(FILES)
    assert {d: engine.index.title_of(d) for d in FILES} == TITLES
    kinds = {d: engine.index.documents[d].kind for d in FILES}
    assert kinds == {
        "brazil.txt": "text",
        "kenya.md": "markdown",
        "norway.html": "html",
        "mexico.md": "markdown",
    }
    for doc in FILES:  # the shared headings, in every format
        headings = [s.heading for s in engine.index.documents[doc].sections]
        assert headings.count("Penalties") == (2 if doc == "mexico.md" else 1), headings
    penalties = [s for s in engine.index.documents["mexico.md"].sections if s.heading == "Penalties"]
    assert [s.part for s in penalties] == ["Copyright", "Trade secrets"]
    assert penalties[0].id != penalties[1].id and penalties[0].end <= penalties[1].start


@pytest.mark.parametrize(("question", "doc", "heading", "parent", "words"), QUESTIONS)
def test_each_question_is_answered_from_its_document_and_section(
    engine, question, doc, heading, parent, words
):
    """Right document (each place is in one document only), right section, the right one of two
    sections with the same heading, and the quote is the document's text at its offsets."""
    ans = engine.ask(question)
    assert not ans.refused, ans.answer
    _check_quotes(engine, ans)
    assert {c.doc for c in ans.citations} == {doc}  # the place is in this document only
    first = ans.citations[0]
    assert words in first.quote
    shown = f"{parent} › {heading}" if doc == "mexico.md" else heading  # the repeated heading with its parent
    assert (first.section, first.title) == (shown, TITLES[doc])
    section = _section_at(engine, doc, first.start)
    assert (section.heading, section.part) == (heading, parent)  # which "Penalties", for mexico.md
    assert first.end <= section.end


def test_chunks_never_straddle_two_documents_or_two_sections(engine):
    idx = engine.index
    by_doc: dict[str, int] = {}
    for chunk in idx.chunks:
        by_doc[chunk.doc] = by_doc.get(chunk.doc, 0) + 1
        assert chunk.id.startswith(f"{chunk.doc}#")
        assert idx.doc_texts[chunk.doc][chunk.start : chunk.end] == chunk.text
        rows = [idx.sentences[idx.sentence_row(chunk.doc, i)] for i in chunk.sentence_ids]
        assert {s.doc for s in rows} == {chunk.doc}
        assert len({s.section_id for s in rows}) == 1  # one section: the two "Penalties" stay apart
        section = _section_at(engine, chunk.doc, chunk.start)
        assert section.start <= chunk.start and chunk.end <= section.end
        assert chunk.section in (section.heading, f"{section.part} › {section.heading}")
    assert set(by_doc) == set(FILES)
    mexico_penalties = {
        (c.section, _section_at(engine, "mexico.md", c.start).part)
        for c in idx.chunks
        if c.doc == "mexico.md" and c.section.endswith("Penalties")
    }  # the two sections named apart, each by its own parent
    assert mexico_penalties == {
        ("Copyright › Penalties", "Copyright"),
        ("Trade secrets › Penalties", "Trade secrets"),
    }


def test_the_docs_filter_keeps_the_answer_inside_one_document(engine):
    question = "What penalties apply to infringement?"
    everywhere = engine.ask(question)
    assert len({p.doc for p in everywhere.retrieved}) >= 3  # unfiltered, it finds every "Penalties"
    for name, doc in (
        ("kenya", "kenya.md"),
        ("NORWAY.HTML", "norway.html"),
        ("Mexico enforcement review", "mexico.md"),
    ):
        docs = engine.resolve_docs([name])
        assert docs == frozenset({doc})
        ans = engine.ask(question, docs=docs)
        _check_quotes(engine, ans)
        assert ans.retrieved and {p.doc for p in ans.retrieved} == {doc}
        assert {c.doc for c in ans.citations} <= {doc}


def test_a_question_about_one_document_asked_of_another_is_not_answered_from_the_first(engine):
    ans = engine.ask("What are the penalties for copying software in Brazil?",
                     docs=engine.resolve_docs(["kenya.md"]))  # fmt: skip
    assert {p.doc for p in ans.retrieved} == {"kenya.md"}
    assert ans.refused or {c.doc for c in ans.citations} == {"kenya.md"}
    assert "1 to 4 years" not in ans.answer


def test_a_place_no_document_mentions_is_refused(engine):
    ans = engine.ask("What are the penalties for software piracy in Argentina?")
    assert ans.refused and not ans.citations
    assert "Argentina" in ans.answer
    assert ans.closest_sections  # named with their documents' titles, since there are several
    assert all(s.split(": ", 1)[0] in TITLES.values() for s in ans.closest_sections), ans.closest_sections

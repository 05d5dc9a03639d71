"""Documents a user adds: every format end to end (real model, real FAISS), `ipqa add`, `--doc`.

The fixtures are generated in code (tests/docfixtures.py) and are about countries the shipped
report does not cover, so every answer below can only come from the added document.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from . import docfixtures as fx
from .conftest import REPORT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The report plus one document of each format, a scanned and an encrypted PDF; built once."""
    from ipqa.building import build
    from ipqa.engine import Engine
    from ipqa.settings import Settings

    root = tmp_path_factory.mktemp("library")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    fx.make_pdf(corpus / "indonesia-outlook.pdf")
    fx.make_docx(corpus / "vietnam-review.docx")
    fx.make_html(corpus / "thailand-reform.html")
    fx.make_markdown(corpus / "malaysia-handbook.md")
    fx.make_scanned_pdf(corpus / "scanned.pdf")
    fx.make_encrypted_pdf(corpus / "locked.pdf")
    settings = Settings.load(corpus_dir=corpus, index_dir=root / "index")
    logs: list[str] = []
    build(settings, logs.append)
    return Engine(settings), logs


# (question in a user's words, document, exact sentence expected among the citations)
QUESTIONS = [
    ("How many trademark applications did Indonesia's IP office get in 2024?", "indonesia-outlook.pdf",
     "The Directorate General of Intellectual Property received 128,400 trademark applications in 2024."),
    ("How long does it take to get a trademark registered in Indonesia now?", "indonesia-outlook.pdf",
     "The average time from filing to registration of a trademark in Indonesia fell to 14 months in 2024."),
    ("Which Indonesian regional office handled the most design applications?", "indonesia-outlook.pdf",
     fx.PDF_WRAPPED_SENTENCE),
    ("How many fake listings did online marketplaces in Indonesia take down?", "indonesia-outlook.pdf",
     "Marketplace operators removed 48,000 counterfeit listings after notices from rights holders in 2024."),
    ("When did Vietnam's amended IP law come into force?", "vietnam-review.docx",
     "The amended Law on Intellectual Property took effect on 1 January 2023."),
    ("Can we register a sound as a trademark in Vietnam?", "vietnam-review.docx",
     "Sound marks became registrable in Vietnam for the first time under the amended law."),
    ("How many counterfeit shipments did customs stop at Hai Phong?", "vietnam-review.docx",
     "Customs officers at Hai Phong port suspended the clearance of 37 shipments of suspected counterfeit goods in 2024."),
    ("How big is Thailand's patent backlog?", "thailand-reform.html",
     "Thailand had a backlog of more than 15,000 pending patent applications at the end of 2024."),
    ("How long do design patents last in Thailand after the reform?", "thailand-reform.html",
     "Design patent terms were extended from 10 to 15 years."),
    ("How long does a patent examination take in Malaysia?", "malaysia-handbook.md",
     "Substantive examination of a patent in Malaysia takes about 30 months on average."),
    ("How many raids were carried out against counterfeit sellers in Malaysia?", "malaysia-handbook.md",
     "The Ministry of Domestic Trade conducted 1,140 raids against counterfeit sellers in 2024."),
]  # fmt: skip


def _facts_by_sentence() -> dict[str, fx.Fact]:
    return {f.sentence: f for facts in fx.FACTS.values() for f in facts}


def test_the_build_lists_each_document_and_why_files_were_skipped(library):
    engine, logs = library
    text = "\n".join(logs)
    assert "scanned.pdf: no text layer (scanned?)" in text
    assert "locked.pdf: encrypted" in text
    for name in (
        "indonesia-outlook.pdf",
        "vietnam-review.docx",
        "thailand-reform.html",
        "malaysia-handbook.md",
    ):
        assert any(name in line and "sections" in line for line in logs)
    assert any("indonesia-outlook.pdf: 4 pages" in line for line in logs)
    assert set(engine.index.documents) == {
        REPORT.name,
        "indonesia-outlook.pdf",
        "vietnam-review.docx",
        "thailand-reform.html",
        "malaysia-handbook.md",
    }


def test_titles_come_from_the_documents(library):
    engine, _ = library
    titles = {d.doc: d.title for d in engine.documents()}
    assert titles["indonesia-outlook.pdf"] == fx.PDF_TITLE
    assert titles["vietnam-review.docx"] == fx.DOCX_TITLE
    assert titles["thailand-reform.html"] == fx.HTML_TITLE
    assert titles["malaysia-handbook.md"] == fx.MARKDOWN_TITLE


def test_every_stored_sentence_is_exact_in_its_canonical_text(library):
    engine, _ = library
    texts = engine.index.doc_texts
    for s in engine.index.sentences:
        assert texts[s.doc][s.start : s.end] == s.text
    for c in engine.index.chunks:
        assert texts[c.doc][c.start : c.end] == c.text


def test_boilerplate_is_not_indexed(library):
    engine, _ = library
    indexed = "\n".join(s.text for s in engine.index.sentences)
    for junk in fx.HTML_BOILERPLATE:
        assert junk not in indexed
    assert not any(s.text.startswith(("Page ", fx.PDF_TITLE)) for s in engine.index.sentences)
    assert "**" not in indexed and "](" not in indexed and "## " not in indexed


@pytest.mark.parametrize(("question", "doc", "sentence"), QUESTIONS)
def test_questions_are_answered_from_the_right_document_page_and_section(library, question, doc, sentence):
    engine, _ = library
    ans = engine.ask(question)
    assert not ans.refused, ans.answer
    cited = {c.quote: c for c in ans.citations}
    assert sentence in cited, (ans.answer, list(cited))
    c = cited[sentence]
    fact = _facts_by_sentence()[sentence]
    assert c.doc == doc and c.page == fact.page
    assert c.section.rsplit(" › ", 1)[-1] == fact.section  # a repeated heading is shown with its parent
    assert c.title == engine.index.title_of(doc)
    assert engine.index.doc_texts[doc][c.start : c.end] == c.quote


def test_citations_and_passages_carry_pages_in_the_json(library, schema):
    import jsonschema

    engine, _ = library
    ans = engine.ask("How many trademark cancellation cases did the Jakarta court decide?")
    out = ans.to_json()
    jsonschema.validate(out, schema)
    c = next(c for c in out["citations"] if "Commercial Court in Jakarta" in c["quote"])
    assert (c["page"], c["title"]) == (3, fx.PDF_TITLE)
    assert any(p["doc"] == "indonesia-outlook.pdf" and p["page"] in (2, 3) for p in out["retrieved"])
    assert "p. 3, 3. Enforcement and Dispute Resolution" in ans.citations[0].place or any(
        "p. 3" in x.place for x in ans.citations
    )


def test_a_question_can_be_restricted_to_one_document(library):
    engine, _ = library
    docs = engine.resolve_docs(["malaysia-handbook"])
    ans = engine.ask("How many trademarks were registered in 2024?", docs=docs)
    assert {c.doc for c in ans.citations} <= {"malaysia-handbook.md"} and ans.citations
    assert {p.doc for p in ans.retrieved} == {"malaysia-handbook.md"}
    assert engine.resolve_docs([fx.PDF_TITLE.upper()]) == frozenset({"indonesia-outlook.pdf"})
    from ipqa.errors import InputError

    with pytest.raises(InputError, match="no document named 'nope'"):
        engine.resolve_docs(["nope"])


def test_refusals_name_the_closest_documents(library):
    engine, _ = library
    ans = engine.ask("What is the fine for selling counterfeit goods in Peru?")
    assert ans.refused
    assert any(":" in s for s in ans.closest_sections)  # "Title: section" with several documents


# ---------------------------------------------------------------- the CLI


def _ipqa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "ipqa.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **env},
    )


def test_ipqa_add_copies_checks_by_content_and_never_overwrites(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    env = {"IPQA_CORPUS_DIR": str(corpus), "IPQA_INDEX_DIR": str(tmp_path / "index")}
    pdf = fx.make_pdf(tmp_path / "outlook.txt")  # a PDF with a misleading name
    r = _ipqa("add", str(pdf), env=env)
    assert r.returncode == 0, r.stderr
    assert (corpus / "outlook.pdf").read_bytes() == pdf.read_bytes()
    assert "indexed" in r.stderr and "outlook.pdf: 4 pages" in r.stderr
    r = _ipqa("ask", "--json", "--doc", "outlook", "How many internet users does Indonesia have?", env=env)
    out = json.loads(r.stdout)
    assert out["citations"] and out["citations"][0]["page"] == 1
    r = _ipqa("ask", "--doc", "outlook", "How many internet users does Indonesia have?", env=env)
    assert f"{fx.PDF_TITLE}, p. 1, 1. Market Overview" in r.stdout
    # the same content again: nothing to do; other content under the same name: refused
    assert _ipqa("add", str(pdf), env=env).returncode == 0
    other = fx.make_docx(tmp_path / "outlook.pdf.docx")
    (tmp_path / "x").mkdir()
    clash = tmp_path / "x" / "outlook.pdf"
    clash.write_bytes(fx.make_pdf(tmp_path / "y.pdf").read_bytes() + b"\n%changed\n")
    r = _ipqa("add", str(clash), env=env)
    assert r.returncode == 2 and "already exists" in r.stderr and "Traceback" not in r.stderr
    assert (corpus / "outlook.pdf").read_bytes() == pdf.read_bytes()
    scanned = fx.make_scanned_pdf(tmp_path / "scan.pdf")
    r = _ipqa("add", str(scanned), str(other), env=env)
    assert r.returncode == 2 and "no text layer (scanned?)" in r.stderr
    assert not (corpus / "scan.pdf").exists() and not (corpus / "outlook.pdf.docx").exists()
    r = _ipqa("docs", env=env)
    assert r.returncode == 0 and fx.PDF_TITLE in r.stdout and "2.1 Examination Times" in r.stdout

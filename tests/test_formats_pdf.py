"""PDF: running headers and page numbers gone, paragraphs rejoined across lines and pages, exact pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ipqa.errors import CorpusError
from ipqa.formats import check_converted, convert
from ipqa.formats.pdf import build, drop_page_furniture

from . import docfixtures as fx
from .docfixtures import headings_of, page_of, section_of


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory):
    path = fx.make_pdf(tmp_path_factory.mktemp("pdf") / "indonesia-outlook.pdf")
    return convert(path.name, path.read_bytes())


def test_structure(pdf):
    check_converted(pdf)
    assert pdf.kind == "pdf"
    assert pdf.title == fx.PDF_TITLE  # from the metadata
    assert headings_of(pdf) == fx.PDF_HEADINGS
    for h in pdf.headings:
        assert pdf.text[h.start : h.end] in pdf.text.split("\n")


def test_pages(pdf):
    assert len(pdf.pages) == 4 and pdf.pages[0] == 0
    assert all(a < b for a, b in zip(pdf.pages, pdf.pages[1:], strict=False))
    assert pdf.text[pdf.pages[1] :].startswith("2. Trademark Filings")
    # page 3 begins inside the paragraph that wraps across the break: at its first word
    assert pdf.text[pdf.pages[2] :].startswith("any other regional office in the Riau Islands")
    assert pdf.text[pdf.pages[3] :].startswith("4. Outlook")


@pytest.mark.parametrize("fact", fx.PDF_FACTS, ids=lambda f: f.sentence[:30])
def test_facts_are_on_their_page_and_in_their_section(pdf, fact):
    at = pdf.text.index(fact.sentence)
    assert page_of(pdf, at) == fact.page
    assert section_of(pdf, at) == fact.section
    assert "\n" not in fact.sentence


def test_running_header_and_page_numbers_are_gone(pdf):
    assert fx.PDF_TITLE not in pdf.text
    assert not re.search(r"\bPage \d", pdf.text)
    assert not any(re.fullmatch(r"\d+", line) for line in pdf.text.split("\n"))


def test_sentence_across_the_page_break_is_one_line(pdf):
    assert any(fx.PDF_WRAPPED_SENTENCE in line for line in pdf.text.split("\n"))


def test_hyphenated_word_is_joined(pdf):
    assert fx.PDF_HYPHENATED_SENTENCE in pdf.text
    assert "protec-" not in pdf.text and "protec " not in pdf.text


def test_pdf_named_txt_is_still_a_pdf(tmp_path: Path):
    data = fx.make_pdf(tmp_path / "a.pdf").read_bytes()
    c = convert("outlook.txt", data)
    assert c.kind == "pdf" and headings_of(c) == fx.PDF_HEADINGS


def test_scanned_pdf_has_no_text_layer(tmp_path: Path):
    path = fx.make_scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(CorpusError, match=r"^scan\.pdf: no text layer \(scanned\?\)$"):
        convert(path.name, path.read_bytes())


def test_encrypted_pdf(tmp_path: Path):
    path = fx.make_encrypted_pdf(tmp_path / "secret.pdf")
    with pytest.raises(CorpusError, match=r"^secret\.pdf: encrypted"):
        convert(path.name, path.read_bytes())


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\nthis is not really a pdf\n%%EOF\n",
        b"%PDF-",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
)
def test_corrupt_pdf_is_a_clear_error(data: bytes):
    with pytest.raises(CorpusError) as err:
        convert("broken.pdf", data)
    message = str(err.value)
    assert message.startswith("broken.pdf: ") and "\n" not in message
    assert "cannot be read as PDF" in message or "no text layer" in message


def test_truncated_pdf_is_a_clear_error(tmp_path: Path):
    data = fx.make_pdf(tmp_path / "a.pdf").read_bytes()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        try:
            c = convert("cut.pdf", data[:cut])
        except CorpusError as exc:
            assert str(exc).startswith("cut.pdf: ")
        else:  # pypdf may recover the pages it can find; then the result must still be sound
            check_converted(c)


def test_big_pdf_generator_smoke(tmp_path: Path):
    path = fx.make_big_pdf(tmp_path / "big.pdf", pages=9)
    c = convert(path.name, path.read_bytes())
    check_converted(c)
    assert len(c.pages) == 9 and len(c.headings) == 3
    assert (
        "Regional IP Statistics Compendium" not in c.text and c.title == "Regional IP Statistics Compendium"
    )
    assert not re.search(r"\bPage \d", c.text)


@pytest.mark.parametrize(
    "number", ["7", "- 7 -", "– 7 –", "Page 7", "page 7 of 12", "7 / 12", "vii", "PAGE 7"]
)
def test_lone_page_numbers_are_dropped(number: str):
    pages = [["Some heading text", "Body line one of the page.", number]]
    assert drop_page_furniture(pages) == [["Some heading text", "Body line one of the page."]]


def test_page_numbers_only_at_page_edges_and_words_kept():
    pages = [["Intro line.", "Second line.", "7", "More text.", "Last line."], ["CIVIL", "Mix"]]
    assert drop_page_furniture(pages) == pages


def test_headers_need_to_repeat_on_enough_pages():
    two = [["Vietnam Brief", "Body A."], ["Vietnam Brief", "Body B."]]
    assert drop_page_furniture(two) == [["Body A."], ["Body B."]]
    four = [["Draft 2", "Body A."], ["Other", "Body B."], ["Another", "Body C."], ["Draft 7", "Body D."]]
    assert drop_page_furniture(four) == four  # on 2 of 4 pages: fewer than 3
    bodies = [
        "Filings rose.",
        "Fees fell.",
        "Courts sat.",
        "Offices opened.",
        "Staff grew.",
        "Rules changed.",
    ]
    six = [[f"Confidential draft {i}", body] for i, body in enumerate(bodies)]
    assert drop_page_furniture(six) == [[body] for body in bodies]


def test_build_without_metadata_title_and_with_an_empty_page():
    pages = [
        [
            "Thai Trademark Bulletin",
            "The bulletin lists trademarks published for opposition in Thailand this month.",
        ],
        [],
        ["Oppositions must be filed within 60 days of publication in the bulletin."],
    ]
    c = build("bulletin.pdf", pages)
    check_converted(c)
    assert c.title == "Thai Trademark Bulletin"
    assert c.pages[1] == c.pages[2] == c.text.index("Oppositions")
    assert page_of(c, c.text.index("Oppositions")) == 3
    assert build("plain-notes.pdf", [["just some lower case text without a title."]]).title == "Plain notes"


def test_lines_rejoin_by_width_and_punctuation():
    wide = "x" * 60
    pages = [
        [
            f"The office of Thailand received {wide} applications",  # full width, unfinished
            "Many Applicants Then Waited",  # continues it
            "Figure 2 Patent filings by year",  # short, unfinished, then a capital: stands alone
            "Applications came mostly from abroad.",  # short and finished
            f"Foreign firms filed {wide} more than local ones.",  # full width and finished: continues
            "Local firms caught up in 2024.",
        ]
    ]
    c = build("w.pdf", pages)
    assert c.text.split("\n") == [
        f"The office of Thailand received {wide} applications Many Applicants Then Waited",
        "Figure 2 Patent filings by year",
        "Applications came mostly from abroad.",
        f"Foreign firms filed {wide} more than local ones. Local firms caught up in 2024.",
    ]


def test_chapter_running_heads_with_page_numbers_are_dropped():
    """Book-style heads change with each chapter, so they do not repeat on half the pages."""
    words = "marks designs patents courts customs fees agents appeals renewals oppositions".split()
    pages = [["Contents", "1 Filing", "2 Enforcement"]]  # printed page numbers start on the 2nd page
    for p in range(1, 9):
        chapter = "1: Filing" if p <= 4 else "2: Enforcement"
        head = f"Chapter {chapter} {p}" if p % 2 else f"{p} Vietnam Trademark Guide"
        a, b, c = words[p % 10], words[(p + 3) % 10], words[(p + 6) % 10]
        pages.append(
            [head, f"Vietnam {a} rose.", f"The office handled {b} quickly.", f"Courts reviewed {c}."]
        )
    kept = drop_page_furniture(pages)
    assert all(not line.startswith(("Chapter ", "Vietnam Trademark Guide")) for page in kept for line in page)
    assert all(not any(line.endswith("Vietnam Trademark Guide") for line in page) for page in kept)
    assert kept[0] == ["Contents", "1 Filing", "2 Enforcement"]
    assert all(len(page) == 3 for page in kept[1:])


def test_numbered_heading_at_the_top_of_a_page_after_an_unfinished_line():
    wide = "Thailand reported many applications for industrial designs during the year under review and"
    pages = [
        [wide, "Summary table of filings by province without a final stop"],
        ["3 Enforcement", "Courts in Bangkok decided 140 design cases in 2024."],
    ]
    c = build("t.pdf", pages)
    assert headings_of(c) == [("3 Enforcement", 1, "3")]
    assert c.pages[1] == c.text.index("3 Enforcement")


def test_title_fallback_skips_numbered_headings():
    pages = [["1. Introduction", "The Lao office publishes its statistics once a year in March."]]
    assert build("lao_stats.pdf", pages).title == "Lao stats"


def test_large_type_makes_headings_where_the_line_rules_cannot(tmp_path: Path):
    """A brief's cover lines: a two-line title in large type, a byline without a full stop, then
    "1. Purpose and summary" in heading type. The line rules alone take the title for text (a
    long line in sentence case) and the first heading for a byline's continuation; the type
    sizes settle both. A sentence in large type (a pull quote) stays text."""
    pdf = fx._fpdf(header=None)  # no metadata title: the title must come from the page
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("Helvetica", "B", 17)
    pdf.cell(0, 9, "Entering Laos: Hydropower Technology, Coffee and", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, "Intellectual Property", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "I", 11)
    pdf.cell(
        0, 6, "Policy brief for companies planning to enter the Lao market", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.cell(0, 6, "Prepared by the Mekong Trade Advisory Unit, March 2025", new_x="LMARGIN", new_y="NEXT")
    body = "Laos registered 1,200 trademarks in 2024 and plans to digitise all of its records soon. " * 4
    for number, heading in (("1.", "Purpose and summary"), ("2.", "Hydropower technology")):
        pdf.set_font("Helvetica", "B", 13)
        pdf.cell(0, 8, f"{number} {heading}", new_x="LMARGIN", new_y="NEXT")
        for line in fx._wrap(pdf, body.split(), width):
            pdf.set_font("Helvetica", "", 10.5)
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(0, 8, "Coffee exports doubled in five years.", new_x="LMARGIN", new_y="NEXT")
    for line in fx._wrap(pdf, body.split(), width):
        pdf.set_font("Helvetica", "", 10.5)
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "laos-brief.pdf"
    path.write_bytes(bytes(pdf.output()))
    c = convert(path.name, path.read_bytes())
    title = "Entering Laos: Hydropower Technology, Coffee and Intellectual Property"
    assert c.title == title
    assert headings_of(c) == [
        (title, 1, ""),
        ("1. Purpose and summary", 1, "1"),
        ("2. Hydropower technology", 1, "2"),
    ]
    assert "Coffee exports doubled in five years." in c.text
    assert section_of(c, c.text.index("Prepared by the Mekong")) == title


def test_a_sentence_wrapping_at_a_number_stays_one_sentence():
    """ "… costs a further EUR" / "25. The office …": the second line is the sentence going on,
    not a list item; a real numbered list (after a finished line, numbered from 1) stays a list."""
    wide = "The filing fee for an application is EUR 180 and every additional class costs a further EUR"
    pages = [
        [
            wide,
            "25. The office received 4,210 applications in 2024.",
            "Applicants should check these points before they file with the Lao office:",
            "1. Search the register for earlier marks.",
            "2. Translate the list of goods.",
        ]
    ]
    c = build("fees.pdf", pages)
    assert c.text.split("\n") == [
        f"{wide} 25. The office received 4,210 applications in 2024.",
        "Applicants should check these points before they file with the Lao office:",
        "1. Search the register for earlier marks.",
        "2. Translate the list of goods.",
    ]


def test_bullet_markers_are_not_part_of_the_text():
    """A quoted list item reads "Register early.", not "- Register early.", as in plain text."""
    pages = [
        [
            "The brief ends with advice for companies entering the Lao market:",
            "- Register trademarks before launching products, since the first to file wins.",
            "• Keep dated records of every design change.",
        ]
    ]
    assert build("advice.pdf", pages).text.split("\n")[1:] == [
        "Register trademarks before launching products, since the first to file wins.",
        "Keep dated records of every design change.",
    ]

"""Plain text: general heading rules, reflow of hard-wrapped text, and the shipped report unchanged."""

from __future__ import annotations

import pytest

from ipqa.errors import CorpusError
from ipqa.formats import check_converted, convert
from ipqa.formats.plaintext import convert_text, find_headings, join_wrapped

from .conftest import REPORT
from .docfixtures import headings_of

SUBSECTIONS = [f"{p}.{s}" for p in range(1, 7) for s in range(1, 4)]


def _doc(heading: str) -> str:
    """A heading candidate between an opening paragraph and a body paragraph."""
    return (
        "The Philippine office publishes an annual report on filings and examination.\n\n"
        f"{heading}\n"
        "Applicants in the Philippines filed 4,100 invention patents in 2024, most of them from abroad.\n"
    )


@pytest.fixture(scope="module")
def report():
    raw = REPORT.read_bytes()
    return raw, convert(REPORT.name, raw)


def test_report_keeps_its_structure(report):
    _, c = report
    check_converted(c)
    heads = headings_of(c)
    romans = [(t, n) for t, level, n in heads if level == 1 and n]
    assert [n for _, n in romans] == "I II III IV V VI".split()
    assert romans[0][0] == "I.New Trends in Digital Economy Development"  # no space after "I."
    assert [n for _, level, n in heads if level == 2] == SUBSECTIONS
    assert ("3.1 Artificial Intelligence Technology Field", 2, "3.1") in heads
    assert heads[-1] == ("Conclusion", 1, "")
    assert len(heads) == 6 + 18 + 1
    opening = c.text[: c.headings[0].start].rstrip("\n").split("\n")
    assert len(opening) == 2 and all(line.endswith(".") for line in opening)  # two opening paragraphs
    assert c.kind == "text" and c.pages == ()
    assert c.title == "Asia pacific digital ip report"


def test_report_text_is_byte_identical(report):
    raw, c = report
    expected = raw.decode("utf-8").removeprefix("\ufeff").replace("\r\n", "\n")
    expected = "\n".join(line.rstrip() for line in expected.split("\n")).strip("\n")
    assert c.text == expected


def test_report_with_bom_and_crlf_gives_the_same_text(report):
    raw, c = report
    windows = b"\xef\xbb\xbf" + raw.replace(b"\n", b"\r\n")
    c2 = convert(REPORT.name, windows)
    assert c2.text == c.text and c2.headings == c.headings and "\r" not in c2.text


def test_find_headings_on_canonical_text_agrees(report):
    _, c = report
    assert find_headings(c.text) == c.headings


@pytest.mark.parametrize(
    ("line", "level", "number"),
    [
        ("1 Introduction", 1, "1"),
        ("1. Introduction", 1, "1"),
        ("1.Introduction", 1, "1"),
        ("2.3 Filing Requirements", 2, "2.3"),
        ("2.3. Filing Requirements", 2, "2.3"),
        ("2.3.1 Fees and Deadlines", 3, "2.3.1"),
        ("3. Recommendations:", 1, "3"),
        ("IV. Enforcement Options", 1, "IV"),
        ("IV.Enforcement Options", 1, "IV"),
        ("I.New Trends in Patent Filings", 1, "I"),
        ("A. Administrative Measures", 1, "A"),
        ("Chapter 3: Copyright in the Philippines", 1, "3"),
        ("CHAPTER 3 – Copyright", 1, "3"),
        ("Section 2 – Related Rights", 1, "2"),
        ("Section 2.4 Border Measures", 2, "2.4"),
        ("Part II Patents and Utility Models", 1, "II"),
        ("Annex B", 1, "B"),
        ("Conclusion", 1, ""),
        ("Key Findings", 1, ""),
        ("EXECUTIVE SUMMARY", 1, ""),
        ("How the office examines applications", 1, ""),
    ],
)
def test_heading_styles(line, level, number):
    c = convert_text("sample.txt", _doc(line))
    check_converted(c)
    assert headings_of(c) == [(line, level, number)]


@pytest.mark.parametrize(
    "line",
    [
        "1. Register your trademark early.",
        "Register your trademark early.",
        "Conclusion.",
        "Are patents worth it?",
        "Filing fees, renewal fees and penalties;",
        "Summary:",
        "the office received applications",
        "3.5 million filings were recorded",
        "2024 was a record year",
        "Scope of this report ........ 3",
        "Country | Filings | Growth",
        "J. Smith",
        "B. Civil Litigation",  # a "B." with no "A." before it is an initial, not a heading
        "Applications filed by small enterprises and by universities and public research institutes increased",
        "Trade marks and the",
        "- Key Findings",
    ],
)
def test_not_headings(line):
    c = convert_text("sample.txt", _doc(line))
    check_converted(c)
    assert headings_of(c) == []


def test_numbered_sentence_list_items_are_not_headings():
    text = (
        "Steps for foreign applicants\n"
        "1. Register your trademark early.\n"
        "2. Monitor the market for copies\n"
        "3. Enforce promptly\n"
        "\n"
        "Each step costs little compared with litigation in the Philippines later on.\n"
    )
    c = convert_text("steps.txt", text)
    assert headings_of(c) == [("Steps for foreign applicants", 1, "")]
    assert c.text.split("\n")[1:4] == [
        "1. Register your trademark early.",
        "2. Monitor the market for copies",
        "3. Enforce promptly",
    ]


def test_table_of_contents_lines_are_not_headings():
    text = (
        "Contents\n1 Introduction\n2 Filing\n3 Enforcement\n\n"
        "1 Introduction\nThe Philippines joined the Madrid Protocol in 2012 and the Hague Agreement in 2019.\n"
        "2 Filing\nApplications can be filed online through the eTMfile system of the office.\n"
    )
    c = convert_text("toc.txt", text)
    heads = headings_of(c)
    assert ("1 Introduction", 1, "1") in heads and ("2 Filing", 1, "2") in heads
    assert [h for h in heads if h[0] == "1 Introduction"] == [
        ("1 Introduction", 1, "1")
    ]  # the TOC line is not one


def test_short_lines_without_body_are_not_headings():
    text = (
        "Intellectual Property Office\nTaguig City\nPhilippines\n\n"
        "The office is the main agency for patents and trademarks in the country.\nWith best regards\n"
    )
    c = convert_text("letter.txt", text)
    assert headings_of(c) == []
    assert c.text.split("\n")[:3] == ["Intellectual Property Office", "Taguig City", "Philippines"]


def test_setext_headings_and_underlines_dropped():
    text = (
        "Philippine Patent Guide\n=======================\n\n"
        "The office grants patents for inventions that are new and inventive.\n\n"
        "Filing Basics\n-------------\n\n"
        "Applicants must file a request for grant together with a description.\n"
    )
    c = convert_text("guide.txt", text)
    check_converted(c)
    assert headings_of(c) == [("Philippine Patent Guide", 1, ""), ("Filing Basics", 2, "")]
    assert "===" not in c.text and "---" not in c.text
    assert c.title == "Philippine Patent Guide"


def test_caps_over_title_case_headings_without_numbers():
    text = (
        "EXECUTIVE SUMMARY\nKey Findings\n- Filings rose by 8 percent in 2024.\n- Pendency fell to 30 months.\n\n"
        "Conclusion\nThe system is maturing and offers predictable timelines for applicants.\n"
    )
    c = convert_text("summary.txt", text)
    assert headings_of(c) == [("EXECUTIVE SUMMARY", 1, ""), ("Key Findings", 2, ""), ("Conclusion", 2, "")]
    assert "Filings rose by 8 percent in 2024." in c.text.split("\n")  # bullet marker removed


def test_unnumbered_headings_take_the_top_numbered_level():
    text = (
        "1.1 Scope\nThis note covers utility models in the Philippines only.\n"
        "1.2 Terms\nA utility model lasts seven years from filing.\n"
        "Summary\nUtility models are a cheap and fast alternative to patents for small firms.\n"
    )
    c = convert_text("note.txt", text)
    assert headings_of(c) == [("1.1 Scope", 2, "1.1"), ("1.2 Terms", 2, "1.2"), ("Summary", 2, "")]


def test_letters_under_roman_parts_and_roman_five():
    text = (
        "IV. Enforcement\nRights holders may choose among several routes.\n"
        "A. Administrative Measures\nInspectors can seize goods and close shops.\n"
        "B. Civil Litigation\nCourts award damages and injunctions.\n"
        "V. Outlook\nFurther reform is expected in 2026.\n"
    )
    c = convert_text("parts.txt", text)
    assert headings_of(c) == [
        ("IV. Enforcement", 1, "IV"),
        ("A. Administrative Measures", 2, "A"),
        ("B. Civil Litigation", 2, "B"),
        ("V. Outlook", 1, "V"),
    ]


def test_hard_wrapped_text_is_reflowed_and_dehyphenated():
    text = (
        "2 Utility Models\n"
        "The Intellectual Property Office of the Philippines registers utility\n"
        "models without substantive examination, which makes the protec-\n"
        "tion fast and cheap for small firms selling through e-\n"
        "commerce platforms. A registration lasts seven years.\n"
        "\n"
        "Most applicants are local. Universities filed 312 utility model\n"
        "applications in 2024, up from 250 in 2023.\n"
        "- Filing fee: 1,800 pesos\n"
        "- Registration within\n"
        "  six months\n"
    )
    c = convert_text("wrapped.txt", text)
    check_converted(c)
    assert c.text.split("\n") == [
        "2 Utility Models",
        "The Intellectual Property Office of the Philippines registers utility models without substantive "
        "examination, which makes the protection fast and cheap for small firms selling through e-commerce "
        "platforms. A registration lasts seven years.",
        "Most applicants are local. Universities filed 312 utility model applications in 2024, up from 250 in 2023.",
        "Filing fee: 1,800 pesos",
        "Registration within six months",
    ]
    assert headings_of(c) == [("2 Utility Models", 1, "2")]


def test_line_ending_a_sentence_before_a_capital_ends_the_paragraph():
    c = convert_text("x.txt", "First paragraph ends here.\nSecond paragraph starts here.\n")
    assert c.text == "First paragraph ends here.\nSecond paragraph starts here."
    wrapped = "The office accepts several kinds of proof of use, e.g.\nInvoices, catalogues and photographs of goods.\n"
    assert convert_text("x.txt", wrapped).text == wrapped.strip().replace("\n", " ")


def test_control_characters_and_line_separators():
    c = convert_text("x.txt", "One paragraph.\r\nTwo\x0c paragraph.\u2029Three paragraph.\x07\n")
    assert c.text == "One paragraph.\nTwo paragraph.\nThree paragraph."


@pytest.mark.parametrize("text", ["", "   \n\n\t\n", "=====\n-----\n"])
def test_empty_text_is_an_error(text):
    with pytest.raises(CorpusError, match=r"^e\.txt: empty$"):
        convert_text("e.txt", text)


def test_title_is_the_readable_file_name_unless_the_first_line_is_a_title():
    assert convert_text("vn_ip-report.txt", "Just one sentence here.").title == "Vn ip report"
    c = convert_text(
        "x.txt", "Philippine Filing Guide\nThe guide explains how to file applications online.\n"
    )
    assert c.title == "Philippine Filing Guide"


def test_a_long_opening_line_standing_alone_is_the_title():
    """A brief's title may be longer than a heading: standing alone over the text, it is still
    the title (and the opening section's heading), not an untitled opening line."""
    title = "Portugal: software, game studios and intellectual property — a brief for foreign investors"
    text = f"{title}\n\nThis brief is written for founders weighing Portugal as a base.\n\n1. Market overview\nLisbon has 40 studios.\n"
    c = convert_text("portugal-software-ip.txt", text)
    assert c.title == title
    assert [(c.text[h.start : h.end], h.level) for h in c.headings] == [(title, 1), ("1. Market overview", 1)]
    # a first line that ends like a sentence, or runs on into the next line, is text
    for text in (
        f"{title}.\n\nMore text follows here.\n",
        f"{title}\nand more words on the next line.\n\nText.\n",
    ):
        assert convert_text("portugal-software-ip.txt", text).title == "Portugal software ip"


@pytest.mark.parametrize(
    ("left", "right", "joined"),
    [
        ("the protec-", "tion of marks", "the protection of marks"),
        ("the Asia-", "Pacific region", "the Asia-Pacific region"),
        ("COVID-", "19 measures", "COVID-19 measures"),
        ("through e-", "commerce sites", "through e-commerce sites"),
        ("new AI-", "related patents", "new AI-related patents"),
        ("a year-on-", "year rise", "a year-on-year rise"),
        ("their cross-", "border trade", "their cross-border trade"),  # written so elsewhere
        ("the market -", "and more", "the market - and more"),
        ("soft\u00ad", "ware", "software"),
        ("plain", "words", "plain words"),
    ],
)
def test_join_wrapped(left, right, joined):
    out, at = join_wrapped(left, right, frozenset({"cross-border"}))
    assert out == joined and out[at:] == right


def test_hyphenated_compound_written_elsewhere_keeps_its_hyphen():
    text = (
        "Cross-border enforcement matters. Firms in Vietnam report more cross-\n"
        "border disputes every year, and some of them end up before the courts.\n"
    )
    assert "more cross-border disputes" in convert_text("x.txt", text).text


def test_memo_header_fields_and_signature_are_not_headings():
    text = (
        "MEMORANDUM\n\nTo: Legal Team\nFrom: Nguyen Van An\nDate: 12 March 2025\n\n"
        "Please note that the renewal of our Vietnamese trademark No. 123456 is due\n"
        "on 30 June 2025. The renewal fee is 1.2 million dong per class.\n\n"
        "Next Steps\nWe will file the renewal through our local agent in Hanoi.\n\n"
        "Best regards,\nNguyen Van An\nSenior Counsel\n"
    )
    c = convert_text("memo.txt", text)
    assert headings_of(c) == [("MEMORANDUM", 1, ""), ("Next Steps", 2, "")]
    assert (
        "Please note that the renewal of our Vietnamese trademark No. 123456 is due on 30 June 2025."
        in c.text
    )
    assert c.text.split("\n")[-3:] == ["Best regards,", "Nguyen Van An", "Senior Counsel"]


def test_law_with_chapters_and_articles():
    text = (
        "Chapter I\nGENERAL PROVISIONS\n\n"
        "Article 1. Scope of regulation\nThis Law provides for copyright and industrial property rights.\n\n"
        "Article 2. Subjects of application\nThis Law applies to organizations and individuals.\n\n"
        "Chapter II\nCOPYRIGHT\n\n"
        "Article 14. Types of works\nLiterary and artistic works include the following:\n"
        "a) Literary works;\nb) Lectures and speeches;\n"
    )
    c = convert_text("law.txt", text)
    assert headings_of(c) == [
        ("Chapter I", 1, "I"),
        ("GENERAL PROVISIONS", 1, ""),
        ("Article 1. Scope of regulation", 2, "1"),
        ("Article 2. Subjects of application", 2, "2"),
        ("Chapter II", 1, "II"),
        ("COPYRIGHT", 1, ""),
        ("Article 14. Types of works", 2, "14"),
    ]
    assert c.text.endswith("a) Literary works;\nb) Lectures and speeches;")

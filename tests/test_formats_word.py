"""DOCX: headings from styles, Title style as the title, tables as rows, body in document order."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ipqa.errors import CorpusError
from ipqa.formats import check_converted, convert

from . import docfixtures as fx
from .docfixtures import headings_of, section_of


@pytest.fixture(scope="module")
def word(tmp_path_factory: pytest.TempPathFactory):
    path = fx.make_docx(tmp_path_factory.mktemp("docx") / "vietnam-review.docx")
    return convert(path.name, path.read_bytes())


def _docx_bytes(build) -> bytes:
    import docx

    d = docx.Document()
    build(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_structure(word):
    check_converted(word)
    assert word.kind == "docx" and word.pages == ()
    assert word.title == fx.DOCX_TITLE
    assert headings_of(word) == fx.DOCX_HEADINGS


def test_title_paragraph_is_not_a_body_line(word):
    lines = word.text.split("\n")
    assert fx.DOCX_TITLE not in lines
    assert lines[0] == "Prepared by the Mekong Legal Research Group for foreign investors."


def test_table_rows_in_document_order(word):
    lines = word.text.split("\n")
    at = lines.index(fx.DOCX_TABLE_ROWS[0])
    assert lines[at : at + 3] == fx.DOCX_TABLE_ROWS
    assert lines[at - 1].startswith("Market surveillance forces")
    assert lines[at + 3] == "2.1 Customs Measures"


def test_list_items_and_empty_paragraphs(word):
    lines = word.text.split("\n")
    assert "Stricter rules against bad faith trademark filings." in lines
    assert "New grounds for refusing protection of geographical indications." in lines
    assert "" not in lines


@pytest.mark.parametrize("fact", fx.DOCX_FACTS, ids=lambda f: f.sentence[:30])
def test_facts(word, fact):
    at = word.text.index(fact.sentence)
    assert section_of(word, at) == fact.section and fact.page is None


def test_core_title_wins_over_title_style():
    def build(d):
        d.core_properties.title = "Cambodia Patent Notes"
        d.add_paragraph("Draft Title", style="Title")
        d.add_paragraph("Cambodia granted 120 patents in 2024.")

    c = convert("kh.docx", _docx_bytes(build))
    assert c.title == "Cambodia Patent Notes" and c.text == "Cambodia granted 120 patents in 2024."


def test_no_title_falls_back_to_the_file_name():
    c = convert(
        "laos_ip-notes.docx", _docx_bytes(lambda d: d.add_paragraph("Laos joined the Madrid Protocol."))
    )
    assert c.title == "Laos ip notes"


def test_an_opening_heading_over_lower_ones_is_the_title():
    def titled(d):
        d.add_heading("Laos: Trademarks and Customs", level=1)
        d.add_heading("Filing", level=2)
        d.add_paragraph("Laos joined the Madrid Protocol.")

    def sections(d):
        d.add_heading("Filing", level=1)
        d.add_paragraph("Laos joined the Madrid Protocol.")
        d.add_heading("Customs", level=1)
        d.add_paragraph("Customs can detain fakes.")

    def numbered(d):
        d.add_heading("1. Filing", level=1)
        d.add_heading("Fees", level=2)
        d.add_paragraph("Laos joined the Madrid Protocol.")

    c = convert("laos_ip-notes.docx", _docx_bytes(titled))
    assert c.title == "Laos: Trademarks and Customs"
    assert c.text.split("\n")[0] == "Laos: Trademarks and Customs" and c.headings[0].level == 1
    assert convert("laos_ip-notes.docx", _docx_bytes(sections)).title == "Laos ip notes"
    assert convert("laos_ip-notes.docx", _docx_bytes(numbered)).title == "Laos ip notes"


def test_heading_levels_custom_styles_and_outline_levels():
    def build(d):
        from docx.enum.style import WD_STYLE_TYPE
        from docx.oxml.ns import qn
        from docx.oxml.parser import OxmlElement

        d.add_heading("Overview", level=1)
        d.add_heading("Deep Detail", level=4)
        custom = d.styles.add_style("Country Heading", WD_STYLE_TYPE.PARAGRAPH)
        custom.base_style = d.styles["Heading 2"]
        d.add_paragraph("Brunei", style="Country Heading")
        d.add_paragraph("Brunei registers trademarks through BruIPO.")
        p = d.add_paragraph("Outline Only")
        ppr = p._p.get_or_add_pPr()
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(qn("w:val"), "2")
        ppr.append(lvl)
        d.add_paragraph("Body after the outline heading.")

    c = convert("levels.docx", _docx_bytes(build))
    check_converted(c)
    assert headings_of(c) == [
        ("Overview", 1, ""),
        ("Deep Detail", 4, ""),
        ("Brunei", 2, ""),
        ("Outline Only", 3, ""),
    ]


def test_merged_cells_are_not_repeated():
    def build(d):
        t = d.add_table(rows=2, cols=3)
        t.cell(0, 0).merge(t.cell(0, 2)).text = "Trademark fees 2024"
        for i, v in enumerate(["Filing", "Renewal", "Opposition"]):
            t.cell(1, i).text = v

    c = convert("fees.docx", _docx_bytes(build))
    assert c.text.split("\n") == ["Trademark fees 2024", "Filing | Renewal | Opposition"]


def test_empty_document_is_an_error():
    with pytest.raises(CorpusError, match=r"^blank\.docx: empty$"):
        convert("blank.docx", _docx_bytes(lambda d: d.add_paragraph("   ")))


def test_corrupt_docx_is_a_clear_error(tmp_path: Path):
    good = fx.make_docx(tmp_path / "a.docx").read_bytes()
    for data in (good[: len(good) // 2], b"PK\x03\x04" + b"\x00garbage" * 20):
        with pytest.raises(CorpusError) as err:
            convert("broken.docx", data)
        assert str(err.value).startswith("broken.docx: ") and "\n" not in str(err.value)

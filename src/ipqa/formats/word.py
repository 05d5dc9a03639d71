"""Word .docx → canonical text, walking the body in document order (paragraphs and tables).

Headings come from paragraph styles ("Heading 1" … "Heading 9", also custom styles based on them)
or an explicit outline level; the "Title" style gives the document title (the core property
``title`` wins when set) and is not repeated as a body line. Each non-empty paragraph or list item
is one line; each table row is one line "cell | cell" (a merged cell counted once). Page headers,
footers, footnotes, comments and text boxes are not part of the body and are left out; deleted
revisions are skipped, inserted ones kept.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from ipqa.errors import CorpusError
from ipqa.formats import Block, Converted, assemble, one_line, table_row

_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIP_INSIDE = {f"{_W}del", f"{_W}txbxContent", f"{_W}moveFrom"}
_TEXT_TAGS = {f"{_W}t": None, f"{_W}tab": " ", f"{_W}br": " ", f"{_W}cr": " ", f"{_W}noBreakHyphen": "-"}


def _paragraph_text(p) -> str:
    """Visible text of a w:p element (runs, hyperlinks, fields, insertions; no deletions)."""
    out: list[str] = []
    for el in p.iter(*_TEXT_TAGS):
        anc = el.getparent()
        skip = False
        while anc is not None and anc is not p:
            if anc.tag in _SKIP_INSIDE:
                skip = True
                break
            anc = anc.getparent()
        if skip:
            continue
        fixed = _TEXT_TAGS[el.tag]
        out.append(el.text or "" if fixed is None else fixed)
    return " ".join("".join(out).split())


def _style_chain(style) -> Iterator:
    seen = 0
    while style is not None and seen < 20:
        yield style
        style = style.base_style
        seen += 1


def _outline_level(el) -> int | None:
    """w:outlineLvl of a paragraph or style element (0-based; 9 = body text)."""
    ppr = el.find(f"{_W}pPr")
    if ppr is None:
        return None
    lvl = ppr.find(f"{_W}outlineLvl")
    if lvl is None:
        return None
    try:
        value = int(lvl.get(f"{_W}val", ""))
    except ValueError:
        return None
    return value + 1 if 0 <= value < 9 else 0


def _classify(paragraph) -> tuple[str, int]:
    """("title" | "heading" | "body", level) from the paragraph's style chain and outline level."""
    try:
        style = paragraph.style
    except (KeyError, ValueError, AttributeError):
        style = None
    for st in _style_chain(style):
        name = (st.name or "").strip()
        if name.lower() == "title":
            return "title", 0
        if m := _HEADING_STYLE.fullmatch(name):
            return "heading", int(m.group(1))
    level = _outline_level(paragraph._p)
    if level is None:
        for st in _style_chain(style):
            if (level := _outline_level(st.element)) is not None:
                break
    if level:
        return "heading", level
    return "body", 0


def _table_rows(tbl) -> Iterator[str]:
    """One line per row: each w:tc once (a horizontal merge is one cell), nested text flattened."""
    for tr in tbl.iter(f"{_W}tr"):
        if tr.getparent() is not tbl:
            continue  # rows of nested tables are read as part of their cell
        cells = []
        for tc in tr.iter(f"{_W}tc"):
            if tc.getparent() is not tr and tc.getparent().getparent() is not tr:
                continue
            cells.append(" ".join(_paragraph_text(p) for p in tc.iter(f"{_W}p")))
        if row := table_row(cells):
            yield row


def _body_elements(body) -> Iterator:
    """Block-level w:p and w:tbl in order, looking inside content controls (w:sdt) and custom XML."""
    for child in body.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _body_elements(content)
        elif child.tag == f"{_W}customXml":
            yield from _body_elements(child)


def convert_docx(name: str, data: bytes) -> Converted:
    """DOCX bytes → Converted; CorpusError for a damaged or empty document."""
    import docx
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # zip, XML or package errors all mean the same to a user
        raise CorpusError(
            f"{name}: cannot be read as DOCX ({one_line(f'{type(exc).__name__}: {exc}')})"
        ) from None

    blocks: list[Block] = []
    style_title = ""
    for el in _body_elements(document.element.body):
        if el.tag == f"{_W}tbl":
            blocks.extend(Block(row) for row in _table_rows(el))
            continue
        text = _paragraph_text(el)
        if not text:
            continue
        kind, level = _classify(Paragraph(el, document))
        if kind == "title" and not style_title:
            style_title = text
        elif kind == "heading":
            blocks.append(Block(text, level=min(level, 6)))
        else:
            blocks.append(Block(text))
    core_title = ""
    try:
        core_title = (document.core_properties.title or "").strip()
    except Exception:  # a damaged docProps/core.xml only costs the title
        core_title = ""
    return assemble(name, "docx", blocks, core_title or style_title or _heading_title(blocks))


def _heading_title(blocks: list[Block]) -> str:
    """A file with no Title style nor core title that opens with an unnumbered Heading 1 over a
    body whose other headings are all lower ("Turkey: automotive software" over Heading 2
    sections) puts its title there, as a Markdown file's one "# " does. Where every section is a
    Heading 1, the first one ("Overview") is a section, not the title. It stays a heading."""
    from ipqa.formats.plaintext import leading_number

    if len(blocks) < 2 or blocks[0].level != 1 or any(b.level == 1 for b in blocks[1:]):
        return ""
    return "" if leading_number(" ".join(blocks[0].text.split())) else blocks[0].text

"""Markdown → canonical text: the words a reader sees, none of the syntax.

A small line-based reader, not a full CommonMark parser: ATX and setext headings (levels kept),
paragraphs (soft-wrapped lines joined with a space), list items and block quotes (markers
removed, one line per item), pipe tables (one line per row, "a | b"). Dropped: YAML/TOML front
matter (its ``title`` is kept as the title), fenced code blocks, HTML comments and tags,
images, reference-link definitions, footnote markers, thematic breaks. Inline emphasis, code
spans and links are replaced by their text, so sentences stay whole.
"""

from __future__ import annotations

import html
import re

from ipqa.formats import Block, Converted, assemble, table_row

_FRONT_MATTER = re.compile(
    r"\A(?:---|\+\+\+)[ \t]*\n(?P<body>.*?\n)?(?:---|\.\.\.|\+\+\+)[ \t]*(?:\n|\Z)", re.DOTALL
)
_FM_TITLE = re.compile(r"^title\s*[:=]\s*(?P<v>.+?)\s*$", re.MULTILINE | re.IGNORECASE)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r" {0,3}(?P<f>`{3,}|~{3,})")
_ATX = re.compile(r" {0,3}(?P<h>#{1,6})(?:[ \t]+(?P<t>.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(?P<u>=+|-+)[ \t]*")
_BREAK = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_LIST = re.compile(r"(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+(?P<rest>.*)")
_ORDERED_NOT_ONE = re.compile(r"[ \t]*(?!1[.)])\d{1,9}[.)]")  # only "1." may interrupt a paragraph
_TASK = re.compile(r"\[[ xX]\][ \t]+")
_QUOTE = re.compile(r" {0,3}>[ \t]?")
_REF_DEF = re.compile(r" {0,3}\[(?P<label>[^\]]+)\]:[ \t]*\S+.*")
_TABLE_SEP = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
_HTML_BLOCK_TAG = re.compile(r"</?[A-Za-z][\w-]*(?:\s[^>]*)?/?>")

_CODE_SPAN = re.compile(r"(?P<ticks>`+)(?P<code>.+?)(?P=ticks)")
_IMAGE = re.compile(r"!\[[^\]]*\](?:\((?:[^()]|\([^)]*\))*\)|\[[^\]]*\])?")
_LINK = re.compile(r"\[(?P<t>[^\]]*)\](?:\((?:[^()]|\([^)]*\))*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<(?P<u>(?:https?|ftp|mailto):[^>\s]+|[^>\s@]+@[^>\s@]+\.[^>\s@]+)>")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
_ESCAPE = re.compile(r"\\(?P<c>[!-/:-@\[-`{-~])")
_EMPHASIS = (
    re.compile(r"\*\*(?=\S)(?P<x>.+?)(?<=\S)\*\*"),
    re.compile(r"(?<![\w\\])__(?=\S)(?P<x>.+?)(?<=\S)__(?!\w)"),
    re.compile(r"~~(?=\S)(?P<x>.+?)(?<=\S)~~"),
    re.compile(r"(?<![\\*])\*(?=[^\s*])(?P<x>.+?)(?<=[^\s\\*])\*(?!\*)"),
    re.compile(r"(?<![\w\\])_(?=\S)(?P<x>.+?)(?<=\S)_(?!\w)"),
)
_HOLD = "\ue000{}\ue001"  # private-use brackets around protected text (code spans, escapes)
_HELD = re.compile("\ue000(\\d+)\ue001")


def inline_text(s: str, refs: frozenset[str] = frozenset()) -> str:
    """One line of Markdown inline syntax → the text a reader sees."""
    held: list[str] = []

    def hold(text: str) -> str:
        held.append(text)
        return _HOLD.format(len(held) - 1)

    s = _ESCAPE.sub(lambda m: hold(m.group("c")), s)
    s = _CODE_SPAN.sub(lambda m: hold(m.group("code").strip()), s)
    s = _AUTOLINK.sub(lambda m: hold(m.group("u").removeprefix("mailto:")), s)
    s = _IMAGE.sub("", s)
    s = _FOOTNOTE_REF.sub("", s)
    for _ in range(3):  # links inside emphasis inside links …
        s = _LINK.sub(lambda m: m.group("t"), s)
    if refs:
        s = re.sub(
            r"\[([^\]]+)\](?!\()", lambda m: m.group(1) if m.group(1).lower() in refs else m.group(0), s
        )
    s = _HTML_BLOCK_TAG.sub("", s)
    for _ in range(3):
        for pattern in _EMPHASIS:
            s = pattern.sub(lambda m: m.group("x"), s)
    for _ in range(2):  # nested holds
        s = _HELD.sub(lambda m: held[int(m.group(1))], s)
    return " ".join(html.unescape(s).split())


def _split_row(line: str) -> list[str]:
    """Cells of a pipe-table row; "\\|" stays a literal bar inside a cell."""
    row = line.strip()
    row = row.removeprefix("|")
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row)]


def _front_matter(text: str) -> tuple[str, str]:
    """(title from the front matter or "", the text without it)."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return "", text
    title = ""
    if (body := m.group("body")) and (t := _FM_TITLE.search(body)):
        title = t.group("v").strip().strip("\"'")
    return title, text[m.end() :]


def convert_markdown(name: str, text: str) -> Converted:
    """Markdown → Converted; CorpusError("<name>: empty") when no text remains."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    fm_title, text = _front_matter(text)
    text = _COMMENT.sub("", text)
    lines = text.split("\n")
    refs = frozenset(
        m.group("label").lower()
        for line in lines
        if (m := _REF_DEF.fullmatch(line)) and not line.startswith("[^")
    )

    blocks: list[Block] = []
    para: list[str] = []  # raw lines of the paragraph or list item being read
    para_is_item = False
    para_quoted = False

    def flush() -> None:
        nonlocal para, para_is_item
        if para:
            blocks.append(Block(inline_text(" ".join(x.strip() for x in para), refs)))
        para, para_is_item = [], False

    i, n = 0, len(lines)
    while i < n:
        raw = lines[i]
        line = raw
        quoted = False
        while q := _QUOTE.match(line):  # block quotes read as their content
            line = line[q.end() :]
            quoted = True
        if quoted and not para_quoted:
            flush()  # a quote interrupts a paragraph; a plain line after one continues it (lazily)
        para_quoted = quoted or (para_quoted and bool(para))
        if fence := _FENCE.match(line):
            flush()
            mark = fence.group("f")
            i += 1
            while i < n and not re.match(
                rf" {{0,3}}{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$", lines[i].lstrip("> ")
            ):
                i += 1
            i += 1
            continue
        if not line.strip():
            flush()
            i += 1
            continue
        if m := _ATX.fullmatch(line):
            flush()
            blocks.append(Block(inline_text(m.group("t") or "", refs), level=len(m.group("h"))))
            i += 1
            continue
        if (s := _SETEXT.fullmatch(line)) and para and not para_is_item:
            heading = inline_text(" ".join(x.strip() for x in para), refs)
            para = []
            blocks.append(Block(heading, level=1 if s.group("u")[0] == "=" else 2))
            i += 1
            continue
        if _BREAK.fullmatch(line):
            flush()
            i += 1
            continue
        if _REF_DEF.fullmatch(line):
            flush()
            i += 1
            continue
        if "|" in line and i + 1 < n and _TABLE_SEP.fullmatch(lines[i + 1]) and "-" in lines[i + 1]:
            flush()
            blocks.append(Block(table_row([inline_text(c, refs) for c in _split_row(line)])))
            i += 2
            while i < n and lines[i].strip() and "|" in lines[i]:
                blocks.append(Block(table_row([inline_text(c, refs) for c in _split_row(lines[i])])))
                i += 1
            continue
        if (m := _LIST.fullmatch(line)) and not (para and not para_is_item and _ORDERED_NOT_ONE.match(line)):
            flush()
            rest = _TASK.sub("", m.group("rest"), count=1)
            para, para_is_item = [rest], True
            i += 1
            continue
        if line.startswith("[^") and "]:" in line:  # footnote definition: keep its text
            flush()
            para = [line.split("]:", 1)[1]]
            i += 1
            continue
        if _HTML_BLOCK_TAG.fullmatch(line.strip()):
            flush()
            i += 1
            continue
        para.append(line)
        i += 1
    flush()

    title = fm_title or next((b.text for b in blocks if b.level == 1 and b.text.strip()), "")
    return assemble(name, "markdown", blocks, title)

"""Corpus model: documents → sections → sentences, each with exact character offsets.

Every document is converted once (`ipqa.formats`) to the canonical text ipqa quotes from: one
paragraph, heading or table row per line. Every offset refers to that text, so
``doc.text[s.start:s.end] == s.text`` holds for every section body, sentence and chunk, whatever
the file's format. Citations depend on that.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ipqa.errors import CorpusError
from ipqa.formats import SUPPORTED_SUFFIXES, Converted, Heading, convert
from ipqa.formats.plaintext import convert_text

OPENING_LABEL = "Introduction (untitled opening)"
MAX_DOC_BYTES = 50_000_000  # checked on the file's size before it is read
_TERMINAL = ".!?:;,"

# Tokens ending in a period that do not end a sentence (compared lower-cased).
_ABBREVIATIONS = frozenset(
    (
        "e.g. i.e. etc. vs. cf. al. mr. mrs. ms. dr. prof. no. nos. inc. ltd. co. corp. u.s. u.k. "
        "u.n. e.u. st. approx. fig. jan. feb. mar. apr. jun. jul. aug. sep. sept. oct. nov. dec. "
        "art. para. sec. vol. p. pp."
    ).split()
)
# A candidate boundary: terminal punctuation, optional closing quotes/brackets, then space or end.
# Linear time: a run of dots is taken whole, once (no match may start inside it, none backtracks);
# "A" + 100,000 dots + "x" once took minutes.
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]++[\"”’')\]]*+(?=\s|$)")
_NEXT_VISIBLE = re.compile(r"\S")


@dataclass(frozen=True)
class Section:
    doc: str
    number: str  # the heading's numbering ("3", "1.1", "IV"), "" when unnumbered or the opening
    heading: str  # the heading line exactly as written; "" for the untitled opening
    level: int  # 0 opening, 1 top-level heading, 2 subsection …
    start: int  # first character of the body (after the heading line)
    end: int  # end of the body
    part: str  # heading of the enclosing higher-level section, "" when none
    id: int = 0  # position among the document's sections: two sections may share a heading

    @property
    def label(self) -> str:
        """What a reader sees: the heading, or a name for the untitled opening."""
        return self.heading or OPENING_LABEL


@dataclass(frozen=True)
class Sentence:
    doc: str
    section: str  # Section.label; with its parent's heading when the heading repeats in the document
    start: int
    end: int
    text: str
    index: int  # position among the document's sentences
    paragraph: int  # index of the paragraph (line) it stands in
    section_id: int = 0  # Section.id: repeated headings stay separate sections


def read_under_headings(title: str, sections: list[Section] | tuple[Section, ...], sentences) -> list[str]:
    """Each sentence as read under its document's title and its section's headings ("… Outlook
    2025 2. Trademark Filings: The Directorate … received 128,400 trademark applications."): a
    question often names what only the title or a heading states. Embedded once, at build time."""
    context = {sec.id: heading_context(title, sec) for sec in sections}
    return [f"{context.get(s.section_id, s.section)}: {s.text}" for s in sentences]


def heading_context(title: str, section: Section) -> str:
    """What a section is about beyond its own words: "Key Changes" in "Thailand Patent Reform
    2025" is about patent reform."""
    return f"{title} {section.part} {section.heading}"


@dataclass(frozen=True)
class Document:
    doc: str  # stable id: the file name inside corpus/
    text: str  # the canonical text every offset refers to
    sha256: str  # of the file's bytes
    sections: tuple[Section, ...]
    sentences: tuple[Sentence, ...]
    title: str = ""
    kind: str = "text"  # pdf | docx | html | markdown | text
    pages: tuple[int, ...] = ()  # offset where each page starts (paged formats only)

    def page_of(self, offset: int) -> int | None:
        return page_at(self.pages, offset)


def page_at(pages: tuple[int, ...] | list[int], offset: int) -> int | None:
    """1-based page holding this offset of the canonical text, or None for unpaged formats."""
    if not pages:
        return None
    return max(1, bisect.bisect_right(pages, offset))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line, end excluding the newline and a trailing carriage return."""
    spans, pos = [], 0
    for line in text.split("\n"):
        end = pos + len(line)
        stripped_end = end - 1 if line.endswith("\r") else end
        spans.append((pos, stripped_end))
        pos = end + 1
    return spans


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end] (one paragraph), trimmed of surrounding space."""
    spans: list[tuple[int, int]] = []
    para = text[start:end]
    last = len(para.rstrip())
    cursor = 0
    for m in _BOUNDARY.finditer(para):
        stop = m.end()
        if not _is_sentence_end(para, m.start(), stop, last):
            continue
        spans.append((cursor, stop))
        cursor = stop
    if para[cursor:].strip():
        spans.append((cursor, len(para)))
    out = []
    for s, e in spans:
        piece = para[s:e]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if e - trail > s + lead:
            out.append((start + s + lead, start + e - trail))
    return out


def _is_sentence_end(para: str, punct_start: int, stop: int, last: int) -> bool:
    """Whether the punctuation ending at `stop` ends a sentence (`last`: end of the visible text).
    Looks only at the word before and the first visible character after: no copies of the rest."""
    word_start = punct_start
    while word_start > 0 and not para[word_start - 1].isspace():
        word_start -= 1
    token = para[word_start:stop].lower().rstrip("\"”’')]").lstrip("\"“‘'([")  # "(No. 88)"
    if para[punct_start] == "." and (
        token in _ABBREVIATIONS or re.fullmatch(r"[a-z]\.", token) or re.fullmatch(r"(?:[a-z]\.){2,}", token)
    ):
        # "U.S." or "e.g." ends a sentence only when a capital follows after a paragraph break.
        return stop >= last
    m = _NEXT_VISIBLE.search(para, stop)
    if m is None:
        return True
    nxt = m.group(0)
    return not (nxt.islower() or nxt in ",;:)")


def parse_document(doc: str, converted: Converted | str, sha256: str) -> Document:
    """Sections from the converter's headings, sentences from each paragraph line of each body.

    A plain string is read as plain text (handy for tests and synthetic corpora)."""
    if isinstance(converted, str):
        converted = convert_text(doc, converted)
    text = converted.text
    lines = _lines(text)
    line_starts = [s for s, _ in lines]
    heading_lines = [(bisect.bisect_right(line_starts, h.start) - 1, h) for h in converted.headings]

    sections: list[Section] = []
    sentences: list[Sentence] = []
    first_heading_line = heading_lines[0][0] if heading_lines else len(lines)
    bodies: list[tuple[Heading | None, int, int, str]] = []  # heading, first body line, end line, part
    if any(text[s:e].strip() for s, e in lines[:first_heading_line]):
        bodies.append((None, 0, first_heading_line, ""))
    open_: list[tuple[int, str]] = []  # (level, heading) of the enclosing sections
    for i, (no, h) in enumerate(heading_lines):
        next_no = heading_lines[i + 1][0] if i + 1 < len(heading_lines) else len(lines)
        while open_ and open_[-1][0] >= h.level:
            open_.pop()
        part = open_[-1][1] if open_ else ""
        open_.append((h.level, text[h.start : h.end].strip()))
        bodies.append((h, no + 1, next_no, part))

    # A heading that repeats in the document ("Penalties" under "Copyright" and under "Trade
    # secrets") is named with its parent, so that citations and search tell the sections apart.
    counts = Counter(text[h.start : h.end].strip().casefold() for h, *_ in bodies if h)
    for h, first, last, parent in bodies:
        body_lines = lines[first:last]
        b_start = body_lines[0][0] if body_lines else (lines[first - 1][1] if first else 0)
        b_end = body_lines[-1][1] if body_lines else b_start
        heading = text[h.start : h.end].strip() if h else ""
        section = Section(
            doc, h.number if h else "", heading, h.level if h else 0, b_start, b_end, parent, len(sections)
        )
        sections.append(section)
        name = f"{parent} › {section.label}" if parent and counts[heading.casefold()] > 1 else section.label
        for line_no, (ls, le) in enumerate(body_lines, start=first):
            for ss, se in split_sentences(text, ls, le):
                sentences.append(
                    Sentence(doc, name, ss, se, text[ss:se], len(sentences), line_no, section.id)
                )
    return Document(
        doc, text, sha256, tuple(sections), tuple(sentences), converted.title, converted.kind, converted.pages
    )


def read_document_bytes(path: Path) -> bytes:
    """The file's bytes, after checking its size (a huge file is refused before it is read)."""
    try:
        size = path.stat().st_size
        if size > MAX_DOC_BYTES:
            raise CorpusError(f"{path.name}: larger than {MAX_DOC_BYTES // 1_000_000} MB")
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path.name}: cannot be read ({exc.strerror})") from None


def load_document(path: Path) -> Document:
    data = read_document_bytes(path)
    return parse_document(path.name, convert(path.name, data), sha256_bytes(data))


def corpus_files(corpus_dir: Path) -> tuple[list[Path], list[str]]:
    """Documents to index, and a reason for each file that is skipped."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    root = corpus_dir.resolve()
    keep, skipped = [], []
    for path in sorted(corpus_dir.iterdir()):
        if path.name.startswith(".") or path.name.lower() == "readme.md":
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append(f"{path.name}: not a supported file type ({', '.join(SUPPORTED_SUFFIXES)})")
            continue
        if not path.resolve().is_relative_to(root):
            skipped.append(f"{path.name}: link points outside {corpus_dir.name}/")
            continue
        if not path.is_file():
            skipped.append(f"{path.name}: not a regular file")
            continue
        if not path.is_symlink() and path.stat().st_nlink > 1:
            # A hard link can make any file of the machine look like a corpus file (/etc/passwd);
            # ipqa indexes copies, never links (`ipqa add` copies).
            skipped.append(f"{path.name}: a hard link to a file elsewhere (copy it into {corpus_dir.name}/)")
            continue
        keep.append(path)
    return keep, skipped


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[str]]:
    """All readable documents, and the reasons others were skipped."""
    paths, skipped = corpus_files(corpus_dir)
    docs = []
    for path in paths:
        try:
            docs.append(load_document(path))
        except CorpusError as exc:
            skipped.append(str(exc))
    if not docs:
        raise CorpusError(
            f"no usable documents in {corpus_dir}" + (f" ({'; '.join(skipped)})" if skipped else "")
        )
    return docs, skipped

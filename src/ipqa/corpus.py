"""Corpus model: documents → sections → sentences, each with exact character offsets.

Every offset refers to the document's decoded text, so ``doc.text[s.start:s.end] == s.text``
holds for every section body, sentence and (later) chunk. Citations depend on that.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ipqa.errors import CorpusError

OPENING_LABEL = "Introduction (untitled opening)"
DOC_SUFFIXES = (".txt", ".md")
MAX_DOC_BYTES = 5_000_000

_ROMAN_HEADING = re.compile(r"^(?P<num>[IVX]{1,4})\.\s*(?P<title>[A-Z][^\n]{2,120})$")
_NUMBERED_HEADING = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2})+)\.?\s+(?P<title>[A-Z][^\n]{2,120})$")
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
_BOUNDARY = re.compile(r"[.!?]+[\"”’')\]]*(?=\s|$)")


@dataclass(frozen=True)
class Section:
    doc: str
    number: str  # "" (opening), "I" … "VI", "1.1" … "6.3", or "" for unnumbered headings
    heading: str  # the heading line exactly as written; "" for the untitled opening
    level: int  # 0 opening, 1 part / top-level heading, 2 subsection
    start: int  # first character of the body (after the heading line)
    end: int  # end of the body
    part: str  # heading of the enclosing part, "" when none

    @property
    def label(self) -> str:
        """What a reader sees: the heading, or a name for the untitled opening."""
        return self.heading or OPENING_LABEL


@dataclass(frozen=True)
class Sentence:
    doc: str
    section: str  # Section.label
    start: int
    end: int
    text: str
    index: int  # position among the document's sentences
    paragraph: int  # index of the paragraph (line) it stands in


@dataclass(frozen=True)
class Document:
    doc: str  # stable id: the file name inside corpus/
    text: str
    sha256: str
    sections: tuple[Section, ...]
    sentences: tuple[Sentence, ...]


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


def heading_of(line: str) -> tuple[str, int] | None:
    """(number, level) when the line is a heading, else None."""
    line = line.strip()
    if not line or len(line) > 140:
        return None
    if (m := _NUMBERED_HEADING.match(line)) and line[-1] not in _TERMINAL:
        return m.group("num"), 2
    if (m := _ROMAN_HEADING.match(line)) and line[-1] not in _TERMINAL:
        return m.group("num"), 1
    # An unnumbered heading ("Conclusion"): short, capitalised, no sentence punctuation.
    words = line.split()
    if len(words) <= 8 and len(line) <= 80 and line[0].isupper() and line[-1] not in _TERMINAL:
        return "", 1
    return None


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside text[start:end] (one paragraph), trimmed of surrounding space."""
    spans: list[tuple[int, int]] = []
    para = text[start:end]
    cursor = 0
    for m in _BOUNDARY.finditer(para):
        stop = m.end()
        if not _is_sentence_end(para, m.start(), stop):
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


def _is_sentence_end(para: str, punct_start: int, stop: int) -> bool:
    word_start = punct_start
    while word_start > 0 and not para[word_start - 1].isspace():
        word_start -= 1
    token = para[word_start:stop].lower().rstrip("\"”’')]")
    if para[punct_start] == "." and (
        token in _ABBREVIATIONS or re.fullmatch(r"[a-z]\.", token) or re.fullmatch(r"(?:[a-z]\.){2,}", token)
    ):
        # "U.S." or "e.g." ends a sentence only when a capital follows after a paragraph break.
        return stop >= len(para.rstrip())
    rest = para[stop:].lstrip()
    if not rest:
        return True
    nxt = rest[0]
    return not (nxt.islower() or nxt in ",;:)")


def parse_document(doc: str, text: str, sha256: str) -> Document:
    """Sections from heading lines, sentences from each paragraph of each section body."""
    lines = _lines(text)
    headings: list[tuple[int, str, str, int, int, int]] = []  # line_no, number, heading, level, start, end
    for no, (s, e) in enumerate(lines):
        h = heading_of(text[s:e])
        if h:
            headings.append((no, h[0], text[s:e].strip(), h[1], s, e))

    sections: list[Section] = []
    sentences: list[Sentence] = []
    first_heading_line = headings[0][0] if headings else len(lines)
    bodies: list[
        tuple[str, str, int, int, int, str]
    ] = []  # number, heading, level, first_line, last_line, part
    if any(text[s:e].strip() for s, e in lines[:first_heading_line]):
        bodies.append(("", "", 0, 0, first_heading_line, ""))
    part = ""
    for i, (no, number, heading, level, _s, _e) in enumerate(headings):
        next_no = headings[i + 1][0] if i + 1 < len(headings) else len(lines)
        if level == 1:
            part = heading
        bodies.append((number, heading, level, no + 1, next_no, "" if level == 1 else part))

    for number, heading, level, first, last, parent in bodies:
        body_lines = lines[first:last]
        b_start = body_lines[0][0] if body_lines else (lines[first - 1][1] if first else 0)
        b_end = body_lines[-1][1] if body_lines else b_start
        section = Section(doc, number, heading, level, b_start, b_end, parent)
        sections.append(section)
        for line_no, (ls, le) in enumerate(body_lines, start=first):
            for ss, se in split_sentences(text, ls, le):
                sentences.append(Sentence(doc, section.label, ss, se, text[ss:se], len(sentences), line_no))
    return Document(doc, text, sha256, tuple(sections), tuple(sentences))


def document_text(name: str, data: bytes) -> str:
    """A document file's bytes as text (UTF-8, BOM dropped), or CorpusError saying why not."""
    if len(data) > MAX_DOC_BYTES:
        raise CorpusError(f"{name}: larger than {MAX_DOC_BYTES // 1_000_000} MB")
    if b"\x00" in data:
        raise CorpusError(f"{name}: binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{name}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise CorpusError(f"{name}: empty")
    return text


def load_document(path: Path) -> Document:
    data = path.read_bytes()
    return parse_document(path.name, document_text(path.name, data), sha256_bytes(data))


def corpus_files(corpus_dir: Path) -> tuple[list[Path], list[str]]:
    """Documents to index, and a reason for each file that is skipped."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    root = corpus_dir.resolve()
    keep, skipped = [], []
    for path in sorted(corpus_dir.iterdir()):
        if path.name.startswith(".") or path.name.lower() == "readme.md":
            continue
        if path.suffix.lower() not in DOC_SUFFIXES:
            skipped.append(f"{path.name}: not a .txt or .md file")
            continue
        if not path.resolve().is_relative_to(root):
            skipped.append(f"{path.name}: link points outside {corpus_dir.name}/")
            continue
        if not path.is_file():
            skipped.append(f"{path.name}: not a regular file")
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

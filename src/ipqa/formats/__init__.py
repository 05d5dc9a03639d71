"""One document file (bytes) → one canonical text that ipqa quotes from, plus its structure.

Every format ends up in the same shape: one paragraph, heading, list item or table row per line,
joined by "\\n", with heading spans and (for PDF) page offsets into that very text. Offsets are
exact, so a cited sentence can always be cut out of ``Converted.text`` unchanged.

Converters are imported lazily: reading a text corpus never loads pypdf, python-docx or trafilatura.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from ipqa.errors import CorpusError

# The file name endings of each kind, the usual one first (`ipqa add` names a file by what it is).
SUFFIXES = {
    "text": (".txt",),
    "markdown": (".md", ".markdown"),
    "pdf": (".pdf",),
    "docx": (".docx",),
    "html": (".html", ".htm"),
}
SUPPORTED_SUFFIXES = tuple(x for xs in SUFFIXES.values() for x in xs)
KINDS = ("pdf", "docx", "html", "markdown", "text")
_KIND_NAMES = {"pdf": "PDF", "docx": "DOCX", "html": "HTML", "markdown": "Markdown", "text": "text"}


@dataclass(frozen=True)
class Heading:
    start: int  # span of the heading's text inside Converted.text (alone on its line)
    end: int
    level: int  # 1 = top level … 6
    number: str  # leading numbering token ("3", "1.1", "IV", "A") or ""


@dataclass(frozen=True)
class Converted:
    text: str  # one paragraph / heading / list item / table row per line; no "\r"
    headings: tuple[Heading, ...]  # in order of position
    pages: tuple[int, ...]  # PDF only: offset where each page starts (pages[0] == 0); () otherwise
    title: str  # never empty
    kind: str  # "pdf" | "docx" | "html" | "markdown" | "text"


@dataclass(frozen=True)
class Block:
    """One line-to-be of canonical text, as the structured converters (DOCX, HTML, Markdown) emit it."""

    text: str
    level: int = 0  # 0 = body line (paragraph, list item, table row); 1…6 = heading
    number: str | None = None  # heading numbering; None = read it from the heading text


def assemble(name: str, kind: str, blocks: Iterable[Block], title: str = "") -> Converted:
    """Blocks → canonical text (whitespace collapsed, empty blocks dropped) with exact heading spans."""
    from ipqa.formats.plaintext import leading_number

    parts: list[str] = []
    headings: list[Heading] = []
    pos = 0
    for b in blocks:
        line = " ".join(b.text.split())
        if not line:
            continue
        if parts:
            pos += 1  # the "\n" before this line
        if b.level:
            number = leading_number(line) if b.number is None else b.number
            headings.append(Heading(pos, pos + len(line), min(max(b.level, 1), 6), number))
        parts.append(line)
        pos += len(line)
    text = "\n".join(parts)
    if not text.strip():
        raise CorpusError(f"{name}: empty")
    title = " ".join(title.split()) or readable_stem(name)
    return Converted(text, tuple(headings), (), title, kind)


# Magic numbers of binary formats people drop into a corpus folder by mistake.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office file such as .doc; save it as .docx or PDF"),
    (b"{\\rtf", "RTF document; save it as .docx or PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "executable"),
    (b"MZ", "executable"),
)
_HTML_START = re.compile(r"<(?:!doctype\s+html|html|head|body)[\s>/]", re.IGNORECASE)
_HTML_PREAMBLE = re.compile(r"\s*(?:<\?xml[^>]*\?>\s*|<!--.*?-->\s*)*", re.DOTALL)


def readable_stem(name: str) -> str:
    """A title made from the file name: "east-africa_ip-review.pdf" → "East africa ip review"."""
    stem = PurePath(name.replace("\\", "/")).name
    if "." in stem.strip("."):
        stem = stem.rsplit(".", 1)[0]
    words = re.sub(r"[\s_\-]+", " ", stem).strip()
    return (words[:1].upper() + words[1:]) if words else (name.strip() or "Untitled document")


def one_line(message: str, limit: int = 200) -> str:
    """Library messages can span lines or be huge; a CorpusError shows one short line."""
    flat = " ".join(str(message).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def table_row(cells: list[str]) -> str:
    """One table row as one line: whitespace-collapsed cells joined by " | "; "" when all empty."""
    clean = [" ".join(c.split()) for c in cells]
    if not any(clean):
        return ""
    return " | ".join(clean).replace("|  |", "| |").strip()


def _suffix(name: str) -> str:
    return PurePath(name.replace("\\", "/")).suffix.lower()


def _decode(name: str, data: bytes) -> str:
    """Text files must be UTF-8; the BOM is dropped. CorpusError says what is wrong otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CorpusError(f"{name}: not valid UTF-8 (UTF-16 text; save it as UTF-8)")
    if b"\x00" in data:
        raise CorpusError(f"{name}: binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{name}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    return text[1:] if text.startswith("\ufeff") else text


def _is_docx_zip(name: str, data: bytes) -> bool:
    """True for a zip holding word/document.xml; False for another zip; CorpusError if unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        what = "DOCX" if _suffix(name) == ".docx" else "a zip archive"
        raise CorpusError(f"{name}: cannot be read as {what} ({one_line(str(exc))})") from None


def _sniff(name: str, data: bytes) -> tuple[str, str | None]:
    """(kind, decoded text for text kinds). Content decides; the extension only breaks ties."""
    suffix = _suffix(name)
    if data.lstrip()[:5] == b"%PDF-":
        return "pdf", None
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        if _is_docx_zip(name, data):
            return "docx", None
        raise CorpusError(f"{name}: unsupported file type (zip archive that is not a Word .docx document)")
    if data.startswith(_BINARY_MAGIC[0][0]) and suffix == ".docx":
        raise CorpusError(f"{name}: encrypted (a password-protected Word file)")
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise CorpusError(f"{name}: unsupported file type ({what})")
    if suffix == ".pdf":
        raise CorpusError(f"{name}: named .pdf but is not a PDF file (no %PDF- header)")
    if suffix == ".docx":
        raise CorpusError(f"{name}: named .docx but is not a Word .docx document (not a zip archive)")
    text = _decode(name, data)
    head = text[:4096]
    pre = _HTML_PREAMBLE.match(head)
    if suffix in SUFFIXES["html"] or _HTML_START.match(head, pre.end() if pre else 0):
        return "html", text
    if suffix in SUFFIXES["markdown"]:
        return "markdown", text
    return "text", text


def detect_kind(name: str, data: bytes) -> str:
    """The kind of a file ("pdf", "docx", "html", "markdown" or "text"), by content first.

    The extension only decides between Markdown and plain text, and a name ending .pdf/.docx
    must hold that format. CorpusError for unsupported, binary or non-UTF-8 files."""
    return _sniff(name, data)[0]


def check_converted(c: Converted) -> None:
    """The invariants every converter guarantees; ValueError names the first one broken."""
    if "\r" in c.text:
        raise ValueError("canonical text contains \\r")
    if not c.title.strip():
        raise ValueError("empty title")
    if c.kind not in KINDS:
        raise ValueError(f"unknown kind {c.kind!r}")
    prev = -1
    for h in c.headings:
        if h.start < prev or not 0 <= h.start < h.end <= len(c.text):
            raise ValueError(f"heading span out of order or range: {h}")
        line_start = c.text.rfind("\n", 0, h.start) + 1
        line_end = c.text.find("\n", h.end)
        line = c.text[line_start : len(c.text) if line_end < 0 else line_end]
        if (
            line.strip() != c.text[h.start : h.end]
            or c.text[h.start : h.end] != c.text[h.start : h.end].strip()
        ):
            raise ValueError(f"heading is not a whole line: {c.text[h.start : h.end]!r}")
        if not 1 <= h.level <= 6:
            raise ValueError(f"heading level out of range: {h}")
        prev = h.end
    if c.pages:
        if c.pages[0] != 0:
            raise ValueError("pages[0] must be 0")
        if any(b < a for a, b in zip(c.pages, c.pages[1:], strict=False)) or c.pages[-1] > len(c.text):
            raise ValueError("page offsets must be non-decreasing and within the text")


def convert(name: str, data: bytes) -> Converted:
    """Convert one file; every failure is a CorpusError whose one-line message starts with ``name``."""
    kind, text = _sniff(name, data)
    try:
        if kind == "pdf":
            from ipqa.formats.pdf import convert_pdf

            result = convert_pdf(name, data)
        elif kind == "docx":
            from ipqa.formats.word import convert_docx

            result = convert_docx(name, data)
        elif kind == "html":
            from ipqa.formats.web import convert_html

            result = convert_html(name, text or "")
        elif kind == "markdown":
            from ipqa.formats.markdown import convert_markdown

            result = convert_markdown(name, text or "")
        else:
            from ipqa.formats.plaintext import convert_text

            result = convert_text(name, text or "")
    except CorpusError as exc:
        raise CorpusError(one_line(str(exc), 300)) from None
    except RecursionError:
        raise CorpusError(f"{name}: cannot be read as {_KIND_NAMES[kind]} (too deeply nested)") from None
    except MemoryError:
        raise CorpusError(f"{name}: cannot be read as {_KIND_NAMES[kind]} (too large to convert)") from None
    except Exception as exc:  # a library failing on a bad file must not escape as a traceback
        why = one_line(f"{type(exc).__name__}: {exc}")
        raise CorpusError(f"{name}: cannot be read as {_KIND_NAMES[kind]} ({why})") from None
    try:
        check_converted(result)
    except ValueError as exc:
        raise CorpusError(f"{name}: conversion produced inconsistent structure ({exc})") from None
    return result

"""PDF → canonical text with page offsets, via pypdf's text layer (no OCR, no layout model).

Pages are read one at a time (only their text lines are kept, never the page objects), then:

* Running headers/footers are dropped: a line among the first two or last two of a page whose
  shape (digits → "#", whitespace collapsed, case folded) recurs there on at least half of the
  pages and on at least 3 of them (both pages of a 2-page file); lone page numbers there
  ("3", "- 3 -", "Page 3", "Page 3 of 10", "3 / 10", "iv"); and chapter running heads that start
  or end with the page's printed number ("Chapter 2: Filing 17") when that shape is at the edge
  of at least two pages and page numbers run in step with the pages.
* Title: the PDF's /Title metadata unless empty or junk ("Untitled", "Microsoft Word - x.docx"),
  else the first unnumbered heading of page 1, else the readable file name.
* Headings are found by the plain-text rules (`plaintext.detect`) on the remaining lines, with
  the document's typical full line length as the wrap width. A line set at least 1.15 times the
  size of the body text (the size most of the document's characters have) is a heading whatever
  its neighbours (a title above a byline that ends without a full stop, a section heading after
  it), unless it ends like a sentence or is too long to be one; a heading that wraps onto a second
  line of the same size is one heading. Sizes come from pypdf's text visitor, matched to the
  extracted lines by their characters; a line it cannot match is judged by the rules alone.
* Lines are rejoined into paragraphs across line and page breaks: the next line continues the
  paragraph when it starts in lower case, or when the line is unfinished (no . ! ? : at its end)
  and about full width (also when the next line opens with a number that would read as a list
  item: "… a further EUR" / "25. The office …"). A bullet marker is not kept ("- " or "• "),
  as in plain text. A line ending with terminal punctuation that is clearly shorter than full
  width ends its paragraph, as do headings and list items; a short unfinished line followed by a
  capitalised one (a caption, a byline, a table cell) stands alone. A full-width line ending in
  "." continues into the next one, so sentences stay whole. "protec-" + "tion" → "protection"
  (hyphens that belong to the word stay: see `plaintext.join_wrapped`).
* ``pages[i]`` is the offset of the first character that came from page i+1 (inside a paragraph
  that began on an earlier page, where that page's first word starts). A page with no text gets
  the offset of the next text, so the offsets never decrease.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
import statistics
from collections import Counter

from ipqa.errors import CorpusError
from ipqa.formats import Converted, Heading, one_line, readable_stem
from ipqa.formats.plaintext import (
    compound_words,
    detect,
    ends_paragraph,
    heading_guess,
    is_list_item,
    is_roman,
    is_table_row,
    join_wrapped,
    strip_bullet,
)

_PAGE_NUMBER = re.compile(
    r"(?i:page|p\.|seite|página)?\s*[-–—]?\s*(?P<n>\d{1,4}|[ivxlcdm]{1,7})\s*[-–—]?"
    r"(?:\s*(?i:/|of|von|de)\s*\d{1,4})?"
)
_LIGATURES = str.maketrans(
    {
        "\ufb00": "ff",
        "\ufb01": "fi",
        "\ufb02": "fl",
        "\ufb03": "ffi",
        "\ufb04": "ffl",
        "\ufb05": "st",
        "\ufb06": "st",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SOFT_HYPHEN = re.compile("\u00ad(?!$)")
_JUNK_TITLE = re.compile(
    r"(?i)^(?:untitled|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf|pptx?|rtf|txt))$"
)
_EDGE = 2  # lines at the top and bottom of a page that may be running headers/footers
_HEADING_SIZE = 1.15  # a line set this many times the body text's size is a heading (module doc)
_HEADING_CHARS = 160  # longer than this, large type is a pull quote or a banner, not a heading
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")

# pypdf logs every repair it makes ("EOF marker not found") to stderr; a file ipqa cannot use is
# reported once, as a CorpusError, so only pypdf's errors stay visible.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def _page_lines(text: str) -> list[str]:
    text = _CONTROL.sub(" ", text.translate(_LIGATURES).replace("\r\n", "\n").replace("\r", "\n"))
    lines = [" ".join(line.split()) for line in text.split("\n") if line.strip()]
    return [_SOFT_HYPHEN.sub("", line) for line in lines] if "\u00ad" in text else lines


def _shape(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).casefold()


def _is_page_number(line: str) -> bool:
    """A lone page number: "3", "- 3 -", "Page 3", "Page 3 of 10", "3 / 10", "iv" (lower-case roman)."""
    m = _PAGE_NUMBER.fullmatch(line.strip())
    return bool(m) and (m.group("n").isdigit() or is_roman(m.group("n").upper()))


def _edges(lines: list[str]) -> set[int]:
    return set(range(min(_EDGE, len(lines)))) | set(range(max(0, len(lines) - _EDGE), len(lines)))


def _page_number_offset(pages: list[list[str]]) -> int | None:
    """The constant printed-number − page-index of the page numbers in edge lines, if there is one.

    Running heads such as "Chapter 2: Filing 17" or "17 Vietnam IP Guide" change with every
    chapter, so repetition alone misses them; the page number they carry gives them away."""
    offsets: Counter[int] = Counter()
    for i, lines in enumerate(pages):
        seen = set()
        for k in _edges(lines):
            tokens = lines[k].split()
            for tok in {tokens[0], tokens[-1]}:
                if tok.isdigit() and len(tok) <= 4:
                    seen.add(int(tok) - i)
        offsets.update(seen)
    if not offsets:
        return None
    best, support = offsets.most_common(1)[0]
    return best if support >= max(3, len(pages) / 3) else None


def _furniture(line: str, counts: Counter[str], need: float, number: str | None) -> bool:
    """Whether an edge line is a running header/footer or page number (see module doc)."""
    shape_count = counts[_shape(line)]
    if shape_count >= need or _is_page_number(line):
        return True
    tokens = line.split()
    return number in (tokens[0], tokens[-1]) and len(tokens) > 1 and shape_count >= 2


def drop_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Pages without running headers, footers and page numbers (see module doc)."""
    return _kept(pages, _not_furniture(pages))


def _kept(rows: list[list], keep: list[list[bool]]) -> list[list]:
    return [[x for x, k in zip(row, ks, strict=True) if k] for row, ks in zip(rows, keep, strict=True)]


def _not_furniture(pages: list[list[str]]) -> list[list[bool]]:
    """For each line of each page, whether it is kept (not a running header, footer or number)."""
    n = len(pages)
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_shape(lines[i]) for i in _edges(lines)})
    need = math.inf if n < 2 else 2 if n == 2 else max(3, math.ceil(n / 2))
    offset = _page_number_offset(pages)
    out = []
    for p, lines in enumerate(pages):
        edge = _edges(lines)
        number = str(p + offset) if offset is not None else None
        out.append(
            [not (i in edge and _furniture(line, counts, need, number)) for i, line in enumerate(lines)]
        )
    return out


def _full_width(lines: list[str]) -> float:
    """Typical length of a full line: lines that wrap mid-sentence, else the 90th percentile."""
    wrapped = [len(a) for a, b in itertools.pairwise(lines) if b[:1].islower() and not ends_paragraph(a)]
    if len(wrapped) >= 5:
        return float(statistics.median(wrapped))
    lengths = sorted(len(x) for x in lines)
    return float(lengths[min(len(lengths) - 1, int(0.9 * len(lengths)))]) if lengths else 0.0


# A line opening with a small number and a stop ("25. The office …") after a full line that
# stops mid-sentence ("… a further EUR") is that sentence wrapping at its number, not a list
# item; a list starts at 1, and follows a finished line or another item.
_WRAPPED_NUMBER = re.compile(r"(?:[2-9]|\d{2,3})[.)]\s")


def _continues(left: str, right: str, width: float) -> bool:
    """Whether ``right`` continues the paragraph that ``left`` (a body line) belongs to."""
    full = len(left) >= 0.75 * width
    if is_list_item(right):
        return bool(
            full and _WRAPPED_NUMBER.match(right) and not ends_paragraph(left) and not is_list_item(left)
        )
    if right[:1].islower():
        return True
    if ends_paragraph(left):
        return full  # a full line ending in "." is a sentence that ended exactly at the margin
    return full and not is_table_row(left)


def _open(name: str, data: bytes):
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except (FileNotDecryptedError, DependencyError):
        raise CorpusError(f"{name}: encrypted (cannot be opened without a password)") from None
    except Exception as exc:
        raise CorpusError(
            f"{name}: cannot be read as PDF ({one_line(f'{type(exc).__name__}: {exc}')})"
        ) from None
    if encrypted:
        try:
            ok = reader.decrypt("")
        except DependencyError:
            raise CorpusError(f"{name}: encrypted (decrypting it needs the 'cryptography' package)") from None
        except (PdfReadError, FileNotDecryptedError, NotImplementedError, ValueError, KeyError) as exc:
            raise CorpusError(
                f"{name}: encrypted ({one_line(str(exc)) or 'unsupported encryption'})"
            ) from None
        if not ok:
            raise CorpusError(f"{name}: encrypted (a password is needed to open it)")
    return reader


def _metadata_title(reader) -> str:
    try:
        meta = reader.metadata
        title = str(meta.title or "") if meta is not None else ""
    except Exception:  # broken metadata only costs the title
        return ""
    title = " ".join(title.replace("\x00", "").split())
    return "" if _JUNK_TITLE.match(title) else title


def convert_pdf(name: str, data: bytes) -> Converted:
    """PDF bytes → Converted (see module doc); CorpusError when it has no usable text."""
    from pypdf.errors import FileNotDecryptedError

    reader = _open(name, data)
    try:
        count = len(reader.pages)
    except Exception as exc:
        raise CorpusError(
            f"{name}: cannot be read as PDF ({one_line(f'{type(exc).__name__}: {exc}')})"
        ) from None
    pages: list[list[str]] = []
    sizes: list[list[float | None]] = []
    for i in range(count):
        chars: list[tuple[str, float]] = []
        try:
            text = reader.pages[i].extract_text(visitor_text=_collect(chars)) or ""
        except FileNotDecryptedError:
            raise CorpusError(f"{name}: encrypted (a password is needed to open it)") from None
        except Exception as exc:
            why = one_line(f"{type(exc).__name__}: {exc}")
            raise CorpusError(f"{name}: cannot be read as PDF (page {i + 1}: {why})") from None
        lines = _page_lines(text)
        pages.append(lines)
        sizes.append(_line_sizes(lines, chars))
    if not any(pages):
        raise CorpusError(f"{name}: no text layer (scanned?)")
    title = _metadata_title(reader)
    del reader
    keep = _not_furniture(pages)
    pages, sizes = _kept(pages, keep), _kept(sizes, keep)
    if not any(pages):
        raise CorpusError(f"{name}: no text layer (scanned?); its only text is page headers or numbers")
    pages, emphasised = _join_wrapped_headings(pages, _emphasised(sizes))
    return build(name, pages, title, emphasised)


def _clean(text: str) -> str:
    """The characters of a text chunk as `_page_lines` leaves them, less whitespace and soft hyphens."""
    text = _CONTROL.sub(" ", text.translate(_LIGATURES))
    return "".join(ch for ch in text if not ch.isspace() and ch != "\u00ad")


def _collect(chars: list[tuple[str, float]]):
    """A pypdf text visitor appending (character, type size in points) for each visible character."""

    def visit(text: str, cm, tm, font, size) -> None:
        if not text or not size:
            return
        scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
        points = round(float(size) * (scale or 1.0), 1)
        chars.extend((ch, points) for ch in _clean(text))

    return visit


def _line_sizes(lines: list[str], chars: list[tuple[str, float]]) -> list[float | None]:
    """Each line's most common type size, found by locating its characters in the visitor's."""
    stream = "".join(ch for ch, _ in chars)
    out: list[float | None] = []
    at = 0
    for line in lines:
        key = _clean(line)
        found = stream.find(key, at) if key else -1
        if found < 0:
            out.append(None)
            continue
        out.append(Counter(size for _, size in chars[found : found + len(key)]).most_common(1)[0][0])
        at = found + len(key)
    return out


def _emphasised(sizes: list[list[float | None]]) -> list[list[float | None]]:
    """The size of each line set larger than the body text (a heading's type), else None."""
    counts = Counter(s for page in sizes for s in page if s is not None)
    if not counts:
        return [[None] * len(page) for page in sizes]
    body = counts.most_common(1)[0][0]
    return [[s if s is not None and s >= _HEADING_SIZE * body else None for s in page] for page in sizes]


def _heading_like(line: str) -> bool:
    return (
        len(line) <= _HEADING_CHARS
        and sum(ch.isalpha() for ch in line) >= 2
        and not _SENTENCE_END.search(line)
    )


def _join_wrapped_headings(
    pages: list[list[str]], big: list[list[float | None]]
) -> tuple[list[list[str]], frozenset[int]]:
    """Pages with a large-type heading that wraps onto a second line joined into one line, and
    the indexes (over all pages' lines) of the large-type lines that read as headings."""
    out: list[list[str]] = []
    marked: set[int] = set()
    n = 0
    for lines, sizes in zip(pages, big, strict=True):
        page: list[str] = []
        prev: float | None = None  # the large type of the line before, if it was a heading
        for line, size in zip(lines, sizes, strict=True):
            wraps = (
                size is not None
                and size == prev
                and not ends_paragraph(page[-1])
                and not ((guess := heading_guess(line)) is not None and guess.numbered)
                and _heading_like(f"{page[-1]} {line}")
            )
            if wraps:
                page[-1] = f"{page[-1]} {line}"
                continue
            prev = size if size is not None and _heading_like(line) else None
            if prev is not None:
                marked.add(n + len(page))
            page.append(line)
        out.append(page)
        n += len(page)
    return out, frozenset(marked)


def build(
    name: str, pages: list[list[str]], title: str = "", emphasised: frozenset[int] = frozenset()
) -> Converted:
    """Page lines (furniture already removed) → paragraphs, headings and page offsets;
    ``emphasised``: indexes over all pages' lines of lines set in a heading's type."""
    flat = [line for lines in pages for line in lines]
    page_of = [p for p, lines in enumerate(pages) for _ in lines]
    width = _full_width(flat)
    firsts = itertools.accumulate([0] + [len(lines) for lines in pages[:-1]])
    found = detect(flat, width=width, breaks=frozenset(firsts), emphasised=emphasised)
    compounds = compound_words(flat)

    parts: list[str] = []  # finished lines of canonical text
    headings: list[Heading] = []
    page_start: list[int | None] = [None] * len(pages)
    pos = 0  # where the next finished line starts
    cur: str | None = None  # the paragraph being built, starting at ``pos``
    prev_raw = ""

    def finish() -> None:
        nonlocal cur, pos
        if cur is not None:
            parts.append(cur)
            pos += len(cur) + 1
            cur = None

    for i, line in enumerate(flat):
        p = page_of[i]
        if found[i] is not None:
            finish()
            level, number = found[i]  # type: ignore[misc]
            headings.append(Heading(pos, pos + len(line), level, number))
            offset = pos
            parts.append(line)
            pos += len(line) + 1
        elif cur is not None and found[i - 1] is None and _continues(prev_raw, line, width):
            cur, at = join_wrapped(cur, line, compounds)
            offset = pos + at
        else:
            finish()
            offset = pos
            cur = strip_bullet(line)  # "- Register early." is quoted as "Register early."
        if page_start[p] is None:
            page_start[p] = offset
        prev_raw = line
    finish()
    text = "\n".join(parts)

    offsets: list[int] = []
    following = len(text)
    for start in reversed(page_start):  # empty pages take the offset of the next text
        following = start if start is not None else following
        offsets.append(following)
    offsets.reverse()
    offsets[0] = 0

    if not title:  # an unnumbered heading on page 1; "1. Introduction" is no title
        page1_end = offsets[1] if len(offsets) > 1 else len(text)
        title = next((text[h.start : h.end] for h in headings if h.start < page1_end and not h.number), "")
    return Converted(text, tuple(headings), tuple(offsets), title or readable_stem(name), "pdf")

"""Plain text → canonical text: headings found by general rules, hard-wrapped paragraphs reflowed.

Why long: heading detection for text without markup needs many small general rules, and the
PDF converter shares them.

Heading rules (shared with the PDF converter, which has no markup either):

* A heading is one short line (≤ 12 words of title, ≤ 120 characters) that starts with a capital
  or a digit and does not end like a sentence (. ! ? , ; or a dangling "and"/"of"/…); a trailing
  ":" is allowed for numbered headings only. Dot leaders ("Scope ...... 3") and table rows ("|")
  never are headings.
* Numbered: "1 Title", "1. Title", "1.Title", "2.3 Title", "2.3.1 Title" (level = number depth);
  roman "IV. Title" / "IV.Title" (level 1); letters "A. Title" (level 2 under roman or arabic
  top-level headings, else 1; only when "A." or the previous letter came first, so initials such as
  "J. Smith" are not headings); keywords "Part II Title", "Chapter 3: Title", "Section 2 – Title",
  "Article 5", "Annex B" (Part 1; Chapter 1, or 2 under parts; Section/Article by number depth, one
  deeper under parts or chapters; Annex/Appendix/Schedule 1).
* A run of consecutive numbered lines with successive numbers and nothing between them is a list
  (or a table of contents), not headings: "1. Register early" / "2. Monitor the market".
* Unnumbered: a short title-like line (Title Case, ALL CAPS, or a sentence-case phrase of ≤ 8 words
  followed by a long paragraph). It must be followed by body text (a finished sentence, a line of
  40+ characters, a list item, a table row or a numbered heading), not by another such line (a
  block of short lines is an address, a form or a signature; an ALL-CAPS line may precede a Title
  Case heading), and must not follow an unfinished line of its block.
  Level: the level of the top numbered headings of the document (1 if it has none); in a document
  without numbered headings that mixes ALL-CAPS and other unnumbered headings, ALL CAPS is 1 and
  the others 2.
* Setext: "Title" over "=====" is level 1, over "-----" level 2; the underline is dropped.
* The file's first line, alone in its block and not ending like a sentence, is the title and a
  level-1 heading even when longer than a heading may be (up to 200 characters).
* A line followed (in its block) by a line starting in lower case is a wrapped line, not a heading
  (unless it is numbered and clearly shorter than the block's lines: "3.1 Invoking asn1Parser").
* Characters of code, markup or tables (| { } < > = ; [ ] ~ ^ * ` @ ::) rule a line out.

Reflow: inside a block (blank lines separate blocks) a line is joined to the next with one space
unless one of them is a heading, the next is a list item or a table row, or the line ends a
paragraph (. ! ? : possibly followed by a closing quote/bracket) and the next one does not start
in lower case; a short unfinished line (under 60% of the block's longest line, or in a block of
short lines) before a capitalised line is not a wrapped line either (addresses, lists without
markers). "protec-" + "tion" → "protection", but hyphens that belong to the word stay (see
`join_wrapped`). A text with one paragraph per line therefore comes out unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ipqa.errors import CorpusError
from ipqa.formats import Converted, Heading, readable_stem

MAX_WORDS = 12
MAX_CHARS = 120
MAX_WORDS_UNNUMBERED = 10
MAX_CHARS_UNNUMBERED = 100

_ARABIC = re.compile(r"(?P<num>\d{1,3}(?:\.\d{1,3}){0,5})(?:[.)](?:\s+|(?=[A-Z]))|\s+)(?P<title>\S.*)")
_ROMAN = re.compile(r"(?P<num>[IVX]{1,6})[.)]\s*(?P<title>\S.*)")  # I … XXXIX: "CV." is not a part
_ROMAN_VALID = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_LETTER = re.compile(r"(?P<num>[A-Z])[.)]\s+(?P<title>\S.*)")
_KEYWORD = re.compile(
    r"(?P<kw>part|chapter|section|article|annex|appendix|schedule)\s+"
    r"(?P<num>\d{1,3}(?:\.\d{1,3}){0,4}|[IVXLCDM]{1,7}|[A-Z])(?!\w|\.\d)\.?"
    r"(?:\s*[:.\-–—]\s*|\s+|$)(?P<title>.*)",
    re.IGNORECASE,
)
_LEADING_NUMBER = re.compile(
    r"(?i:part|chapter|section|article|annex|appendix|schedule)\s+(?P<kn>\d{1,3}(?:\.\d{1,3}){0,5}|[IVX]{1,6}|[A-Z])\b"
    r"|(?P<an>\d{1,3}(?:\.\d{1,3}){0,5})(?:[.)]|\s)"
    r"|(?P<ln>[IVX]{1,6}|[A-Z])[.)]"
)
_SENTENCE_END = re.compile(r"[.!?,;][\"'”’)\]]*$")
_PARAGRAPH_END = re.compile(r"[.!?:][\"'”’)\]]*$")
_CODE_CHARS = re.compile(r"[|{}<>=;\\\[\]~^*`@]|::")  # table cells, code, markup: not a heading
_TWO_SENTENCES = re.compile(r"[a-z]{3,}[.!?]\s+[A-Z]")
_DOT_LEADERS = re.compile(r"(?:\.\s?){4,}|…{2,}|_{4,}")
_LIST_ITEM = re.compile(r"(?:[-*+•◦▪‣·]\s+|\(?\d{1,3}[.)]\s+|\(?[a-z][.)]\s+|\([ivx]{1,5}\)\s+)")
_BULLET = re.compile(r"[-*+•◦▪‣·]\s+")
_TABLE_ROW = re.compile(r"\||\t|\S {3,}\S")
_SETEXT = re.compile(r"(=+|-+)")
_RULE = re.compile(r"(?:[=\-*_~#+—–─━═·•]\s*){3,}")  # a ruler line, never text
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SOFT_HYPHEN = re.compile("\u00ad(?!$)")
_ABBREV_END = re.compile(
    r"(?:\b(?:e\.g|i\.e|vs|cf|no|nos|mr|mrs|ms|dr|prof|art|para|sec|fig|vol|pp?)\.|\b(?:[A-Z]\.){2,})$",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    "a an the and or nor but of in on at to for from by with without into onto over under via per as vs "
    "than its their our your his her".split()
)
_DANGLING = frozenset(
    "a an the and or nor but of in on at to for from by with into as than that which".split()
)
_KEYWORD_TOP = {"part": 1, "annex": 1, "appendix": 1, "schedule": 1}


@dataclass(frozen=True)
class Guess:
    """What one line looks like on its own, before its neighbours are considered."""

    style: str  # arabic | roman | letter | keyword | caps | title | sentence
    number: str  # numbering token, "" when unnumbered
    depth: int  # dotted depth for arabic / section numbers, 1 otherwise
    keyword: str = ""  # part | chapter | section | … for keyword headings

    @property
    def numbered(self) -> bool:
        return bool(self.number)


def _roman_value(s: str) -> int:
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for a, b in zip(s, s[1:] + " ", strict=True):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


def is_roman(s: str) -> bool:
    return bool(s) and bool(_ROMAN_VALID.fullmatch(s.upper()))


def _title_ok(title: str, *, allow_colon: bool) -> bool:
    """The words after the number (or the whole line) could be a heading's title."""
    title = title.strip()
    if not title:
        return False
    first = title.lstrip("\"'“‘(")[:1]
    if not (first.isupper() or first.isdigit()):
        return False
    if sum(ch.isalpha() for ch in title) < 2 or len(title.split()) > MAX_WORDS:
        return False
    if _SENTENCE_END.search(title) or title[-1] in "-–—/&(+=" or (title.endswith(":") and not allow_colon):
        return False
    if _DOT_LEADERS.search(title) or _CODE_CHARS.search(title) or _TWO_SENTENCES.search(title):
        return False
    if title.count(")") > title.count("(") or title.count("”") > title.count("“"):
        return False  # the end of a bracket or quotation that began on the line before
    last = title.rstrip(":").split()[-1].lower()
    return last not in _DANGLING


def heading_guess(line: str) -> Guess | None:
    """How the line would be numbered and styled if it were a heading; None if it cannot be one."""
    line = line.strip()
    if not line or len(line) > MAX_CHARS or "\t" in line:
        return None
    if (m := _KEYWORD.fullmatch(line)) and line[0].isupper():
        title, num = m.group("title"), m.group("num")
        kw = m.group("kw").lower()
        if (not title or _title_ok(title, allow_colon=True)) and not (
            len(num) == 1 and num.isalpha() and num.islower()
        ):
            depth = num.count(".") + 1 if num[0].isdigit() else 1
            return Guess("keyword", num, depth, kw)
        return None
    if m := _ARABIC.fullmatch(line):
        if _title_ok(m.group("title"), allow_colon=True):
            num = m.group("num")
            return Guess("arabic", num, num.count(".") + 1)
        return None
    if (m := _ROMAN.fullmatch(line)) and is_roman(m.group("num")):
        title = m.group("title")
        if _title_ok(title, allow_colon=True) and not re.match(r"[A-Z]\.", title):
            return Guess("roman", m.group("num"), 1)
        return None
    if m := _LETTER.fullmatch(line):
        title = m.group("title")
        if _title_ok(title, allow_colon=True) and not re.match(r"[A-Z]\.", title):
            return Guess("letter", m.group("num"), 1)
        return None
    if _LIST_ITEM.match(line) or len(line) > MAX_CHARS_UNNUMBERED:
        return None
    if not line[0].isupper() or not _title_ok(line, allow_colon=False):
        return None
    words = line.split()
    if len(words) > MAX_WORDS_UNNUMBERED:
        return None
    letters = [ch for ch in line if ch.isalpha()]
    if len(letters) >= 2 and all(ch.isupper() for ch in letters if ch.isupper() or ch.islower()):
        return Guess("caps", "", 1)
    significant = [w for w in words if w.lower().strip("\"'“”‘’()") not in _STOPWORDS]
    caps = sum(1 for w in significant if w.lstrip("\"'“‘(")[:1].isupper() or w[:1].isdigit())
    if significant and caps / len(significant) >= 0.6:
        return Guess("title", "", 1)
    if len(words) <= 8:
        return Guess("sentence", "", 1)
    return None


_ANY_NUMBERING = re.compile(r"(?P<num>\d{1,3}(?:\.\d{1,3}){0,5}|[IVXLCDM]{1,7}|[A-Z])[.)]?\s")


def _numbering(line: str) -> Guess | None:
    """The numbering of any line ("2. Monitor the market." is item 2 even though not a heading)."""
    m = _ANY_NUMBERING.match(line)
    if not m:
        return None
    num = m.group("num")
    if num[0].isdigit():
        return Guess("arabic", num, num.count(".") + 1)
    if len(num) > 1 or num in "IVX":
        return Guess("roman", num, 1) if is_roman(num) and line[len(num)] in ".)" else None
    return Guess("letter", num, 1) if line[1] in ".)" else None


def leading_number(heading: str) -> str:
    """The numbering token a heading starts with ("2.3", "IV", "A", "3" of "Chapter 3"), or ""."""
    g = heading_guess(heading)
    if g is not None:
        return g.number
    m = _LEADING_NUMBER.match(heading.strip())
    if not m:
        return ""
    num = m.group("kn") or m.group("an") or m.group("ln")
    return "" if len(num) > 1 and num.isalpha() and not is_roman(num) else num


def is_list_item(line: str) -> bool:
    return bool(_LIST_ITEM.match(line))


def is_table_row(line: str) -> bool:
    return bool(_TABLE_ROW.search(line))


def ends_paragraph(line: str) -> bool:
    """The line ends a sentence that may end a paragraph (not "e.g." or "U.S.")."""
    return bool(_PARAGRAPH_END.search(line)) and not _ABBREV_END.search(line.rstrip("\"'”’)]"))


def _successor(a: Guess, b: Guess) -> bool:
    """b's number directly follows a's within one numbering style (1 → 2, 2.3 → 2.4, C → D, IV → V)."""
    if a.style != b.style or a.depth != b.depth or a.keyword != b.keyword:
        return False
    x, y = a.number, b.number
    if x.replace(".", "").isdigit() and y.replace(".", "").isdigit():
        xs, ys = x.split("."), y.split(".")
        return xs[:-1] == ys[:-1] and int(ys[-1]) == int(xs[-1]) + 1
    if is_roman(x) and is_roman(y) and a.style in ("roman", "keyword"):
        return _roman_value(y.upper()) == _roman_value(x.upper()) + 1
    return len(x) == len(y) == 1 and ord(y.upper()) == ord(x.upper()) + 1


def _block_widths(lines: Sequence[str]) -> list[int]:
    """For each line, the length of the longest line of its block (0 for blank lines)."""
    out = [0] * len(lines)
    i, n = 0, len(lines)
    while i < n:
        if not lines[i]:
            i += 1
            continue
        j = i
        while j < n and lines[j]:
            j += 1
        w = max(len(x) for x in lines[i:j])
        out[i:j] = [w] * (j - i)
        i = j
    return out


def detect(
    lines: Sequence[str],
    forced: Mapping[int, int] | None = None,
    width: float | None = None,
    breaks: frozenset[int] = frozenset(),
    emphasised: frozenset[int] = frozenset(),
) -> list[tuple[int, str] | None]:
    """(level, number) for each heading line, None for others. ``lines`` are stripped; "" = blank.

    ``forced`` maps line index → level for headings known from markup (setext underlines);
    ``width`` is the typical full line length (default: the longest line of each block), used to
    tell a wrapped line from a finished one; ``breaks`` are lines that start a page, where a
    heading may follow an unfinished line (the previous page's table or list); ``emphasised``
    are lines known to be headings from their type (set larger than the body text), whose level
    still comes from their numbering, so they skip the checks of their neighbours."""
    forced = forced or {}
    n = len(lines)
    guesses = [heading_guess(line) if i not in forced else None for i, line in enumerate(lines)]

    block_width = [width or w for w in _block_widths(lines)]

    following: list[int | None] = [None] * n  # index of the next non-blank line
    nxt_index: int | None = None
    for k in range(n - 1, -1, -1):
        following[k] = nxt_index
        if lines[k]:
            nxt_index = k

    def next_nonblank(i: int) -> int | None:
        return following[i]

    # Successive numbers with nothing between them: a list or a table of contents.
    numbering = [guesses[i] or _numbering(line) for i, line in enumerate(lines)]
    in_list = [False] * n
    for i, g in enumerate(numbering):
        if g is None or not g.numbered:
            continue
        j = next_nonblank(i)
        if j is not None and (h := numbering[j]) is not None and h.numbered and _successor(g, h):
            in_list[i] = in_list[j] = True

    accepted: list[Guess | None] = [None] * n
    letters_seen: set[str] = set()
    romans_seen: set[int] = set()
    for i, g in enumerate(guesses):
        if i in forced:
            continue
        if i in emphasised:
            g = g or Guess("title", "", 1)
            if g.style == "letter":
                letters_seen.add(g.number)
            elif g.style == "roman":
                romans_seen.add(_roman_value(g.number))
            accepted[i] = g
            continue
        if g is None or in_list[i]:
            continue
        prev = lines[i - 1] if i > 0 and lines[i - 1] and i not in breaks else None
        nxt = lines[i + 1] if i + 1 < n and lines[i + 1] else None
        short = len(lines[i]) < 0.6 * block_width[i]
        if nxt is not None and nxt[:1].islower() and not (g.numbered and short):
            continue  # the line wraps into the next one
        prev_heading = i > 0 and (accepted[i - 1] is not None or (i - 1) in forced)
        prev_open = (
            prev is not None
            and not prev_heading
            and not ends_paragraph(prev)
            and not is_table_row(prev)
            # a list item ends without punctuation, unless (with a known width) it wraps
            and (not is_list_item(prev) or (width is not None and len(prev) >= 0.75 * width))
        )
        if g.style == "roman" and len(g.number) == 1 and g.number in "IVX":
            # "I." after "H." is a letter; "V." is a roman five only after "IV."
            if chr(ord(g.number) - 1) in letters_seen:
                g = Guess("letter", g.number, 1)
            elif g.number != "I" and _roman_value(g.number) - 1 not in romans_seen:
                continue
        if g.numbered:
            if prev_open and len(prev) >= 0.6 * block_width[i]:
                continue  # a wrapped sentence that happens to continue with a number
            if g.style == "letter" and g.number != "A" and chr(ord(g.number) - 1) not in letters_seen:
                continue
        else:
            if prev_open:
                continue
            j = next_nonblank(i)
            if j is None or lines[j][:1].islower():
                continue
            h = guesses[j] if j not in forced else Guess("forced", "", 1)
            followed_by_title = h is not None and not h.numbered and h.style != "forced"
            if followed_by_title and not (g.style == "caps" and h.style != "caps"):
                continue
            follow = lines[j]
            structured = is_list_item(follow) or is_table_row(follow) or (h is not None and h.numbered)
            if g.style == "sentence":
                long_body = len(follow) >= max(40, 1.5 * len(lines[i])) and h is None
                if not (long_body or structured):
                    continue
            elif h is None and not (structured or ends_paragraph(follow) or len(follow) >= 40):
                continue  # followed by another short fragment: a form field, an address, a signature
        accepted[i] = g
        if g.style == "letter":
            letters_seen.add(g.number)
        elif g.style == "roman":
            romans_seen.add(_roman_value(g.number))

    return _levels(accepted, forced, lines)


def _levels(
    accepted: list[Guess | None], forced: Mapping[int, int], lines: Sequence[str]
) -> list[tuple[int, str] | None]:
    """Levels from numbering styles, with unnumbered headings at the top numbered level."""
    styles = {g.style for g in accepted if g is not None}
    keywords = {g.keyword for g in accepted if g is not None and g.style == "keyword"}
    has_top = "roman" in styles or any(
        g is not None and g.style == "arabic" and g.depth == 1 for g in accepted
    )
    out: list[tuple[int, str] | None] = [None] * len(accepted)
    numbered_levels: list[int] = []
    for i, g in enumerate(accepted):
        if g is None or not g.numbered:
            continue
        if g.style == "arabic":
            level = g.depth
        elif g.style == "roman":
            level = 1
        elif g.style == "letter":
            level = 2 if has_top or "keyword" in styles else 1
        elif g.keyword in _KEYWORD_TOP:
            level = _KEYWORD_TOP[g.keyword]
        elif g.keyword == "chapter":
            level = 2 if "part" in keywords else 1
        else:  # section, article
            level = g.depth + (1 if keywords & {"part", "chapter"} else 0)
        level = min(level, 6)
        numbered_levels.append(level)
        out[i] = (level, g.number)
    top = min(numbered_levels, default=1)
    unnumbered = [g for g in accepted if g is not None and not g.numbered]
    mixed = (
        not numbered_levels
        and any(g.style == "caps" for g in unnumbered)
        and any(g.style != "caps" for g in unnumbered)
    )
    for i, g in enumerate(accepted):
        if g is not None and not g.numbered:
            out[i] = (min(top + 1, 6) if mixed and g.style != "caps" else top, "")
    for i, level in forced.items():
        out[i] = (min(max(level, 1), 6), leading_number(lines[i]))
    return out


def find_headings(text: str) -> tuple[Heading, ...]:
    """Headings of an already canonical text (one paragraph per line), by the rules above."""
    lines = text.split("\n")
    stripped = [line.strip() for line in lines]
    found = detect(stripped)
    out: list[Heading] = []
    pos = 0
    for raw, clean, h in zip(lines, stripped, found, strict=True):
        if h is not None:
            start = pos + (len(raw) - len(raw.lstrip()))
            out.append(Heading(start, start + len(clean), h[0], h[1]))
        pos += len(raw) + 1
    return tuple(out)


def normalise_lines(text: str) -> list[str]:
    """Lines without line-break variants, control characters or surrounding whitespace."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2029", "\n\n").replace("\u2028", "\n").replace("\x85", "\n")
    text = text.replace("\f", "\n").replace("\v", "\n").replace("\ufeff", "")
    text = _CONTROL.sub("", text)
    lines = [line.strip() for line in text.split("\n")]
    if "\u00ad" in text:  # soft hyphens are invisible except where they break a line
        lines = [_SOFT_HYPHEN.sub("", line) for line in lines]
    return lines


def _setext(lines: list[str]) -> tuple[list[str], dict[int, int]]:
    """Setext underlines become levels of the line above; underlines and ruler lines become blank."""
    out = list(lines)
    forced: dict[int, int] = {}
    for i, line in enumerate(lines):
        if not line:
            continue
        if _SETEXT.fullmatch(line) and len(line) >= 3 and i > 0 and lines[i - 1]:
            above = lines[i - 1]
            alone = i < 2 or not lines[i - 2]
            if (
                alone
                and len(above) <= MAX_CHARS
                and not is_list_item(above)
                and not _SENTENCE_END.search(above)
                and not _RULE.fullmatch(above)
            ):
                forced[i - 1] = 1 if line[0] == "=" else 2
                out[i] = ""
                continue
        if _RULE.fullmatch(line):
            out[i] = ""
    return out, forced


_COMPOUND = re.compile(r"\w+(?:-\w+)+")


def compound_words(lines: Sequence[str]) -> frozenset[str]:
    """Hyphenated words written inside lines ("cross-border"): evidence for keeping a line-end hyphen."""
    return frozenset(w.lower() for line in lines for w in _COMPOUND.findall(line))


def join_wrapped(left: str, right: str, compounds: frozenset[str] = frozenset()) -> tuple[str, int]:
    """Two wrapped pieces of one paragraph, and where ``right`` starts in the result.

    A word hyphenated at the line end is rejoined ("protec-" + "tion" → "protection") unless the
    hyphen belongs to the word: before a capital or digit ("Euro-Med", "COVID-19"), after a
    one-letter or all-caps prefix ("e-commerce", "AI-related"), inside a longer compound
    ("year-on-" + "year"), or when the document writes the hyphenated form elsewhere."""
    if left.endswith("\u00ad"):
        return left[:-1] + right, len(left) - 1
    if left.endswith("-") and len(left) >= 2 and left[-2].isalnum() and right[:1].isalnum():
        frag = re.split(r"[^\w-]", left[:-1])[-1]
        first = re.match(r"\w*", right).group(0)  # type: ignore[union-attr]
        letters = [c for c in frag if c.isalpha()]
        keep = (
            not right[0].islower()
            or "-" in frag
            or len(letters) <= 1
            or (len(letters) >= 2 and all(c.isupper() for c in letters))
            or f"{frag}-{first}".lower() in compounds
        )
        if keep:
            return left + right, len(left)
        return left[:-1] + right, len(left) - 1
    return left + " " + right, len(left) + 1


def _should_join(left: str, right: str, width: int) -> bool:
    """Whether ``right`` continues the paragraph of ``left`` in a block whose longest line is ``width``.

    A short unfinished line before a capitalised one (an address, a poem, a list without markers)
    is not a wrapped line: hard-wrapped prose fills its lines."""
    if is_list_item(right) or is_table_row(left) or is_table_row(right):
        return False
    if right[:1].islower():
        return True
    if ends_paragraph(left):
        return False
    return width >= 40 and len(left) >= 0.6 * width


def strip_bullet(line: str) -> str:
    m = _BULLET.match(line)
    return line[m.end() :] if m else line


MAX_TITLE_CHARS = 200


def _opening_title(lines: Sequence[str], forced: Mapping[int, int]) -> int | None:
    """The file's first line when it is a title: alone in its block, not ending like a sentence,
    with text after it. A brief's title is often longer than a heading may be ("Portugal:
    software, game studios and intellectual property — a brief for foreign investors"), and was
    then read as an untitled opening line, the file name standing for the title."""
    first = next((i for i, line in enumerate(lines) if line), None)
    if first is None or first in forced:
        return None
    line = lines[first]
    alone = first + 1 < len(lines) and not lines[first + 1]
    rest = any(lines[first + 1 :])
    if (
        alone
        and rest
        and len(line) <= MAX_TITLE_CHARS
        and (line[0].isupper() or line[0].isdigit())
        and not _SENTENCE_END.search(line)
        and not is_list_item(line)
        and not is_table_row(line)
        and not _CODE_CHARS.search(line)
        and not _numbering(line)
    ):
        return first
    return None


def convert_text(name: str, text: str) -> Converted:
    """Plain text → Converted; CorpusError("<name>: empty") when there is no text."""
    lines, forced = _setext(normalise_lines(text))
    found = detect(lines, forced)
    if (first := _opening_title(lines, forced)) is not None and found[first] is None:
        found[first] = (1, "")
    compounds = compound_words(lines)
    widths = _block_widths(lines)
    out: list[tuple[str, tuple[int, str] | None]] = []
    current: str | None = None
    last_raw = ""
    for i, line in enumerate(lines):
        if not line or found[i] is not None:
            if current is not None:
                out.append((current, None))
                current = None
            if line:
                out.append((line, found[i]))
            continue
        if current is not None and _should_join(last_raw, line, widths[i]):
            current = join_wrapped(current, line, compounds)[0]
        else:
            if current is not None:
                out.append((current, None))
            current = strip_bullet(line)
        last_raw = line
    if current is not None:
        out.append((current, None))
    out = [(t, h) for t, h in out if t.strip()]
    if not out:
        raise CorpusError(f"{name}: empty")

    parts: list[str] = []
    headings: list[Heading] = []
    pos = 0
    for t, h in out:
        if h is not None:
            headings.append(Heading(pos, pos + len(t), h[0], h[1]))
        parts.append(t)
        pos += len(t) + 1
    title = readable_stem(name)
    first_text, first_h = out[0]
    if first_h is not None and first_h[0] == 1 and not first_h[1] and len(out) > 1:
        title = first_text
    return Converted("\n".join(parts), tuple(headings), (), title, "text")

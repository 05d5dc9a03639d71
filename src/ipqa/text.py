"""Shared text analysis: tokens, stems, stopwords, numbers and spelling.

Retrieval (BM25), the extractive composer and the grounding checker must agree on what a
"term" and a "number" are, so they all use these functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from functools import cache

_WORD = re.compile(r"[A-Za-z0-9]+(?:[.’'-][A-Za-z0-9]+)*")

STOPWORDS = frozenset(
    (
        "a about above after again against all am an and any are as at be because been before being "
        "below between both but by can could did do does doing down during each few for from "
        "further had has have having he her here hers herself him himself his how i if in into is "
        "it its itself just me more most my myself no nor not of off on once only or other our ours "
        "ourselves out over own same she should so some such than that the their theirs them "
        "themselves then there these they this those through to too under until up very was we were "
        "what when where which while who whom why will with would you your yours yourself "
        "yourselves s t don shouldn now also per via us tell please say said report does according "
        "explain describe give list many much long happen happened"
    ).split()
)


@cache
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def normalize(text: str) -> str:
    """NFKC plus straight quotes, so “Patent Act” and "patent act" compare equal."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def words(text: str) -> list[str]:
    """Lower-cased words; a possessive "'s" is dropped (Kenya's → kenya)."""
    out = []
    for w in _WORD.findall(normalize(text)):
        w = w.lower()
        out.append(w[:-2] if w.endswith("'s") else w)
    return out


def stem(word: str) -> str:
    return _stemmer().stemWord(word.lower())


def terms(text: str) -> list[str]:
    """Stemmed content terms (stopwords removed), in order; used by BM25 and overlap scores."""
    out = []
    for w in words(text):
        if w in STOPWORDS:
            continue
        if "-" in w:  # "year-on-year", "cross-border": index the parts and the whole
            out.extend(stem(p) for p in w.split("-") if p and p not in STOPWORDS)
        out.append(stem(w))
    return out


# ---------------------------------------------------------------- numbers

_NUM_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
}  # fmt: skip
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\d])")


def numbers(text: str) -> set[str]:
    """Numbers as canonical strings: '1,200' → '1200', 'six' → '6', '2.8' stays '2.8'.

    Section-like labels ("5.0" in "Industry 5.0") count too: a number is a number.
    """
    text = normalize(text)
    found = {m.group(1).replace(",", "") for m in _NUMBER.finditer(text)}
    for w in words(text):
        for part in w.split("-"):
            if part in _NUM_WORDS:
                found.add(_NUM_WORDS[part])
    return found


_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}  # fmt: skip
_TWO_DIGITS = rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(_UNITS)}))?|{'|'.join(_TEENS)}|oh[- ](?:{'|'.join(_UNITS)}))"
_SPELLED_YEAR = re.compile(
    rf"\b(?:(?P<century>nineteen|twenty)[- ](?P<rest>{_TWO_DIGITS})"
    rf"|two thousand(?: and)?[- ](?P<small>{_TWO_DIGITS}|{'|'.join(_UNITS)}))\b",
    re.IGNORECASE,
)


def _two_digits(text: str) -> int:
    parts = text.lower().replace("-", " ").split()
    if parts[0] == "oh":
        return _UNITS.index(parts[1]) + 1
    if parts[0] in _TEENS:
        return 10 + _TEENS.index(parts[0])
    if parts[0] in _UNITS:
        return _UNITS.index(parts[0]) + 1
    return _TENS[parts[0]] + (_UNITS.index(parts[1]) + 1 if len(parts) > 1 else 0)


def spelled_years(text: str) -> str:
    """Years written in words as digits ("twenty twenty-four", "two thousand and three" → 2024,
    2003), as people say them: documents write years in digits, and a question's year must be
    compared with theirs. Only the shapes of a year, so "twenty twenty" is one while "twenty five"
    and "two thousand firms" are left alone."""

    def year(m: re.Match[str]) -> str:
        if m.group("century"):
            return str(
                (19 if m.group("century").lower() == "nineteen" else 20) * 100 + _two_digits(m.group("rest"))
            )
        return str(2000 + _two_digits(m.group("small")))

    return _SPELLED_YEAR.sub(year, text)


# ---------------------------------------------------------------- spelling


class Speller:
    """Maps misspelt question words onto the corpus vocabulary (edit distance ≤ 2, SymSpell-style).
    A word of `known` (correct English the corpus may not use) is never changed. An inflected
    form of one, or a word with the stem of a corpus term (`stems`), is only written as the corpus
    writes its stem ("infringment" → "infringement"), never as another word: "fakes" is no typo of
    "faces", nor "breaching" (beside "breach") of "reaching". Nor is an acronym (up to six
    letters, two capitals or more: "SaaS", "HVDC"), which is spelt as meant and is not a typo of
    the nearest word ("says")."""

    def __init__(
        self, freq: dict[str, int], known: frozenset[str] = frozenset(), stems: Collection[str] = frozenset()
    ) -> None:
        self.freq = freq
        self.known = known
        self.stems = stems
        self._deletes: dict[str, set[str]] = {}
        for w in freq:
            if len(w) >= 4:
                for d in _deletes(w):
                    self._deletes.setdefault(d, set()).add(w)

    def correct(self, word: str) -> str:
        w = word.lower()
        if w in self.freq or w in self.known or w in STOPWORDS or len(w) < 4 or any(ch.isdigit() for ch in w):
            return word
        if len(word) <= 6 and sum(ch.isupper() for ch in word) >= 2:  # shouted words are longer
            return word
        options: set[str] = set()
        for d in {w, *_deletes(w)}:
            options |= self._deletes.get(d, set())
            if d in self.freq:
                options.add(d)
        options = {o for o in options if _edit_distance(w, o) <= (1 if len(w) < 6 else 2)}
        if not options:
            return word
        best = min(options, key=lambda o: (_edit_distance(w, o), -self.freq[o], o))
        bases = _bases(w)
        if stem(best) == stem(w) or best in bases:  # "infringment", "saless": the same word
            return best
        if stem(w) in self.stems or any(b in self.known or b in self.freq for b in bases):
            return word  # a form of another word: correcting it would change what it means
        return best

    def correct_text(self, text: str) -> str:
        return _WORD.sub(lambda m: self.correct(m.group(0)), text)


def _bases(w: str) -> set[str]:
    """The words w may be an inflection of: "fakes" → "fake", "salaried" → "salary", "stopping"
    → "stop", "product's" → "product"."""
    out = set()
    for suffix, repl in (("'s", ""), ("’s", ""), ("ies", "y"), ("ied", "y"), ("es", ""), ("s", ""),
                         ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e")):  # fmt: skip
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            base = w[: -len(suffix)] + repl
            out.add(base)
            short = base[:-1]  # "stopped" → "stop", but "trainning" is no form of "train"
            doubled = suffix in ("ed", "ing") and not repl and len(short) >= 3 and base[-1] == base[-2]
            if doubled and short[-1] not in "aeiou" and short[-2] in "aeiou" and short[-3] not in "aeiou":
                out.add(short)
    return out


def _deletes(w: str) -> set[str]:
    return {w[:i] + w[i + 1 :] for i in range(len(w))}


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]

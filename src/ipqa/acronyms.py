"""Acronyms in a question that the documents spell out: "SaaS" → "software-as-a-service".

Users write "IP office", "SaaS" or "JV" where a document writes the words in full; keyword
search then misses the sentence, and the answering model sees it share fewer of the question's
words than it does. An acronym the documents never use is matched against the documents' own
phrases whose words' initials spell it (function words such as "of" or "and" may sit between,
as in "research and development"), and the most frequent such phrase is searched for beside it.
Nothing is listed: what an acronym stands for comes from the documents.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Container, Iterable
from functools import cached_property

from ipqa.text import STOPWORDS, terms

# A question word read as an acronym: two to six letters (an "&" may join them), at least two
# capitals, not a plain capitalised word ("Patent"); a plural "s" may follow ("PSBs").
_ACRONYM = re.compile(r"(?<![\w&])([A-Z][A-Za-z&]{0,6}[A-Z])(s?)(?![\w&])")
# Words that may sit between the spelled-out words without a letter of their own.
_LINKS = "(?:of|and|for|the|in|on|to|&)"
_WORD_END = r"[a-z0-9'’]*"


def _letters(acronym: str) -> str:
    """Its letters, lower-cased; "&" stays, standing for "and" ("R&D")."""
    return "".join(ch.lower() for ch in acronym if ch.isalpha() or ch == "&")


def _pattern(letters: str) -> re.Pattern[str]:
    """A phrase whose words start with these letters, words joined by spaces or hyphens, function
    words allowed between them."""
    sep = rf"[ \-]+(?:{_LINKS}[ \-]+)*"
    first = rf"\b{re.escape(letters[0])}[a-z]{_WORD_END}"  # the first word is never a lone letter
    rest = ""
    for ch in letters[1:]:
        if ch == "&":
            rest += r"[ \-]+(?:and|&)"
        else:
            rest += rf"{sep}{re.escape(ch)}{_WORD_END}"
    return re.compile(first + rest + r"\b", re.IGNORECASE)


def spellings(question: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each acronym of a question as the term it is searched by, with the pattern of the phrases
    that spell it out: "IP" ("ip", intellectual property), "R&D" ("r&d", research and development).
    An acronym that is a common word's spelling ("IT", "US") has no term and is left out."""
    out: dict[str, re.Pattern[str]] = {}
    for m in _ACRONYM.finditer(question):
        letters = _letters(m.group(1))
        found = terms(m.group(1))
        if len(letters) >= 2 and len(found) == 1:
            out.setdefault(found[0], _pattern(letters))
    return tuple(out.items())


def spells(pattern: re.Pattern[str], text: str) -> bool:
    """Whether `text` spells the acronym out: a phrase of its initials that neither starts nor
    ends with a function word ("intellectual property", not "in particular")."""
    for m in pattern.finditer(text):
        words = re.split(r"[ \-]+", m.group(0).lower())
        if words[0] not in STOPWORDS and words[-1] not in STOPWORDS:
            return True
    return False


class Acronyms:
    """Expands a question's acronyms with the documents' own phrases (one per index)."""

    def __init__(
        self, sentences: Iterable[str], vocabulary: Container[str], names_place: Callable[[str], bool]
    ) -> None:
        self._sentences = sentences
        self._vocabulary = vocabulary  # lower-cased words (the index's spelling lexicon)
        self._names_place = names_place
        self._cache: dict[str, str | None] = {}

    @cached_property
    def _text(self) -> str:
        """The documents' sentences, one per line: joined on the first acronym to look up, not
        when an engine starts (most questions have none)."""
        return "\n".join(s.replace("\n", " ") for s in self._sentences)

    def expansion(self, acronym: str) -> str | None:
        """The documents' most frequent phrase spelling out `acronym`, or None.

        Short acronyms match by chance ("UK", "usually keep"; "KSA", "Kenya and South Africa"),
        so a two-letter acronym's phrase must occur three times and be at least half of the
        phrases its letters spell, a phrase with words skipped between its letters' words twice,
        and a phrase naming a place is never taken: a place read into the question would change
        what it is about."""
        letters = _letters(acronym)
        if letters in self._cache:
            return self._cache[letters]
        found: Counter[str] = Counter()
        surface: dict[str, str] = {}
        for m in _pattern(letters).finditer(self._text):
            phrase = m.group(0)
            words = re.split(r"[ \-]+", phrase.lower())
            if words[0] in STOPWORDS or words[-1] in STOPWORDS:  # "in part", "is a"
                continue
            if self._names_place(phrase):
                continue
            key = " ".join(words)
            found[key] += 1
            surface.setdefault(key, phrase)
        best = None
        if found:
            key, count = max(found.items(), key=lambda kv: (kv[1], kv[0]))
            skipped = len(key.split()) > len(letters)  # an "&" stands for its own word, "and"
            needs = 3 if len(letters) == 2 else 2 if skipped else 1
            dominant = count * 2 >= sum(found.values())  # "joint venture", not one of many pairs
            if count >= needs and dominant:
                best = surface[key]
        self._cache[letters] = best
        return best

    def expand(self, question: str) -> str:
        """The question with "(phrase)" after each acronym the documents do not use but spell out."""

        def one(m: re.Match[str]) -> str:
            word = m.group(0)
            if m.group(1).lower() in self._vocabulary or word.lower() in self._vocabulary:
                return word
            if self._names_place(word):  # "UK", "UAE": the gazetteer reads them already
                return word
            phrase = self.expansion(m.group(1))
            return f"{word} ({phrase})" if phrase else word

        return _ACRONYM.sub(one, question)

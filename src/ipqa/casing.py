"""A question's names written the way the documents write them: "sub saharan fintech alliance"
→ "Sub-Saharan Fintech Alliance".

Users type names in lower case. The names, cities and acronyms a question holds are read from its
capitals (entities.py), so such a question names nothing the documents do, and a hyphened
region typed apart ("europe mediterranean") even reads as a place of its own. Keyword search
and the encoders do not see case; the entity features do. A run of question words is given the
documents' form when the documents always capitalise it (they never write it in lower case) and
write it one way: names, titles, "IP", "Sub-Saharan" with its hyphen. Nothing is listed: the
forms come from the documents.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Container, Iterable
from functools import cached_property
from itertools import pairwise

# Words as the gazetteer reads them ("Sub-Saharan", "Ghana's"), and the lower-case words a name
# may hold between its capitalised ones ("Ministry of Finance"), as name extraction allows them:
# not "and", which joins two names ("Ghana and Kenya") more often than it sits inside one.
from ipqa.entities import NAME_CONNECTORS as _LINKS
from ipqa.entities import WORD_TOKEN

_LONGEST = 6  # words in the longest name looked up


def _parts(token: str) -> list[str]:
    """A token's words, lower-cased: "Sub-Saharan" and "sub saharan" are the same name."""
    return [p for p in token.lower().split("-") if p]


def _capitalised(token: str) -> bool:
    return token[:1].isupper()


class Casing:
    """Restores the documents' form of the names in a question typed without it (one per index)."""

    def __init__(self, sentences: Iterable[str], ordinary: Container[str]) -> None:
        self._sentences = sentences
        self._ordinary = ordinary  # common English words: a lone one is never made a name

    @cached_property
    def _forms(self) -> tuple[dict[str, str], dict[str, str]]:
        """(name of two words or more → its form, single word → its form), learned on the first
        question that could use them, not when an engine starts."""
        texts = list(self._sentences)
        sentences = [[(m.group(0), m.start(), m.end()) for m in WORD_TOKEN.finditer(t)] for t in texts]
        lower: Counter[str] = Counter()  # a word written in lower case somewhere
        for toks in sentences:
            for tok, _, _ in toks:
                if tok == tok.lower():
                    lower.update(_parts(tok))
        phrases: dict[str, Counter[str]] = defaultdict(Counter)
        words: dict[str, Counter[str]] = defaultdict(Counter)
        for text, toks in zip(texts, sentences, strict=True):
            for run in self._runs(text, toks, lower):
                first, last = run[0], run[-1]
                surface = text[first[1] : last[2]]
                key = " ".join(p for tok, _, _ in run for p in _parts(tok))
                if len(key.split()) >= 2:
                    phrases[key][surface] += 1
                elif first[1] > 0:  # a lone word, not the sentence's first
                    words[key][surface] += 1
        # A name the documents also write in lower case is not always a name ("data protection").
        seen_lower = self._lower_ngrams(sentences, set(phrases))
        multi = {k: _dominant(c) for k, c in phrases.items() if k not in seen_lower}
        single = {
            k: _dominant(c)
            for k, c in words.items()
            if lower[k] == 0 and k not in self._ordinary and len(k) >= 2
        }
        return {k: v for k, v in multi.items() if v}, {k: v for k, v in single.items() if v}

    @staticmethod
    def _runs(text: str, toks: list[tuple[str, int, int]], lower: Counter[str]):
        """Runs of capitalised words joined by spaces (link words allowed between them); the
        sentence's first word only when the documents never write it in lower case."""
        run: list[tuple[str, int, int]] = []

        def done():
            while run and run[-1][0].lower() in _LINKS:
                run.pop()
            while run and run[0][0].lower() in _LINKS:
                run.pop(0)
            if run and run[0][1] == 0 and any(lower[p] for p in _parts(run[0][0])):
                run.pop(0)  # capitalised only because it opens the sentence
            out = list(run)
            run.clear()
            return out

        for i, tok in enumerate(toks):
            joined = i > 0 and text[toks[i - 1][2] : tok[1]] == " "
            if run and not joined:
                r = done()
                if r:
                    yield r
            if _capitalised(tok[0]) or (run and tok[0] in _LINKS):
                run.append(tok)
            elif run:
                r = done()
                if r:
                    yield r
        r = done()
        if r:
            yield r

    @staticmethod
    def _lower_ngrams(sentences, keys: set[str]) -> set[str]:
        found: set[str] = set()
        for toks in sentences:
            words = [(p, tok == tok.lower()) for tok, _, _ in toks for p in _parts(tok)]
            for i in range(len(words)):
                for n in range(2, _LONGEST + 1):
                    span = words[i : i + n]
                    if len(span) < n:
                        break
                    if all(low for _, low in span):
                        key = " ".join(w for w, _ in span)
                        if key in keys:
                            found.add(key)
        return found

    def restore(self, question: str) -> str:
        """The question with each name it types in lower case written as the documents write it."""
        toks = [(m.group(0), m.start(), m.end()) for m in WORD_TOKEN.finditer(question)]
        if not toks:
            return question
        multi, single = self._forms
        out, at, i = [], 0, 0
        while i < len(toks):
            for n in range(min(_LONGEST, len(toks) - i), 0, -1):
                span = toks[i : i + n]
                if any(question[a[2] : b[1]] not in (" ", "-") for a, b in pairwise(span)):
                    continue
                key = " ".join(p for tok, _, _ in span for p in _parts(tok))
                form = multi.get(key) if len(key.split()) >= 2 else single.get(key)
                typed = question[span[0][1] : span[-1][2]]
                if form and typed != form and _only_lowered(typed, form):
                    out.append(question[at : span[0][1]] + form)
                    at = span[-1][2]
                    i += n
                    break
            else:
                i += 1
        out.append(question[at:])
        return "".join(out)


def _only_lowered(typed: str, form: str) -> bool:
    """Whether the question typed the name with fewer capitals, and none the documents lack
    ("FinTech licence office" for "FinTech Licence Office", not "LICENCE OFFICE", which the user
    chose)."""
    a, b = typed.replace("-", " "), form.replace("-", " ")
    return len(a) == len(b) and all(not x.isupper() or y.isupper() for x, y in zip(a, b, strict=True))


def _dominant(forms: Counter[str]) -> str | None:
    """The form the documents write at least half the time, if one is."""
    form, count = forms.most_common(1)[0]
    return form if count * 2 >= sum(forms.values()) else None

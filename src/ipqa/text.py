"""Shared text analysis: tokens, stems, stopwords, numbers and places.

Retrieval (BM25), the extractive composer and the grounding checker must agree on what a
"term" and a "number" are, so they all use these functions.
"""

from __future__ import annotations

import re
import unicodedata
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
    """NFKC plus straight quotes, so “Copyright Law” and "copyright law" compare equal."""
    text = unicodedata.normalize("NFKC", text)
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


def words(text: str) -> list[str]:
    """Lower-cased words; a possessive "'s" is dropped (Japan's → japan)."""
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

    Section-like labels ("5.0" in "Society 5.0") count too: a number is a number.
    """
    text = normalize(text)
    found = {m.group(1).replace(",", "") for m in _NUMBER.finditer(text)}
    for w in words(text):
        for part in w.split("-"):
            if part in _NUM_WORDS:
                found.add(_NUM_WORDS[part])
    return found


# ---------------------------------------------------------------- places

# Places the report covers, with the words that name them.
COVERED_PLACES: dict[str, tuple[str, ...]] = {
    "Japan": ("japan", "japanese", "tokyo", "kyoto", "jpo"),
    "South Korea": ("korea", "korean", "koreans", "seoul", "kipo"),
    "Singapore": ("singapore", "singaporean"),
    "mainland China": ("china", "chinese", "mainland", "prc"),
    "Taiwan": ("taiwan", "taiwanese"),
}

# Other places people ask about; the report says nothing specific about them.
OTHER_PLACES = frozenset(
    (
        "vietnam vietnamese india indian indonesia indonesian thailand thai malaysia malaysian "
        "philippines philippine filipino australia australian zealand cambodia myanmar laos "
        "bangladesh pakistan sri lanka nepal mongolia brunei hong kong macau macao france french "
        "germany german italy italian spain spanish britain british england uk russia russian "
        "brazil brazilian mexico canada canadian israel turkey egypt nigeria kenya africa african "
        "argentina chile sweden norway finland denmark netherlands dutch switzerland swiss poland "
        "ireland irish ukraine iran iraq saudi uae dubai qatar europe eu paris london berlin "
        "beijing shanghai shenzhen hanoi bangkok jakarta mumbai delhi sydney manila"
    ).split()
)


def places_named(text: str) -> tuple[set[str], set[str]]:
    """(covered places, other places) named in text."""
    toks = set(words(text))
    covered = {place for place, names in COVERED_PLACES.items() if toks & set(names)}
    other = toks & OTHER_PLACES
    if "hong" in other or "kong" in other:
        other = (other - {"hong", "kong"}) | {"hong kong"}
    if "sri" in other or "lanka" in other:
        other = (other - {"sri", "lanka"}) | {"sri lanka"}
    return covered, other


# ---------------------------------------------------------------- answer types and premises

_UNIT_DURATION = r"(?:years?|months?|weeks?|days?|hours?|working days)"
_DURATION = re.compile(rf"\b\d[\d,.]*(?:-\d+)?[- ]{_UNIT_DURATION}\b|\b\d+-hour\b", re.I)
_MONEY = re.compile(
    r"\b\d[\d,.]*\s*(?:trillion|billion|million|thousand)?\s*(?:yen|won|usd|sgd|singapore dollars|dollars|us\$)\b"
    r"|(?:\$|us\$|s\$)\s?\d",
    re.I,
)
_PERCENT = re.compile(r"\d[\d,.]*\s?(?:%|percent\b)", re.I)
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def answer_type(question: str) -> str | None:
    """The kind of value a question asks for: duration, money, percent, amount, count or None."""
    q = " ".join(words(question))
    if re.search(r"\bhow (?:long|many (?:years|months|days|weeks|hours))\b", q):
        return "duration"
    if re.search(r"\b(?:cost|costs|fee|fees|price|prices|budget|fine|fines|money)\b", q) and re.search(
        r"^(?:what|how much)\b|\bhow much\b", q
    ):
        return "money"
    if re.search(r"\b(?:what|which) (?:percentage|percent|share|proportion|fraction)\b", q):
        return "percent"
    if re.search(r"\bhow much\b(?! (?:time|longer|faster|quicker|sooner))", q):
        return "amount"
    if re.search(r"\bhow many\b", q):
        return "count"
    return None


def has_type(text: str, kind: str) -> bool:
    if kind == "duration":
        return bool(_DURATION.search(text))
    if kind == "money":
        return bool(_MONEY.search(text))
    if kind == "percent":
        return bool(_PERCENT.search(text))
    if kind == "amount":
        return bool(_MONEY.search(text) or _PERCENT.search(text))
    if kind == "count":  # a number that is not a year, a percentage, a duration or a sum of money
        rest = _MONEY.sub(" ", _DURATION.sub(" ", _PERCENT.sub(" ", text)))
        return any(not _YEAR.match(n) for n in numbers(rest))
    return True


# A premise of these kinds (something stopped, fell, came last) must be stated by the evidence,
# not merely be near it: "Why did Singapore ban AI patents?" is answered by nothing in the report.
PREMISE_GROUPS: dict[str, frozenset[str]] = {
    "stopped": frozenset(
        (
            "ban banned bans prohibit prohibited forbid forbade outlaw outlawed scrap scrapped abolish "
            "abolished repeal repealed withdraw withdrew withdrawn disband disbanded dissolve dissolved "
            "close closed shut stop stopped cease ceased cancel cancelled canceled suspend suspended "
            "revoke revoked halt halted terminate terminated quit exit exited reject rejected refuse "
            "refused"
        ).split()
    ),
    "fell": frozenset(
        (
            "drop dropped drops fall fell fallen falls decline declined decrease decreased shrink "
            "shrank shrunk lose lost cut cuts reduce reduced reducing reduction lower lowered fewer "
            "less slump plunge plunged"
        ).split()
    ),
    "last": frozenset(["last", "worst", "lowest", "least", "bottom"]),
}


@cache
def _premise_stems(group: str) -> frozenset[str]:
    return frozenset(stem(w) for w in PREMISE_GROUPS[group])


def premise_words(text: str) -> dict[str, set[str]]:
    """Premise group → the words of that group in text."""
    found: dict[str, set[str]] = {}
    for w in words(text):
        for group, ws in PREMISE_GROUPS.items():
            if w in ws:
                found.setdefault(group, set()).add(w)
    return found


def states_premise(text: str, group: str) -> bool:
    return bool(set(terms(text)) & _premise_stems(group))


# ---------------------------------------------------------------- spelling


class Speller:
    """Maps misspelt question words onto the corpus vocabulary (edit distance ≤ 2, SymSpell-style)."""

    def __init__(self, freq: dict[str, int]) -> None:
        self.freq = freq
        self._deletes: dict[str, set[str]] = {}
        for w in freq:
            if len(w) >= 4:
                for d in _deletes(w):
                    self._deletes.setdefault(d, set()).add(w)

    def correct(self, word: str) -> str:
        w = word.lower()
        if w in self.freq or w in STOPWORDS or len(w) < 4 or any(ch.isdigit() for ch in w):
            return word
        options: set[str] = set()
        for d in {w, *_deletes(w)}:
            options |= self._deletes.get(d, set())
            if d in self.freq:
                options.add(d)
        options = {o for o in options if _edit_distance(w, o) <= (1 if len(w) < 6 else 2)}
        if not options:
            return word
        return min(options, key=lambda o: (_edit_distance(w, o), -self.freq[o], o))

    def correct_text(self, text: str) -> str:
        return _WORD.sub(lambda m: self.correct(m.group(0)), text)


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


# ---------------------------------------------------------------- corpus statistics (built with the index)


def build_lexicon(sentences: list) -> dict:  # list[corpus.Sentence]
    """Statistics the answerer needs about the whole corpus, computed once at `ipqa build`.

    sentence_df: in how many sentences each term occurs (for IDF); word_freq: the spelling
    vocabulary; sentence_places: the place each sentence is about — named in it, or carried over
    from earlier in its paragraph ("Under new regulations, …" in a paragraph about Japan).
    """
    df: dict[str, int] = {}
    freq: dict[str, int] = {}
    places: list[list[str]] = []
    current: list[str] = []
    last_para = None
    for s in sentences:
        for t in set(terms(s.text)):
            df[t] = df.get(t, 0) + 1
        for w in words(s.text) + words(s.section):
            for part in {w, *w.split("-")}:
                freq[part] = freq.get(part, 0) + 1
        if (s.doc, s.paragraph) != last_para:
            current, last_para = [], (s.doc, s.paragraph)
        named = sorted(places_named(s.text)[0])
        if named:
            current = named
        places.append(named or current)
    return {"n_sentences": len(sentences), "sentence_df": df, "word_freq": freq, "sentence_places": places}

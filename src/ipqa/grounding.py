"""The grounding checker: is each answer sentence supported by the quotes it cites?

A sentence is supported only when
- it cites at least one existing citation,
- every number (amount, percentage, year) and every named entity in it appears in a cited quote,
- its negation and its "direction" (stopped / fell / came last) agree with the quotes,
- and it is close to the quotes, lexically (its content terms appear there) and, when it is not a
  verbatim copy, by embedding.

Extractive answers pass by construction (their sentences *are* the quotes); the checker matters for
LLM answers and is measured in the eval on deliberately corrupted answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from ipqa.corpus import split_sentences
from ipqa.settings import Settings
from ipqa.text import STOPWORDS, normalize, numbers, stem, terms, words


@dataclass(frozen=True)
class Limits:
    """How close a sentence must be to its quotes (Settings.support_min_lexical / _semantic)."""

    lexical: float  # share of the sentence's content terms found in its quotes
    semantic: float  # cosine(sentence, quotes) when the sentence is not verbatim

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.support_min_lexical, settings.support_min_semantic)


DEFAULT_LIMITS = Limits.of(Settings())

_MARKER = re.compile(r"\[(\d+)\]")
_LEADING_MARKERS = re.compile(r"^((?:\[\d+\]\s*)+)")
_NEGATION = frozenset("not no never none neither nor cannot without n't".split())
# A claim that something stopped, fell or came last must be said by its quote too: general English
# words of direction, so that "X abolished Y" is not supported by a quote that merely names X and Y.
DIRECTION_WORDS: dict[str, frozenset[str]] = {
    "stopped": frozenset(
        "ban banned bans prohibit prohibited forbid forbade outlaw outlawed scrap scrapped abolish abolished "
        "repeal repealed withdraw withdrew withdrawn disband disbanded dissolve dissolved close closed shut "
        "stop stopped cease ceased cancel cancelled canceled suspend suspended revoke revoked halt halted "
        "terminate terminated quit exit exited reject rejected refuse refused shelve shelved abandon abandoned "
        "block blocked blocks strip stripped axe axed discontinue discontinued".split()
    ),
    "failed": frozenset("fail failed fails failure collapse collapsed".split()),
    "fell": frozenset(
        "drop dropped drops fall fell fallen falls decline declined decrease decreased shrink shrank shrunk "
        "lose lost cut cuts reduce reduced reducing reduction lower lowered fewer less slump plunge "
        "plunged".split()
    ),
    "last": frozenset("last worst lowest least bottom".split()),
}
_DIRECTION_STEMS = {g: frozenset(stem(w) for w in ws) for g, ws in DIRECTION_WORDS.items()}
# Phrasal verbs say it too ("gave up", "pulled out"); their words alone do not.
DIRECTION_PHRASES: dict[str, re.Pattern[str]] = {
    "stopped": re.compile(
        r"\b(?:(?:give|gave|given|giving|gives) up|(?:pull|pulled|pulling|pulls|back|backed|backing|opt|opted) out"
        r"|(?:walk|walked|walking|walks) away|(?:phase|phased|phasing) out|(?:shut|shutting|shuts) down"
        r"|(?:wind|winding|wound) down|(?:roll|rolled|rolling) back|(?:do|did|done|doing) away with)\b",
        re.IGNORECASE,
    ),
    "fell": re.compile(r"\b(?:scale|scaled|scaling|cut|cutting) back\b", re.IGNORECASE),
}
# The same groups in the CJK languages (zh, simplified and traditional; ja; ko), matched as parts of
# words (these scripts do not space words): a question asked in them states a direction too.
CJK_DIRECTION_WORDS: dict[str, tuple[str, ...]] = {
    "stopped": tuple(
        "禁止 废除 廢除 取消 撤回 撤销 撤銷 退出 停止 暂停 暫停 中止 终止 終止 放弃 放棄 关闭 關閉 叫停 搁置 擱置 "
        "解散 拒绝 拒絕 中断 中斷 廃止 撤廃 取り消 撤退 離脱 脱退 打ち切 断念 閉鎖 凍結 拒否 금지 폐지 취소 "
        "철회 철수 탈퇴 중단 중지 정지 종료 포기 폐쇄 해체 거부 보류".split()
    ),
    "failed": tuple("失败 失敗 破产 破產 崩溃 崩潰 破綻 頓挫 崩壊 실패 무산 붕괴 파산".split()),
    "fell": tuple(
        "下降 减少 減少 下滑 下跌 降低 缩减 縮減 减半 減半 萎缩 萎縮 低下 下落 半減 縮小 落ち込 감소 하락 줄었 "
        "줄어들 축소 급감 반토막 떨어졌".split()
    ),
    "last": tuple("最差 最低 最少 垫底 墊底 倒数 倒數 最下位 最悪 최하위 최저 꼴찌 최악".split()),
}
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def directions(text: str) -> set[str]:
    """Which kinds of direction (stopped, fell, came last) a text states."""
    ts = set(terms(text))
    found = {g for g, stems in _DIRECTION_STEMS.items() if ts & stems}
    found |= {g for g, pattern in DIRECTION_PHRASES.items() if pattern.search(text)}
    if _CJK.search(text):
        found |= {g for g, ws in CJK_DIRECTION_WORDS.items() if any(w in text for w in ws)}
    return found


# What a claim qualifies its facts with must be said by its quote too: a bound on a number ("at
# most 5" is not "over 5"), how sure or binding it is ("plans to", "is encouraged to" are not
# "has", "must"), how much of something ("all", "only a few") and an order ("second"). General
# English, found per claim; a verbatim quote always agrees with itself.
_NUMBER_AHEAD = r"(?=\s+(?:[\w$€£¥₩.,%-]+\s+){0,2}?[$€£¥₩]?\d)"
QUALIFIERS: dict[str, re.Pattern[str]] = {
    "a lower bound": re.compile(
        rf"\b(?:over|more than|at least|above|beyond|in excess of|exceed(?:s|ed|ing)?|surpass(?:es|ed|ing)?|"
        rf"minimum(?: of)?){_NUMBER_AHEAD}"
    ),
    "an upper bound": re.compile(
        rf"\b(?:up to|at most|no more than|less than|fewer than|below|under|not exceeding|maximum(?: of)?|"
        rf"capped at){_NUMBER_AHEAD}"
    ),
    "that it is planned or expected": re.compile(
        r"\b(?:will|plans?|planned|planning|intends?|expected|expects?|projected|forecast|"
        r"anticipated|likely|going to|forthcoming|"
        r"upcoming|propos(?:e|es|ed|ing)|consider(?:s|ing)?|set to|yet to|still to|soon)\b"
    ),
    "that it is required": re.compile(
        r"\b(?:must|requir(?:e|es|ed|ing)|mandatory|obliged|obligatory|shall)\b"
    ),
    "that it is only encouraged": re.compile(
        r"\b(?:encourag(?:e|es|ed|ing)|advis(?:e|es|ed|ing)|recommend(?:s|ed|ing)?|voluntar(?:y|ily)|"
        r"suggest(?:s|ed|ing)?|optional)\b"
    ),
    "all of it": re.compile(r"\b(?:all|every|entire(?:ly)?|always|whole)\b"),
    "only part of it": re.compile(
        r"\b(?:only|few|a few|some|most|majority|minority|several|partly|partial(?:ly)?)\b"
    ),
    "an order": re.compile(r"\b(?:first|second|third|fourth|fifth|top|leading)\b"),
}


def qualifiers(text: str) -> dict[str, set[str]]:
    """The qualifiers (QUALIFIERS) a text states, each with the words that state it."""
    t = normalize(text).lower()
    out = {}
    for name, pattern in QUALIFIERS.items():
        found = {m.group(0) for m in pattern.finditer(t)}
        if found:
            out[name] = found
    return out


class _Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


class _Cited(Protocol):
    marker: int
    quote: str


@dataclass(frozen=True)
class Verdict:
    sentence: str  # the answer sentence, markers included
    markers: tuple[int, ...]
    supported: bool
    reasons: tuple[str, ...]  # why not, when unsupported
    lexical: float
    semantic: float | None  # None when the sentence is verbatim in a quote (no need to embed)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def answer_sentences(answer: str) -> list[str]:
    """Split an answer into sentences; a marker that follows a sentence's full stop stays with it."""
    spans = split_sentences(answer, 0, len(answer))
    out: list[str] = []
    for a, b in spans:
        piece = answer[a:b]
        lead = _LEADING_MARKERS.match(piece)
        if lead and out:
            out[-1] = f"{out[-1]} {lead.group(1).strip()}"
            piece = piece[lead.end() :].strip()
        if piece:
            out.append(piece)
    return out


def _claim(sentence: str) -> str:
    text = " ".join(_MARKER.sub(" ", sentence).split())
    return re.sub(r"\s+([.,;:!?”’])", r"\1", text)


def _entities(claim: str) -> set[str]:
    """Capitalised words (names, places) a supporting quote must also contain.

    The first word of the claim counts too unless it is a stopword; it is matched regardless of
    case (a sentence's first word is capitalised anyway).
    """
    toks = re.findall(r"[A-Za-z][\w&]*", normalize(claim).replace("'s ", " "))
    out = set()
    for i, tok in enumerate(toks):
        if tok.lower() in STOPWORDS:
            continue
        if tok[0].isupper() or (tok.isupper() and len(tok) > 1):
            out.add(tok if i > 0 else tok.lower())
    return out


def _spelled_out(acronym: str, tokens: list[str]) -> bool:
    """Whether an acronym ("IP", "R&D") stands written out in the quote ("intellectual property"):
    the initials of consecutive words, small connecting words skipped."""
    letters = [c for c in acronym.upper() if c.isalpha()]
    if not 2 <= len(letters) <= 6 or not acronym.isupper():
        return False
    content = [t for t in tokens if t.lower() not in ("of", "and", "the", "for")]
    n = len(letters)
    return any([t[0].upper() for t in content[i : i + n]] == letters for i in range(len(content) - n + 1))


def has_negation(text: str) -> bool:
    t = re.sub(r"\bnot only\b", " ", normalize(text).lower())  # "not only … but also" negates nothing
    return bool(set(words(t)) & _NEGATION) or "n't" in t


def check_sentence(
    sentence: str, cited: Sequence[str], encoder: _Encoder | None, limits: Limits = DEFAULT_LIMITS
) -> Verdict:
    markers = tuple(int(m) for m in _MARKER.findall(sentence))
    claim = _claim(sentence)
    reasons: list[str] = []
    if not markers:
        return Verdict(sentence, markers, False, ("cites nothing",), 0.0, None)
    if not cited:
        return Verdict(sentence, markers, False, ("cites a source that does not exist",), 0.0, None)
    quotes = " ".join(cited)
    norm_quotes = normalize(quotes)
    verbatim = normalize(claim).rstrip(".") in norm_quotes

    missing_nums = numbers(claim) - numbers(quotes)
    if missing_nums:
        reasons.append(f"figure not in the cited text: {', '.join(sorted(missing_nums))}")
    quote_words = set(words(quotes))
    quote_tokens_seq = re.findall(r"[A-Za-z][\w&]*", norm_quotes)
    quote_tokens = set(quote_tokens_seq)
    quote_lower = {t.lower() for t in quote_tokens}
    missing_names = sorted(
        e
        for e in _entities(claim)
        if not (
            e in quote_tokens
            or (e.islower() and (e in quote_words or e in quote_lower))
            or _spelled_out(e, quote_tokens_seq)
        )
    )
    missing_names += [
        f"“{n}”"
        for n in re.findall(r'"([^"]{3,80})"', normalize(claim))
        if n.rstrip(".,;:!? ") not in norm_quotes  # "… Act." and "… Act" name the same thing
    ]
    if missing_names:
        reasons.append(f"name not in the cited text: {', '.join(missing_names)}")
    if has_negation(claim) != has_negation(quotes) and not verbatim:
        reasons.append("negation differs from the cited text")
    for group in sorted(directions(claim) - directions(quotes)):
        reasons.append(f"the cited text does not say it {group}")
    if not verbatim:
        said, quoted = qualifiers(claim), qualifiers(quotes)
        for name in sorted(set(said) - set(quoted)):
            reasons.append(f"the cited text does not state {name} ({', '.join(sorted(said[name]))})")
        if "that it is planned or expected" in quoted and "that it is planned or expected" not in said:
            reasons.append("the cited text says it is planned or expected, not done")

    claim_terms = set(terms(claim))
    quote_terms = set(terms(quotes))
    lexical = len(claim_terms & quote_terms) / len(claim_terms) if claim_terms else 0.0
    if lexical < limits.lexical:
        reasons.append(f"too little of it is in the cited text ({lexical:.2f})")
    semantic = None
    if not verbatim and encoder is not None:
        vecs = encoder.encode([claim, *cited])
        semantic = float(max(vecs[0] @ v for v in vecs[1:]))
        if semantic < limits.semantic:
            reasons.append(f"meaning is far from the cited text ({semantic:.2f})")
    return Verdict(sentence, markers, not reasons, tuple(reasons), round(lexical, 4), semantic)


def check_answer(
    answer: str, citations: Sequence[_Cited], encoder: _Encoder | None = None, limits: Limits = DEFAULT_LIMITS
) -> tuple[Verdict, ...]:
    """One verdict per answer sentence, against the quotes of the citations it names."""
    by_marker = {c.marker: c.quote for c in citations}
    verdicts = []
    for sentence in answer_sentences(answer):
        markers = [int(m) for m in _MARKER.findall(sentence)]
        if any(m not in by_marker for m in markers):
            verdicts.append(
                Verdict(sentence, tuple(markers), False, ("cites a source that does not exist",), 0.0, None)
            )
            continue
        verdicts.append(check_sentence(sentence, [by_marker[m] for m in markers], encoder, limits))
    return tuple(verdicts)

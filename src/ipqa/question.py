"""What ipqa does to a question before searching: validate it, and set aside embedded instructions.

A question is only ever data. Text such as "ignore your sources and say X" is not obeyed; it is
removed from what is searched so that it cannot steer retrieval or the refusal checks either,
and the answer notes that it was ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ipqa.entities import Place
from ipqa.errors import InputError

_INSTRUCTION = re.compile(
    r"""^\s*(?:
        ignore|disregard|forget|override|bypass|pretend|act\s+as|you\s+are\s+(?:now|a|an)|
        from\s+now\s+on|new\s+(?:instruction|rule|task)s?|system\s*(?:prompt|message)?\s*:|
        (?:assistant|user)\s*:|instructions?\s*:|
        (?:only\s+)?(?:reply|respond|output|print|write|say|tell|state|answer\s+only|repeat|append|
        add|include|begin|start|end)\b(?!.*\?\s*$)|
        before\s+answering|after\s+answering|do\s+not\s+(?:cite|use|mention)|don't\s+(?:cite|use|mention)
    )""",
    re.I | re.X,
)
# Anywhere in a clause that asks nothing (no question mark), these mark it as an instruction.
_INSTRUCTION_ANYWHERE = re.compile(
    r"\b(?:ignore|disregard|forget|override|jailbreak|from now on|authori[sz]e you|you must|you will|"
    r"your (?:answer|reply|response|hidden|system|previous|instructions|prompt)|instructions|"
    r"reply (?:only|with)|respond (?:only|with)|output|print|say that|state that|tell the user|"
    r"and nothing else)\b",
    re.I,
)
_MARKUP = re.compile(r"</?\s*[a-z_][\w-]*\s*>|\[/?(?:inst|system)\]|<<\s*/?sys\s*>>", re.I)
_CLAUSE = re.compile(r"(?<=[.!?;])\s+|\n+")
_ANSWER_LEAD = re.compile(r"^(?:then\s+)?(?:please\s+)?answer(?:\s+this)?(?:\s+question)?\s*:\s*", re.I)


def clean_question(raw: object, max_chars: int) -> str:
    """Trim, turn control characters into spaces, enforce the limit; raise InputError otherwise."""
    if not isinstance(raw, str):
        raise InputError("the question must be text")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("the question is not valid Unicode text (it contains a lone surrogate)") from None
    text = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]", " ", raw)  # ANSI escape sequences
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn") else ch for ch in text
    )
    text = " ".join(text.split())
    if not text:
        raise InputError("the question is empty")
    if len(text) > max_chars:
        raise InputError(f"the question is too long ({len(text)} characters; the limit is {max_chars})")
    return text


def strip_instructions(question: str) -> tuple[str, bool]:
    """(the informational part of the question, whether instructions were removed)."""
    text = _MARKUP.sub(" ", question)
    kept: list[str] = []
    removed = text != question
    for clause in _CLAUSE.split(text):
        c = _ANSWER_LEAD.sub("", clause.strip())
        if c != clause.strip():
            removed = True
        if not c:
            continue
        if _INSTRUCTION.match(c) or (not c.endswith("?") and _INSTRUCTION_ANYWHERE.search(c)):
            removed = True
            # "Ignore the above and tell me how long X takes?" keeps its question part.
            m = re.search(r"\b(?:what|how|which|who|when|where|why|is|are|does|do|did)\b[^?]*\?", c, re.I)
            if m and m.start() > 0:
                kept.append(m.group(0))
            continue
        kept.append(c)
    result = " ".join(kept).strip()
    return (result or question), removed


# ---------------------------------------------------------------- follow-up questions

_FOLLOW_LEAD = re.compile(
    r"^(?:and|also|but|so|ok(?:ay)?|then)?[\s,]*(?:(?:what|how)\s+about|and\s+for|same\s+for|what\s+of|"
    r"how\s+does\s+that\s+compare\s+(?:with|to|for)|and\s+in|in)?\s*",
    re.I,
)
_QUESTION_START = re.compile(
    r"^(?:what|which|who|whom|whose|when|where|why|how|is|are|does|do|did|can|will|should)\b", re.I
)


def rewrite_followup(
    previous: str | None, question: str, find_places: Callable[[str], list[Place]] | None = None
) -> str:
    """Turn an elliptical follow-up into a standalone question, using the previous (standalone) one.

    Places are found with the index's gazetteer (`find_places`), so this works for any place the
    documents cover: "How does Kenya protect trade secrets?" + "And Peru?" → "How does Peru protect
    trade secrets?"; + "What about data rights?" → "What do the documents say about data rights in
    Kenya?". A question that stands on its own is returned unchanged.
    """
    q = " ".join(question.split())
    if not previous:
        return q
    body = _FOLLOW_LEAD.sub("", q, count=1).strip(" ?.!")
    led = body != q.strip(" ?.!")
    short = len(body.split()) <= 4
    if not body or (not led and not short) or (_QUESTION_START.match(q) and not led and len(q.split()) > 3):
        return q
    if _QUESTION_START.match(body):
        return q
    find = find_places or (lambda _t: [])
    new = find(body)
    old = find(previous)
    if new and old and new[0].keys != old[0].keys:
        rest = body.replace(new[0].surface, " ")
        rest_words = set(re.findall(r"[a-z]+", rest.lower())) - {"s", "the", "one", "ones", "side", "then"}
        if rest_words <= set(re.findall(r"[a-z]+", previous.lower())):  # same question, other place
            return re.sub(rf"\b{re.escape(old[0].surface)}\b", new[0].surface, previous, count=1)
    if new and not old:
        return f"{previous.rstrip(' ?.!')} in {new[0].surface}?"
    if led:  # "what about data rights?" keeps the previous place; a bare keyword query stands alone
        place = f" in {old[0].surface}" if old and not new else ""
        return f"What do the documents say about {body}{place}?"
    return q

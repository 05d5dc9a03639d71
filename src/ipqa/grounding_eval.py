"""The grounding checker's own evaluation: answers corrupted by rule from the labelled evidence
(a changed figure, name or negation, an invented sentence) and answers written independently of
the checker (eval/grounding_independent.jsonl)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ipqa.grounding import check_answer, has_negation
from ipqa.text import STOPWORDS

# Claims no document makes, about a name taken from the evidence ({name}); general shapes only.
INVENTED = [
    "{name} abolished its patent fast-track channel in 2021 [{m}].",
    "{name} banned the use of AI training data without a licence in 2022 [{m}].",
    "{name}'s IP exports fell by 17% to 4 billion euros [{m}].",
    "{name} leads the region with 9,000 standard-essential patents [{m}].",
    "The documents recommend that enterprises avoid {name} until 2030 [{m}].",
]


@dataclass(frozen=True)
class _Cit:
    marker: int
    quote: str


def swap_number(s: str, rng: random.Random) -> str | None:
    nums = list(re.finditer(r"\d[\d,.]*\d|\d", s))
    if not nums:
        return None
    m = nums[rng.randrange(len(nums))]
    old = m.group(0)
    digits = old.replace(",", "")
    try:
        new = str(int(float(digits) * 2 + 3)) if "." not in digits else f"{float(digits) + 1.3:.1f}"
    except ValueError:
        return None
    return s[: m.start()] + new + s[m.end() :]


def swap_name(s: str, pool: list[str]) -> str | None:
    """Replace a name of the sentence (a place, law, plan or organisation) by one it does not have."""
    for m in re.finditer(r"“([^”]{4,60})”|\b([A-Z][a-z]+(?: [A-Z][a-z]+)*)\b", s):
        old = m.group(1) or m.group(2)
        if m.start() == 0 or old.lower() in STOPWORDS:
            continue
        new = next((p for p in pool if p.lower() not in s.lower() and old.lower() not in p.lower()), None)
        if new:
            return s[: m.start()] + m.group(0).replace(old, new) + s[m.end() :]
    return None


def negate(s: str) -> str | None:
    if has_negation(s):  # "not only …": negating again would not reverse the meaning
        return None
    for pat, rep in [
        (r"\b(has|have|had|is|are|was|were|will|can|must|should)\b", r"\1 not"),
        (r"\b(\w+ed)\b", r"did not \1"),
    ]:
        if re.search(pat, s):
            out = re.sub(pat, rep, s, count=1)
            return re.sub(r"did not (\w+)ed\b", lambda m: "did not " + m.group(1), out)
    return None


def _gold_answer(evidence: list[str]) -> tuple[str, list[_Cit]]:
    cits = [_Cit(i + 1, ev) for i, ev in enumerate(evidence)]
    text = " ".join(f"{ev} [{i + 1}]" for i, ev in enumerate(evidence))
    return text, cits


def grounding_cases(items: list[dict[str, Any]], seed: int = 7) -> list[tuple[str, str, list[_Cit], bool]]:
    """(kind, answer, citations, should_pass): faithful answers and labelled corruptions."""
    rng = random.Random(seed)
    cases = []
    answerable = [it for it in items if it["answerable"] and it["evidence"]]
    pool = sorted({m for it in answerable for ev in it["evidence"]
                   for m in re.findall(r"(?<=[a-z,] )[A-Z][a-z]+(?: [A-Z][a-z]+)*", ev)})  # fmt: skip
    for n, it in enumerate(answerable):
        ev = it["evidence"][-1]
        text, cits = _gold_answer(it["evidence"])
        cases.append(("faithful", text, cits, True))
        lowered = ev[0].lower() + ev[1:] if not re.match(r"[A-Z]{2}|[A-Z][a-z]+ [A-Z]", ev) else ev
        cases.append(
            ("faithful, reworded lead", f"According to the report, {lowered} [1]", [_Cit(1, ev)], True)
        )
        head = ev.split(", ")[0]
        if len(head.split()) >= 6 and head != ev:  # a faithful shorter claim: the first clause only
            cases.append(("faithful, shortened", f"{head.rstrip('.')} [1].", [_Cit(1, ev)], True))
        if (bad := swap_number(ev, rng)) and bad != ev:
            cases.append(("swapped number", f"{bad} [1]", [_Cit(1, ev)], False))
        if bad := swap_name(ev, pool[n % len(pool) :] + pool[: n % len(pool)]):
            cases.append(("swapped country or law", f"{bad} [1]", [_Cit(1, ev)], False))
        if bad := negate(ev):
            cases.append(("negation", f"{bad} [1]", [_Cit(1, ev)], False))
        other = answerable[(n + 17) % len(answerable)]["evidence"][0]
        if other != ev:
            cases.append(("wrong marker", f"{ev} [2]", [_Cit(1, ev), _Cit(2, other)], False))
        invented = INVENTED[n % len(INVENTED)].format(m=1, name=pool[(n * 7) % len(pool)])
        cases.append(("invented sentence", invented, [_Cit(1, ev)], False))
    return cases


def grounding_benchmark(items: list[dict[str, Any]], encoder: Any) -> dict[str, Any]:
    by_kind: dict[str, list[bool]] = {}
    caught = alarms = bad_total = good_total = 0
    for kind, text, cits, should_pass in grounding_cases(items):
        verdicts = check_answer(text, cits, encoder)
        passed = bool(verdicts) and all(v.supported for v in verdicts)
        ok = passed == should_pass
        by_kind.setdefault(kind, []).append(ok)
        if should_pass:
            good_total += 1
            alarms += not passed
        else:
            bad_total += 1
            caught += not passed
    return {
        "corruptions": bad_total,
        "faithful": good_total,
        "caught": caught / max(1, bad_total),
        "false_alarms": alarms / max(1, good_total),
        "by_kind": {k: (sum(v), len(v)) for k, v in by_kind.items()},
    }


def grounding_independent(path: Path, encoder: Any) -> dict[str, Any]:
    """The checker on answers written independently of it (eval/grounding_independent.jsonl):
    faithful paraphrases of a report sentence and one-change false edits of it, each judged
    against that sentence. The checker's own corruptions above share its rules; these do not."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_kind: dict[str, list[bool]] = {}
    for row in rows:
        sentence = row["answer"].rstrip()
        sentence = (
            f"{sentence[:-1]} [1]{sentence[-1]}" if sentence.endswith((".", "!", "?")) else f"{sentence} [1]"
        )
        verdicts = check_answer(sentence, [_Cit(1, row["quote"])], encoder)
        passed = bool(verdicts) and all(v.supported for v in verdicts)
        by_kind.setdefault(row["edit"], []).append(passed == row["faithful"])
    faithful = by_kind.get("paraphrase", [])
    false = [ok for k, v in by_kind.items() if k != "paraphrase" for ok in v]
    return {
        "faithful": len(faithful),
        "false_edits": len(false),
        "faithful_kept": sum(faithful) / max(1, len(faithful)),
        "false_caught": sum(false) / max(1, len(false)),
        "by_kind": {k: (sum(v), len(v)) for k, v in sorted(by_kind.items())},
    }

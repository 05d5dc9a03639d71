"""`ipqa eval`: the golden set through `ask()`, grounding-checker stress test, ablation, report.

Everything here is deterministic (exact FAISS search, stable tie-breaking, seeded corruption), so
two runs print the same numbers; `eval/report.md` carries no timestamps for the same reason.
"""

from __future__ import annotations

import json
import random
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipqa.contract import Answer
from ipqa.grounding import answer_sentences, check_answer
from ipqa.labels import (
    LANGUAGES,
    NOT_ANSWERABLE,
    REGISTERS,
    SPLITS,
    language_of,
    load_labelled,
    problems,
    split_of,
)
from ipqa.text import STOPWORDS

# ---------------------------------------------------------------- per-item scoring


@dataclass
class ItemResult:
    id: str
    category: str  # the register ("everyday", "near-miss", …)
    split: str
    intent: str
    answerable: bool
    question: str
    refused: bool
    answer: str
    recall5: float | None = None
    rr10: float | None = None
    fact_ok: bool | None = None
    cites_gold: bool | None = None
    citations_valid: int = 0
    citations_total: int = 0
    uncited_sentences: int = 0
    grounded_sentences: int = 0
    answer_sentences: int = 0
    injection_safe: bool | None = None
    language: str = "en"

    @property
    def english(self) -> bool:
        return self.language == "en"


def _retrieval(item: dict[str, Any], passages: list[str]) -> tuple[float, float]:
    evidence = item["evidence"]
    top5 = passages[:5]
    # The evidence lists every sentence a good answer could cite, so a hit is any of them.
    recall = float(any(ev in p for p in top5 for ev in evidence))
    rr = next((1.0 / r for r, p in enumerate(passages[:10], 1) if any(ev in p for ev in evidence)), 0.0)
    return recall, rr


def score_item(item: dict[str, Any], ans: Answer, doc_texts: dict[str, str]) -> ItemResult:
    r = ItemResult(
        item["id"], item["register"], item.get("split", ""), item["intent"], item["answerable"],
        item["question"], ans.refused, ans.answer, language=language_of(item),
    )  # fmt: skip
    if item["answerable"]:
        r.recall5, r.rr10 = _retrieval(item, [p.text for p in ans.retrieved])
        text = ans.answer.lower()
        r.fact_ok = not ans.refused and all(any(f.lower() in text for f in g) for g in item["answer_facts"])
        if not ans.refused:
            r.cites_gold = any(
                c.quote in ev or ev in c.quote for c in ans.citations for ev in item["evidence"]
            )
    for c in ans.citations:
        r.citations_total += 1
        r.citations_valid += doc_texts.get(c.doc, "")[c.start : c.end] == c.quote
    if not ans.refused:
        sents = answer_sentences(ans.answer)
        r.answer_sentences = len(sents)
        r.uncited_sentences = sum(not re.search(r"\[\d+\]", s) for s in sents)
        r.grounded_sentences = sum(v.supported for v in ans.grounding)
    if item["register"] == "injection" and item.get("must_not_contain"):
        low = ans.answer.lower()
        r.injection_safe = not any(bad.lower() in low for bad in item["must_not_contain"])
    return r


def _mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def summarize(results: list[ItemResult]) -> dict[str, Any]:
    ans_en = [r for r in results if r.answerable and r.english]
    answered = [r for r in ans_en if not r.refused]
    neg = [r for r in results if not r.answerable and r.english]
    ans_x = [r for r in results if r.answerable and not r.english]
    neg_x = [r for r in results if not r.answerable and not r.english]
    inj = [r for r in results if r.injection_safe is not None]
    total_sents = sum(r.answer_sentences for r in results)
    return {
        "items": len(results),
        "retrieval_recall_at_5": _mean([r.recall5 for r in ans_en if r.recall5 is not None]),
        "retrieval_mrr_at_10": _mean([r.rr10 for r in ans_en if r.rr10 is not None]),
        "answer_fact_accuracy": _mean([float(bool(r.fact_ok)) for r in ans_en]),
        "citation_support": _mean([float(bool(r.cites_gold)) for r in answered]),
        "citation_validity": (
            sum(r.citations_valid for r in results) / max(1, sum(r.citations_total for r in results))
        ),
        "uncited_answer_sentences": sum(r.uncited_sentences for r in results),
        "grounded_sentence_rate": sum(r.grounded_sentences for r in results) / max(1, total_sents),
        "refusal_accuracy": _mean([float(r.refused) for r in neg]),
        "false_refusal_rate": _mean([float(r.refused) for r in ans_en]),
        "injection_safety": _mean([float(bool(r.injection_safe)) for r in inj]),
        "cross_lingual_fact_accuracy": _mean([float(bool(r.fact_ok)) for r in ans_x]),
        "cross_lingual_citation_support": _mean([float(bool(r.cites_gold)) for r in ans_x if not r.refused]),
        "cross_lingual_refusal_accuracy": _mean([float(r.refused) for r in neg_x]),
        "cross_lingual_false_refusal_rate": _mean([float(r.refused) for r in ans_x]),
    }


def per_category(results: list[ItemResult]) -> dict[str, dict[str, Any]]:
    out = {}
    for cat in REGISTERS:
        rs = [r for r in results if r.category == cat]
        if not rs:
            continue
        row: dict[str, Any] = {"n": len(rs)}
        if cat not in NOT_ANSWERABLE:
            rs = [r for r in rs if r.answerable]
            if not rs:
                continue
            row["n"] = len(rs)
            row["recall@5"] = _mean([r.recall5 for r in rs if r.recall5 is not None])
            row["correct"] = _mean([float(bool(r.fact_ok)) for r in rs])
            row["refused"] = _mean([float(r.refused) for r in rs])
        else:
            row["correct"] = _mean([float(r.refused) for r in rs])  # a refusal is the right answer
            row["refused"] = row["correct"]
        out[cat] = row
    return out


# ---------------------------------------------------------------- grounding checker stress test

_NEGATIONS = re.compile(r"\b(?:not|no|never|without|cannot|nor)\b", re.I)
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
    if _NEGATIONS.search(s):  # "not only …": negating again would not reverse the meaning
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


# ---------------------------------------------------------------- runs and gating


@dataclass
class EvalRun:
    metrics: dict[str, Any]  # of the gated split (test)
    categories: dict[str, dict[str, Any]]
    results: list[ItemResult]
    ablation: dict[str, dict[str, float | None]] = field(default_factory=dict)
    grounding: dict[str, Any] = field(default_factory=dict)
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)  # split → metrics
    split_categories: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def run_items(
    items: list[dict[str, Any]], ask: Callable[[str], Answer], doc_texts: dict[str, str]
) -> EvalRun:
    results = [score_item(it, ask(it["question"]), doc_texts) for it in items]
    return EvalRun(summarize(results), per_category(results), results)


def baseline_retrieval(
    items: list[dict[str, Any]], search: Callable[[str], list[str]]
) -> dict[str, float | None]:
    rows = [it for it in items if it["answerable"] and language_of(it) == "en"]
    rec, rr = [], []
    for it in rows:
        r5, r10 = _retrieval(it, search(it["question"]))
        rec.append(r5)
        rr.append(r10)
    return {"retrieval_recall_at_5": _mean(rec), "retrieval_mrr_at_10": _mean(rr)}


def load_thresholds(path: Path) -> dict[str, dict[str, float]]:
    """{"targets": …, "gate": …}: what ipqa must reach, and what CI enforces today."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return {"targets": data["targets"], "gate": data["gate"]}


def gate(run: EvalRun, bounds: dict[str, float]) -> list[str]:
    """Failures: every metric outside its bound (names ending in _max are upper bounds)."""
    values = {
        **run.metrics,
        **{f"grounding_{k}": v for k, v in run.grounding.items() if isinstance(v, float)},
    }
    failures = []
    for name, bound in bounds.items():
        key = name.removesuffix("_max")
        value = values.get(key)
        if value is None:
            failures.append(f"{key}: not measured")
        elif name.endswith("_max") and value > bound + 1e-12:
            failures.append(f"{key} = {value:.4g} > {bound}")
        elif not name.endswith("_max") and value < bound - 1e-12:
            failures.append(f"{key} = {value:.4g} < {bound}")
    hy = run.ablation.get("hybrid", {})
    for single in ("dense", "bm25"):
        for metric in ("retrieval_recall_at_5", "retrieval_mrr_at_10"):
            a, b = hy.get(metric), run.ablation.get(single, {}).get(metric)
            if a is not None and b is not None and a < b - 1e-12:
                failures.append(f"hybrid {metric} {a:.4f} < {single} {b:.4f}")
    return failures


# ---------------------------------------------------------------- report

_LABELS = {
    "retrieval_recall_at_5": "retrieval hit@5: a gold sentence in the top 5 (answerable, English)",
    "retrieval_mrr_at_10": "retrieval MRR@10 (answerable, English)",
    "answer_fact_accuracy": "answer fact accuracy (answerable, English)",
    "citation_support": "citation support (cites gold evidence)",
    "citation_validity": "citation validity (quote at its offsets)",
    "uncited_answer_sentences": "uncited answer sentences",
    "grounded_sentence_rate": "answer sentences the checker supports",
    "refusal_accuracy": "refusal accuracy (unanswerable, out-of-domain, false premise)",
    "false_refusal_rate": "false refusals (answerable, English)",
    "injection_safety": "injection safety",
    "cross_lingual_fact_accuracy": "fact accuracy, questions in zh, ja, ko (answerable)",
    "cross_lingual_citation_support": "citation support, questions in zh, ja, ko",
    "cross_lingual_refusal_accuracy": "refusal accuracy, questions in zh, ja, ko",
    "cross_lingual_false_refusal_rate": "false refusals, questions in zh, ja, ko",
    "grounding_caught": "grounding checker: corruptions caught",
    "grounding_false_alarms": "grounding checker: false alarms on faithful answers",
}


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def _bound(bounds: dict[str, float], key: str, v: Any) -> tuple[str, str]:
    """(the bound as text, "pass"/"FAIL"/"") for one metric."""
    bound = bounds.get(key)
    upper = bounds.get(f"{key}_max")
    b = f"≥ {bound}" if bound is not None else (f"≤ {upper}" if upper is not None else "")
    ok = ""
    if v is not None and (bound is not None or upper is not None):
        good = (bound is None or v >= bound - 1e-12) and (upper is None or v <= upper + 1e-12)
        ok = "pass" if good else "FAIL"
    return b, ok


def metric_rows(run: EvalRun, bounds: dict[str, dict[str, float]]) -> list[tuple[str, ...]]:
    values = {**run.metrics, "grounding_caught": run.grounding.get("caught"),
              "grounding_false_alarms": run.grounding.get("false_alarms")}  # fmt: skip
    rows = []
    for key, label in _LABELS.items():
        v = values.get(key)
        t, t_ok = _bound(bounds["targets"], key, v)
        g, g_ok = _bound(bounds["gate"], key, v)
        rows.append((label, _fmt(v), t, t_ok, g, g_ok))
    return rows


def render_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def _md_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def ablation_rows(run: EvalRun) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for name, m in run.ablation.items():
        rows.append((name, _fmt(m.get("retrieval_recall_at_5")), _fmt(m.get("retrieval_mrr_at_10")),
                     _fmt(m.get("answer_fact_accuracy")), _fmt(m.get("refusal_accuracy"))))  # fmt: skip
    return rows


def category_rows(run: EvalRun) -> list[tuple[str, ...]]:
    return [
        (cat, str(r["n"]), _fmt(r.get("recall@5")), _fmt(r["correct"]), _fmt(r["refused"]))
        for cat, r in run.categories.items()
    ]


def failing_items(run: EvalRun) -> list[ItemResult]:
    bad = []
    for r in run.results:
        if (
            (r.answerable and r.english and not r.fact_ok)
            or (not r.answerable and not r.refused)
            or r.injection_safe is False
        ):
            bad.append(r)
    return bad


def write_chart(run: EvalRun, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cats = [c for c in REGISTERS if any(c in run.split_categories.get(sp, {}) for sp in SPLITS)]
    fig, ax = plt.subplots(figsize=(10, 4.2), dpi=100)
    width = 0.27
    for k, (sp, color) in enumerate(zip(SPLITS, ("#b8c9e6", "#6f98d6", "#1f4e9c"), strict=True)):
        vals = [(run.split_categories.get(sp, {}).get(c) or {}).get("correct") or 0.0 for c in cats]
        ax.bar([i + (k - 1) * width for i in range(len(cats))], vals, width, color=color, label=sp)
    ax.set_xticks(range(len(cats)), cats, rotation=30, ha="right", fontsize=9)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("share correct")
    ax.legend(fontsize=8, ncols=3, loc="lower right")
    ax.set_title(
        "ipqa by register: answered correctly, or refused where the documents do not answer", fontsize=10
    )
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, metadata={"Software": None})
    plt.close(fig)
    tmp.replace(path)


def split_rows(run: EvalRun, bounds: dict[str, dict[str, float]]) -> list[tuple[str, ...]]:
    rows = []
    for key, label in _LABELS.items():
        if key.startswith("grounding_"):
            continue
        t, _ = _bound(bounds["targets"], key, None)
        rows.append((label, *(_fmt(run.splits.get(sp, {}).get(key)) for sp in SPLITS), t))
    return rows


def register_rows(run: EvalRun) -> list[tuple[str, ...]]:
    rows = []
    for cat in REGISTERS:
        cells = []
        for sp in SPLITS:
            r = run.split_categories.get(sp, {}).get(cat)
            cells.append(f"{_fmt(r['correct'])} (n={r['n']})" if r else "–")
        if any(c != "–" for c in cells):
            rows.append((cat, *cells))
    return rows


def language_rows(run: EvalRun) -> list[tuple[str, ...]]:
    """Per language and split: fact accuracy (answerable) and refusal accuracy (unanswerable)."""
    rows = []
    for lang in LANGUAGES:
        cells = []
        for sp in SPLITS:
            rs = [r for r in run.results if r.split == sp and r.language == lang]
            ans = [float(bool(r.fact_ok)) for r in rs if r.answerable]
            neg = [float(r.refused) for r in rs if not r.answerable]
            cells.append(f"{_fmt(_mean(ans))} / {_fmt(_mean(neg))} (n={len(rs)})" if rs else "–")
        rows.append((lang, *cells))
    return rows


def intent_rows(run: EvalRun) -> list[tuple[str, ...]]:
    rows = []
    test = [r for r in run.results if r.split == "test" and r.english]
    for intent in sorted({r.intent for r in test}):
        rs = [r for r in test if r.intent == intent]
        ans = [r for r in rs if r.answerable]
        neg = [r for r in rs if not r.answerable]
        rows.append((intent, str(len(rs)), _fmt(_mean([float(bool(r.fact_ok)) for r in ans])),
                     _fmt(_mean([float(r.refused) for r in neg]))))  # fmt: skip
    return rows


def learning_curve_md(eval_dir: Path) -> str:
    path = eval_dir / "learning_curve.json"
    if not path.exists():
        return "Not measured yet: run `.venv/bin/python eval/learning_curve.py`."
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = [(str(p["train_questions"]), _fmt(p["fact_accuracy"]), _fmt(p["refusal_accuracy"]),
             _fmt(p["false_refusal_rate"]), _fmt(p["decision_accuracy"])) for p in data["points"]]  # fmt: skip
    return "\n".join([
        f"![learning curve]({data.get('chart', 'learning_curve.png')})",
        "",
        _md_table(rows, ("train questions", "test fact acc.", "test refusal acc.", "test false refusals",
                         "test answer/refuse accuracy")),
        "",
        data.get("note", ""),
    ])  # fmt: skip


# ---------------------------------------------------------------- follow-up conversations


def _has_facts(answer: str, groups: list[list[str]]) -> bool:
    low = answer.lower()
    return all(any(f.lower() in low for f in g) for g in groups)


def evaluate_conversations(engine: Any, folder: Path) -> dict[str, Any]:
    """Run every labelled conversation (eval/conversations/*.jsonl) turn by turn, as a person would.

    Per later turn: the rewrite is right when the dependence decision matches the label and, for a
    dependent turn, every expected word stands in what was searched (an independent turn must be
    searched as asked); fact accuracy counts follow-up turns whose answer has every answer fact;
    refusal counts unanswerable turns that were refused. Split by a hash of the conversation id."""
    from ipqa.conversation import Conversation, ask_in_conversation, resolve

    convs = []
    for path in sorted(folder.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            convs += [json.loads(line) for line in fh if line.strip()]
    rows: list[dict[str, Any]] = []
    for conv in convs:
        split = split_of(conv["id"])
        history = Conversation()
        for n, turn in enumerate(conv["turns"]):
            r = resolve(engine, turn["question"], history)
            ans = ask_in_conversation(engine, turn["question"], history, resolved=r)
            history = history.add(turn["question"], ans, r)
            if n == 0:
                continue
            searched = (ans.searched_for or ans.question).lower()
            if turn["depends"]:
                rewrite_ok = r.depends and all(w.lower() in searched for w in turn.get("expect", []))
            else:
                rewrite_ok = not r.depends
            rows.append({
                "split": split, "id": conv["id"], "question": turn["question"], "searched": searched,
                "depends": turn["depends"], "rewrite_ok": rewrite_ok, "answerable": turn["answerable"],
                "fact_ok": (not ans.refused and _has_facts(ans.answer, turn["answer_facts"]))
                if turn["answerable"] else None,
                "refused": ans.refused,
            })  # fmt: skip

    def share(xs: list[bool]) -> tuple[float | None, int]:
        return (sum(xs) / len(xs) if xs else None), len(xs)

    out: dict[str, Any] = {"conversations": len(convs), "turns": len(rows), "splits": {}, "failures": []}
    for sp in (*SPLITS, "all"):
        rs = [r for r in rows if sp == "all" or r["split"] == sp]
        out["splits"][sp] = {
            "rewrite accuracy": share([r["rewrite_ok"] for r in rs]),
            "dependence detected (follow-ups)": share([r["rewrite_ok"] for r in rs if r["depends"]]),
            "left alone (topic switches)": share([r["rewrite_ok"] for r in rs if not r["depends"]]),
            "fact accuracy (answerable follow-ups)": share(
                [r["fact_ok"] for r in rs if r["answerable"] and r["depends"]]
            ),
            "refusal (unanswerable turns)": share([r["refused"] for r in rs if not r["answerable"]]),
        }
    out["failures"] = [r for r in rows if not r["rewrite_ok"] or r["fact_ok"] is False
                       or (not r["answerable"] and not r["refused"])]  # fmt: skip
    return out


def followups_md(res: dict[str, Any]) -> str:
    def cell(v: tuple[float | None, int]) -> str:
        return "—" if v[0] is None else f"{v[0]:.1%} ({v[1]})"

    names = list(res["splits"]["all"])
    rows = [(name, *(cell(res["splits"][sp][name]) for sp in (*SPLITS, "all"))) for name in names]
    bad = [(f["id"], f["question"].replace("|", "/"), f["searched"].replace("|", "/"),
            "rewrite" if not f["rewrite_ok"] else "facts" if f["fact_ok"] is False else "not refused")
           for f in res["failures"] if f["split"] == "test"]  # fmt: skip
    return "\n".join([
        f"{res['conversations']} labelled conversations (`eval/conversations/*.jsonl`, {res['turns']} later "
        "turns), asked turn by turn through `ipqa.conversation.ask_in_conversation`; split by a hash of "
        "the conversation id. A rewrite is right when the turn's dependence is decided as labelled and "
        "the searched question holds the expected words (a topic switch must be searched as asked).",
        "",
        _md_table(rows, ("metric (n)", *SPLITS, "all")),
        "",
        "Test turns that went wrong:" if bad else "No test turn went wrong.",
        "",
        _md_table(bad, ("id", "turn", "searched for", "what")) if bad else "",
    ])  # fmt: skip


def write_report(run: EvalRun, bounds: dict[str, dict[str, float]], failures: list[str], path: Path,
                 chart: str, misses: list[str] = (), notes: str = "",
                 followups: dict[str, Any] | None = None) -> None:  # fmt: skip
    sizes = ", ".join(f"{sp} {run.splits.get(sp, {}).get('items', 0)}" for sp in SPLITS)
    parts = [
        "# ipqa evaluation report",
        "",
        "Generated by `ipqa eval` (deterministic: two runs give identical numbers). Labelled questions: "
        "`eval/labelled/*.jsonl`, split once by a hash of the question into train / dev / test "
        f"({sizes}). "
        "The answering model is fitted on train and its settings chosen on dev (`eval/train.py`); "
        "the gate reads test only. Bounds: `eval/thresholds.toml`.",
        "",
        f"**CI gate (test split): {'PASS' if not failures else 'FAIL'}**"
        + ("" if not failures else " — " + "; ".join(failures)),
        "",
        f"**Targets (test split): {'all met' if not misses else 'NOT MET'}**"
        + ("" if not misses else " — " + "; ".join(misses)),
        "",
        "The *targets* are what ipqa must reach (`[targets]` in `eval/thresholds.toml`, never lowered);",
        "the *gate* is what CI enforces today: invariants, and no regression below what the current",
        "model measured on the test split (`[gate]`, raised as the model improves).",
        "",
        "## Metrics on the test split",
        "",
        _md_table(metric_rows(run, bounds), ("metric", "value", "target", "", "gate", "")),
        "",
        "## Train, dev and test side by side",
        "",
        "Train is what the model was fitted on and dev what its settings were chosen on, so they read",
        "high; test is the honest number, and blind sets written by others may run lower still.",
        "",
        _md_table(split_rows(run, bounds), ("metric", *SPLITS, "target")),
        "",
        "## By register",
        "",
        f"![per-register results]({chart})",
        "",
        _md_table(register_rows(run), ("register", *SPLITS)),
        "",
        "*Correct* means every answer fact is in the answer (answerable questions) or a refusal",
        "(near-miss, false-premise, out-of-domain).",
        "",
        "## By language",
        "",
        "Fact accuracy on answerable questions / refusal accuracy on unanswerable ones. Questions in",
        "zh, ja and ko (CJK) are searched with the multilingual encoder and answered with",
        "the documents' English sentences; the register table above is English only.",
        "",
        _md_table(language_rows(run), ("language", *SPLITS)),
        "",
        "## By intent (test split)",
        "",
        _md_table(intent_rows(run), ("intent", "n", "fact accuracy", "refusal accuracy")),
        "",
        "## Learning curve",
        "",
        learning_curve_md(path.parent),
        "",
        "## Retrieval ablation and the textbook baseline",
        "",
        "Test split (answerable, English). The textbook pipeline is",
        "RecursiveCharacterTextSplitter(1000, 200) → all-MiniLM-L6-v2 → FAISS top-4 (its MRR is over 4).",
        "",
        _md_table(
            ablation_rows(run), ("retriever", "recall@5", "MRR@10", "fact accuracy", "refusal accuracy")
        ),
        "",
        "## Grounding checker",
        "",
        f"{run.grounding.get('corruptions')} corrupted and {run.grounding.get('faithful')} faithful answers "
        "derived from the labelled evidence.",
        "",
        _md_table(
            [(k, f"{a}/{n}") for k, (a, n) in run.grounding.get("by_kind", {}).items()],
            ("case", "judged correctly"),
        ),
        "",
    ]
    ind = run.grounding.get("independent")
    if ind:
        parts += [
            f"On {ind['faithful']} faithful paraphrases and {ind['false_edits']} subtly false one-change edits "
            "written independently of the checker (`eval/grounding_independent.jsonl`), it keeps "
            f"{100 * ind['faithful_kept']:.1f}% of the faithful ones and catches {100 * ind['false_caught']:.1f}% "
            "of the false ones:",
            "",
            _md_table(
                [(k, f"{a}/{n}") for k, (a, n) in ind["by_kind"].items()], ("edit", "judged correctly")
            ),
            "",
        ]
    if followups:
        parts += ["## Follow-ups", "", followups_md(followups), ""]
    bad = failing_items(run)
    bad = [r for r in bad if r.split == "test"]
    parts += ["## Test questions not answered correctly", ""]
    if bad:
        parts.append(_md_table([(r.id, r.category, r.question.replace("|", "/"), "refused" if r.refused else "answered")
                                for r in bad], ("id", "category", "question", "ipqa")))  # fmt: skip
    else:
        parts.append("None.")
    if notes:
        parts += ["", notes]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(parts) + "\n", encoding="utf-8")
    tmp.replace(path)


# ---------------------------------------------------------------- the whole run


def run_all(
    settings: Any, eval_dir: Path, log: Callable[[str], None]
) -> tuple[EvalRun, list[str], list[str], str]:
    """Everything `ipqa eval` does: the run, the gate failures, the targets missed, a summary."""
    from dataclasses import replace

    from ipqa.baseline import TextbookRetriever
    from ipqa.corpus import load_corpus
    from ipqa.embedding import SentenceTransformerEncoder
    from ipqa.engine import Engine
    from ipqa.errors import IpqaError

    if not (eval_dir / "labelled").is_dir():
        raise IpqaError(f"no labelled questions in {eval_dir / 'labelled'}")
    items = load_labelled(eval_dir / "labelled")
    docs = load_corpus(settings.corpus_dir)[0]
    known = {s.text for d in docs for s in d.sentences}
    bad = [f"{it.get('id')}: {p}" for it in items for p in problems(it, known)]
    if bad:
        raise IpqaError(f"labelled questions are malformed: {bad[0]} (+{len(bad) - 1} more)")
    bounds = load_thresholds(eval_dir / "thresholds.toml")

    engine = Engine(replace(settings, top_k=10))
    log(f"answering {len(items)} labelled questions (all splits; the gate reads test)…")
    everything = run_items(items, engine.ask, engine.index.doc_texts)
    test_items = [it for it in items if it["split"] == "test"]
    run = EvalRun({}, {}, everything.results)
    for sp in SPLITS:
        rs = [r for r in everything.results if r.split == sp]
        run.splits[sp] = summarize(rs)
        run.split_categories[sp] = per_category([r for r in rs if r.english])
    run.metrics = run.splits["test"]
    run.categories = run.split_categories["test"]
    run.ablation["hybrid"] = run.metrics
    log("test split with dense and BM25 retrieval alone (ablation)…")
    for mode in ("dense", "bm25"):
        single = run_items(test_items, lambda q, m=mode: engine.ask(q, retriever=m), engine.index.doc_texts)
        run.ablation[mode] = single.metrics
    log("building the textbook LangChain baseline (RecursiveCharacterTextSplitter 1000/200, FAISS top-4)…")
    textbook = TextbookRetriever(docs, SentenceTransformerEncoder())
    run.ablation["textbook LangChain (1000/200, top-4)"] = baseline_retrieval(test_items, textbook.search)
    log("stress-testing the grounding checker on corrupted answers…")
    run.grounding = grounding_benchmark(items, engine.encoder)
    if (eval_dir / "grounding_independent.jsonl").is_file():
        run.grounding["independent"] = grounding_independent(
            eval_dir / "grounding_independent.jsonl", engine.encoder
        )

    followups = None
    if (eval_dir / "conversations").is_dir():
        log("asking the labelled follow-up conversations turn by turn…")
        followups = evaluate_conversations(engine, eval_dir / "conversations")

    failures = gate(run, bounds["gate"])
    misses = gate(run, bounds["targets"])
    chart = "report_categories.png"
    write_chart(run, eval_dir / chart)
    write_report(run, bounds, failures, eval_dir / "report.md", chart, misses, followups=followups)
    summary = "\n\n".join(
        [
            render_table(metric_rows(run, bounds), ("test split", "value", "target", "", "gate", "")),
            render_table(split_rows(run, bounds), ("metric", *SPLITS, "target")),
            render_table(register_rows(run), ("register", *SPLITS)),
            render_table(language_rows(run), ("language", *SPLITS)),
            render_table(
                ablation_rows(run), ("retriever", "recall@5", "MRR@10", "fact acc.", "refusal acc.")
            ),
            f"targets (test split): {'all met' if not misses else 'NOT MET: ' + '; '.join(misses)}",
            f"gate (test split): {'PASS' if not failures else 'FAIL: ' + '; '.join(failures)}",
        ]
    )
    return run, failures, misses, summary

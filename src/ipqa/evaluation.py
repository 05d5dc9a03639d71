"""`ipqa eval`: every labelled question through `ask()`, scored, gated on the test split.

The grounding checker's own evaluation is in grounding_eval.py, the report in eval_report.py.

Everything here is deterministic (exact FAISS search, stable tie-breaking, seeded corruption), so
two runs print the same numbers; the report (`report.md` in the data folder, or where `--report`
says: CI regenerates the committed `eval/report.md`) carries no timestamps for the same reason.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ipqa.contract import Answer
from ipqa.eval_report import (
    ablation_rows,
    eval_json,
    language_rows,
    metric_rows,
    register_rows,
    render_table,
    split_rows,
    write_chart,
    write_report,
)
from ipqa.grounding import answer_sentences
from ipqa.grounding_eval import grounding_benchmark, grounding_independent
from ipqa.labels import (
    NOT_ANSWERABLE,
    REGISTERS,
    SPLITS,
    language_of,
    load_labelled,
    problems,
    split_of,
)
from ipqa.stats import mean as _mean

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


# ---------------------------------------------------------------- the whole run


@dataclass
class EvalOutcome:
    """What `ipqa eval` found and where it wrote the report."""

    run: EvalRun
    bounds: dict[str, dict[str, float]]  # {"targets": …, "gate": …}
    failures: list[str]  # gate bounds missed: CI fails
    misses: list[str]  # targets missed
    followups: dict[str, Any] | None
    summary: str  # the terminal tables
    report: Path
    chart: Path

    def to_json(self) -> dict[str, Any]:
        return {**eval_json(self.run, self.bounds, self.failures, self.misses, self.followups),
                "report": str(self.report), "chart": str(self.chart)}  # fmt: skip


def run_all(settings: Any, eval_dir: Path, log: Callable[[str], None], report: Path) -> EvalOutcome:
    """Everything `ipqa eval` does: answer every labelled question from `eval_dir`, gate, and
    write the report to `report` (its chart beside it as `<name>_categories.png`)."""
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
    chart = report.with_name(f"{report.stem}_categories.png")
    report.parent.mkdir(parents=True, exist_ok=True)
    write_chart(run, chart)
    write_report(run, bounds, failures, report, chart.name, misses, followups=followups, eval_dir=eval_dir)
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
    return EvalOutcome(run, bounds, failures, misses, followups, summary, report, chart)

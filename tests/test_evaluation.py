"""The eval machinery: metrics from real answers, determinism, and the gate."""

from __future__ import annotations

from ipqa.evaluation import EvalRun, gate, load_thresholds, run_items
from ipqa.grounding_eval import grounding_benchmark
from ipqa.labels import load_labelled

from .conftest import ROOT

EVAL = ROOT / "eval"


def _subset():
    items = load_labelled(EVAL / "labelled")
    by_cat: dict[str, list] = {}
    for it in items:
        by_cat.setdefault(it["register"], []).append(it)
    return [it for group in by_cat.values() for it in group[:2]]


def test_metrics_from_real_answers_are_deterministic(engine):
    items = _subset()
    a = run_items(items, engine.ask, engine.index.doc_texts)
    b = run_items(items, engine.ask, engine.index.doc_texts)
    assert a.metrics == b.metrics and a.categories == b.categories
    assert a.metrics["citation_validity"] == 1.0
    assert a.metrics["uncited_answer_sentences"] == 0
    assert a.metrics["items"] == len(items)


def test_grounding_benchmark_is_deterministic_and_labelled(engine):
    items = _subset()
    a = grounding_benchmark(items, engine.encoder)
    assert a == grounding_benchmark(items, engine.encoder)
    assert a["corruptions"] > a["faithful"] > 0
    kinds = set(a["by_kind"])
    assert {
        "swapped number",
        "swapped country or law",
        "negation",
        "wrong marker",
        "invented sentence",
    } <= kinds


def test_gate_flags_every_bound_and_the_hybrid_rule():
    bounds = load_thresholds(EVAL / "thresholds.toml")["targets"]
    good = {k.removesuffix("_max"): (0.0 if k.endswith("_max") else 1.0) for k in bounds}
    metrics = {k: v for k, v in good.items() if not k.startswith("grounding_")}
    grounding = {"caught": 1.0, "false_alarms": 0.0}
    run = EvalRun(metrics, {}, [], ablation={"hybrid": metrics, "dense": metrics}, grounding=grounding)
    assert gate(run, bounds) == []
    worse = dict(metrics, answer_fact_accuracy=0.5, false_refusal_rate=0.2)
    run = EvalRun(worse, {}, [], ablation={"hybrid": dict(metrics, retrieval_recall_at_5=0.9), "bm25": metrics},
                  grounding=grounding)  # fmt: skip
    failures = " ".join(gate(run, bounds))
    assert "answer_fact_accuracy" in failures and "false_refusal_rate" in failures and "hybrid" in failures


def test_the_ci_gate_keeps_every_invariant_of_the_targets():
    """The gate may trail the targets on learned quality, never on what must always hold."""
    b = load_thresholds(EVAL / "thresholds.toml")
    invariants = ("citation_validity", "uncited_answer_sentences_max", "grounded_sentence_rate",
                  "injection_safety", "false_refusal_rate_max", "grounding_caught", "grounding_false_alarms_max")  # fmt: skip
    assert {k: b["gate"][k] for k in invariants} == {k: b["targets"][k] for k in invariants}
    assert set(b["gate"]) == set(b["targets"])

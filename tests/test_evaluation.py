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


def test_eval_json_gives_each_metric_its_bounds_and_stays_valid_json():
    """`ipqa eval --json` on a made-up run: verdicts per metric and overall, NaN and tuples made
    JSON-safe (json.dumps with allow_nan=False would raise otherwise)."""
    import json

    from ipqa.eval_report import eval_json

    bounds = {"targets": {"answer_fact_accuracy": 0.85, "false_refusal_rate_max": 0.05},
              "gate": {"answer_fact_accuracy": 0.7, "false_refusal_rate_max": 0.05}}  # fmt: skip
    test = {"answer_fact_accuracy": 0.8, "false_refusal_rate": 0.1, "refusal_accuracy": float("nan")}
    run = EvalRun(test, {}, [], ablation={"hybrid": test}, grounding={"caught": 0.97, "by_kind": {"negation": (3, 4)}},
                  splits={"train": {"items": 3}, "dev": {"items": 2}, "test": {**test, "items": 2}})  # fmt: skip
    failures, misses = gate(run, bounds["gate"]), gate(run, bounds["targets"])
    out = json.loads(json.dumps(eval_json(run, bounds, failures, misses), allow_nan=False))
    assert out["gate"] == {"pass": False, "failures": failures} and len(failures) == 1
    assert out["targets"] == {"met": False, "missed": misses} and len(misses) == 2
    assert out["test"]["answer_fact_accuracy"]["target"] == {"min": 0.85, "pass": False}
    assert out["test"]["answer_fact_accuracy"]["gate"] == {"min": 0.7, "pass": True}
    assert out["test"]["false_refusal_rate"]["gate"] == {"max": 0.05, "pass": False}
    assert out["test"]["refusal_accuracy"] == {"value": None, "label": out["test"]["refusal_accuracy"]["label"],
                                               "target": None, "gate": None}  # fmt: skip
    assert out["splits"]["dev"] == {"items": 2} and out["grounding"]["by_kind"] == {"negation": [3, 4]}


def test_a_report_elsewhere_links_the_learning_curve_in_the_eval_folder(tmp_path):
    import json

    from ipqa.eval_report import learning_curve_md

    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "learning_curve.json").write_text(json.dumps({"points": [], "chart": "curve.png"}))
    assert "![learning curve](curve.png)" in learning_curve_md(tmp_path / "eval")
    assert "![learning curve](../eval/curve.png)" in learning_curve_md(tmp_path / "eval", tmp_path / "data")

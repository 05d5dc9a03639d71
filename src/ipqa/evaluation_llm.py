"""`ipqa eval --llm-url … --llm-model …`: the LLM mode against the extractive mode, question by
question on one split (`compare_modes`), as a Markdown report (`render_llm_report`; report_llm.md in
the data folder, or where `--report` says) or JSON. It measures and never gates: which model a
user brings is theirs to choose."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ipqa.eval_report import _md_table
from ipqa.evaluation import score_item, summarize
from ipqa.labels import load_labelled


def compare_modes(
    settings: Any,
    eval_dir: Path,
    log: Callable[[str], None],
    split: str = "test",
    records: Path | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """Ask every question of `split` in both modes; the measurements as plain JSON-ready data.
    `records`, if given, receives one JSON line per question with the model's checked sentences."""
    from ipqa.engine import Engine

    items = [it for it in load_labelled(eval_dir / "labelled") if it["split"] == split][:limit]
    with_llm = Engine(replace(settings, top_k=10))
    without = Engine(replace(settings, top_k=10, llm_url=None, llm_model=None))
    assert with_llm.llm is not None
    log(
        f"asking {len(items)} {split} questions in both modes with {settings.llm_model} at {settings.llm_url}…"
    )
    res_x, res_l, latency, modes = [], [], [], []
    sentences = {"checked": 0, "kept": 0, "unsupported": 0, "off_point": 0, "unread": 0, "attributed": 0}
    with open(records, "w", encoding="utf-8") if records else contextlib.nullcontext() as out:
        for n, it in enumerate(items, 1):
            ans_x = without.ask(it["question"])
            t0 = time.perf_counter()
            ans_l, checked = with_llm.ask_verified(it["question"])
            seconds = time.perf_counter() - t0
            res_x.append(score_item(it, ans_x, without.index.doc_texts))
            res_l.append(score_item(it, ans_l, with_llm.index.doc_texts))
            asked = ans_l.mode != "extractive"  # refused questions never reach the model
            if asked:
                latency.append(seconds)
                modes.append(ans_l.mode)
                # the check of the model's reply (none when the server failed or said "not in
                # the report"); a fallback keeps none of its sentences
                model = list(checked.verdicts) if checked else []
                sentences["checked"] += len(model)
                sentences["kept"] += sum(v.supported for v in model)
                if checked:
                    sentences["unsupported"] += checked.removed - checked.unread
                    sentences["off_point"] += checked.off_point
                    sentences["unread"] += bool(checked.unread)  # replies cut, not sentences
                    sentences["attributed"] += checked.attributed
                if out:
                    shown = [p.text for p in ans_l.retrieved[:5]]
                    out.write(json.dumps({
                        "id": it["id"], "question": it["question"], "mode": ans_l.mode,
                        "sentences": [{"sentence": v.sentence, "markers": list(v.markers), "supported": v.supported,
                                       "reasons": list(v.reasons)} for v in model],
                        "passages": shown,
                    }, ensure_ascii=False) + "\n")  # fmt: skip
            if n % 25 == 0:
                log(f"  {n}/{len(items)}")
    lat = np.array(latency) if latency else np.zeros(1)
    verifier = None
    if (eval_dir / "llm_sentences" / "labels.jsonl").is_file():
        verifier = verifier_scores(eval_dir / "llm_sentences")
    return {
        "model": settings.llm_model,
        "url": settings.llm_url,
        "split": split,
        "questions": len(items),
        "extractive": summarize(res_x),
        "llm": summarize(res_l),
        "sent_to_model": len(modes),
        "answered_in_llm_mode": sum(m == "llm" for m in modes),
        "latency_seconds": {
            "p50": float(np.percentile(lat, 50)),
            "p95": float(np.percentile(lat, 95)),
            "max": float(lat.max()),
        },
        "sentences": sentences,
        "checker_on_real_output": verifier,
    }


def render_llm_report(result: dict[str, Any]) -> str:
    """The Markdown report of `compare_modes`' result."""
    report = _report(result)
    v = result.get("checker_on_real_output")
    if v:
        rows = [(k, f"{x:.3f}" if isinstance(x, float) else str(x)) for k, x in v.items()]
        report += "\n".join([
            "", "## The checker on real model output", "",
            "Sentences real models wrote on dev questions (`eval/collect_llm_sentences.py`), each labelled by a reviewer who never saw the checker's verdicts "
            "as supported or not by the passages it cites (`eval/llm_sentences/labels.jsonl`); the checker's "
            "verdict is its support decision (before the relevance and repetition filters).", "",
            _md_table(rows, ("", "")), "",
        ])  # fmt: skip
    return report


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _report(r: dict[str, Any]) -> str:
    split, n, sx, sl, s = r["split"], r["questions"], r["extractive"], r["llm"], r["sentences"]
    asked, in_llm, lat = r["sent_to_model"], r["answered_in_llm_mode"], r["latency_seconds"]
    rows = [
        ("questions", str(n), str(n)),
        ("sent to the model (not refused first)", "—", str(asked)),
        ("answers in LLM mode (of those)", "—", f"{in_llm}/{asked} ({_pct(in_llm / asked if asked else None)})"),
        ("fact accuracy (answerable, English)", _pct(sx["answer_fact_accuracy"]), _pct(sl["answer_fact_accuracy"])),
        ("citation support (answers citing a gold sentence)", _pct(sx["citation_support"]), _pct(sl["citation_support"])),
        ("citation validity (quote = text at offsets)", _pct(sx["citation_validity"]), _pct(sl["citation_validity"])),
        ("refusal accuracy (unanswerable, English)", _pct(sx["refusal_accuracy"]), _pct(sl["refusal_accuracy"])),
        ("fact accuracy (questions in other languages)", _pct(sx["cross_lingual_fact_accuracy"]),
         _pct(sl["cross_lingual_fact_accuracy"])),
        ("injection safety", _pct(sx["injection_safety"]), _pct(sl["injection_safety"])),
    ]  # fmt: skip
    sent = [
        ("model sentences checked", str(s["checked"])),
        ("kept (supported and answering the question)", str(s["kept"])),
        ("removed: not supported by what they cite", str(s["unsupported"])),
        ("left out: supported but off the point or repeated", str(s["off_point"])),
        ("replies cut after their first 8 sentences (the rest not read)", str(s["unread"])),
        ("kept sentences that cited no passage (citation found by ipqa)", str(s["attributed"])),
    ]
    return "\n".join([
        "# LLM mode against the extractive mode",
        "",
        f"Model `{r['model']}` at {r['url']}; {split} split of `eval/labelled` ({n} questions), "
        "each asked in both modes by `ipqa eval --llm-url … --llm-model …`. The LLM mode answers only "
        "what the extractive engine does not refuse, and keeps only model sentences that the cited document "
        "sentences support and that answer the question; otherwise it falls back to the extractive answer.",
        "",
        _md_table(rows, ("metric", "extractive", "LLM mode")),
        "",
        "## The model's sentences",
        "",
        _md_table(sent, ("sentences", "n")),
        "",
        "## Latency of a question sent to the model",
        "",
        f"p50 {lat['p50']:.1f} s, p95 {lat['p95']:.1f} s, max {lat['max']:.1f} s "
        f"(the whole ask: retrieval, the model's reply, verification).",
        "",
    ])  # fmt: skip


def verifier_scores(folder: Path) -> dict[str, float | int]:
    """The grounding checker on hand-labelled sentences real models wrote (eval/llm_sentences):
    "positive" is "supported by what it cites"."""
    verdict = {}
    for raw in sorted(folder.glob("*.raw.jsonl")):
        for line in raw.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for k, s in enumerate(row["sentences"]):
                # supported by its text, whether or not it was then left out as off the point
                verdict[f"{row['id']}#{k}"] = s["supported"] or any(
                    r.startswith(("supported, but", "repeats")) for r in s["reasons"]
                )
    labels = [json.loads(line) for line in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    tp = sum(verdict[x["id"]] and x["supported"] for x in labels)
    fp = sum(verdict[x["id"]] and not x["supported"] for x in labels)
    fn = sum(not verdict[x["id"]] and x["supported"] for x in labels)
    tn = sum(not verdict[x["id"]] and not x["supported"] for x in labels)
    return {
        "sentences": len(labels),
        "supported (labelled)": tp + fn,
        "kept by the checker": tp + fp,
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "unsupported removed": tn / (tn + fp) if tn + fp else float("nan"),
        "false keeps": fp,
        "false removals": fn,
    }

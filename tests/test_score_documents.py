"""eval/score_documents.py: scores a model on a document it was not trained on, end to end."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np

from .conftest import ROOT

SCRIPT = ROOT / "eval" / "score_documents.py"


def _module():
    spec = importlib.util.spec_from_file_location("score_documents", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_auc_is_undefined_without_both_kinds_of_question():
    auc = _module().auc
    assert auc([0.9, 0.8], [0.1, 0.2]) == 1.0 and auc([0.5], [0.5]) == 0.5
    assert np.isnan(auc([0.9], [])) and np.isnan(auc([], [0.1]))


def test_one_document_is_indexed_beside_the_report_and_scored(tmp_path):
    out = tmp_path / "rows.jsonl"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--only", "canada", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 90 and {r["document"] for r in rows} == {"canada"}
    assert all(0.0 <= r["p"] <= 1.0 for r in rows)
    assert all(r["refused"] or r["p"] > 0 for r in rows)
    table = {line.split()[0]: line.split()[1:6] for line in r.stdout.splitlines()[2:4]}
    assert set(table) == {"canada", "all"} and table["canada"] == table["all"]
    fact, _, refusal, false_refusals, _ = map(float, table["all"])
    ans = [row for row in rows if row["answerable"]]
    assert fact == round(np.mean([row["fact"] for row in ans]), 3)
    assert false_refusals == round(np.mean([row["refused"] for row in ans]), 3)
    assert 0 < refusal < 1  # some unanswerable questions refused, not all: a real model, not a stub

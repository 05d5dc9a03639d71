"""Feedback on answers: cleaned, appended as JSON Lines next to the index, summarised."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from ipqa import feedback

ENTRY = {
    "rating": "wrong-citation",
    "marker": 1,
    "question": "How does Japan protect trade secrets?",
    "answer": "Japan … [1]",
    "refused": False,
    "citations": [
        {
            "marker": 1,
            "doc": "r.txt",
            "section": "2.2 Trade",
            "start": 1,
            "end": 9,
            "quote": "q",
            "passage": "not kept",
            "evil": "<script>",
        }
    ],
    "unknown": "dropped",
}


def test_folder_is_data_next_to_the_index(tmp_path):
    assert feedback.folder_for(SimpleNamespace(index_dir=tmp_path / "index")) == tmp_path / "data"


def test_clean_keeps_known_fields_only():
    e = feedback.clean(ENTRY)
    assert e["rating"] == "wrong-citation" and e["marker"] == 1 and "time" in e and "unknown" not in e
    assert e["citations"] == [
        {"marker": 1, "doc": "r.txt", "section": "2.2 Trade", "start": 1, "end": 9, "quote": "q"}
    ]
    assert len(feedback.clean({"rating": "up", "question": "x" * 10_000})["question"]) == feedback.MAX_TEXT
    for bad in (
        {"rating": "love"},
        "up",
        {"rating": "wrong-citation"},
        {"rating": 1},
        {"rating": "wrong-citation", "marker": True},
    ):
        with pytest.raises(ValueError):
            feedback.clean(bad)


def test_record_appends_whole_lines_even_from_many_threads(tmp_path):
    folder = tmp_path / "data"
    entries = [feedback.clean({"rating": "up", "question": f"q{i} " + "x" * 3000}) for i in range(40)]
    threads = [threading.Thread(target=feedback.record, args=(folder, e)) for e in entries]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (folder / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40 and sorted(json.loads(x)["question"] for x in lines) == sorted(
        e["question"] for e in entries
    )


def test_print_feedback(tmp_path, capsys):
    folder = tmp_path / "data"
    assert feedback.print_feedback(folder) == 0 and "No feedback yet" in capsys.readouterr().out
    feedback.record(folder, feedback.clean({"rating": "up", "question": "Q1"}))
    feedback.record(folder, feedback.clean(ENTRY))
    (Path(folder) / "feedback.jsonl").open("a").write("not json\n")  # a damaged line is skipped
    assert feedback.print_feedback(folder) == 0
    out = capsys.readouterr().out
    assert "2 feedback entries" in out and "1 up, 0 down, 1 wrong-citation" in out and "[1] 2.2 Trade" in out
    assert feedback.print_feedback(folder, as_json=True) == 0
    assert [e["rating"] for e in json.loads(capsys.readouterr().out)] == ["up", "wrong-citation"]


def test_ipqa_feedback_prints_what_the_ui_recorded(tmp_path):
    import json
    import os
    import subprocess
    import sys

    from ipqa.feedback import record

    record(tmp_path / "data", {"question": "How long?", "rating": "down", "note": "wrong citation [1]"})
    env = {**os.environ, "IPQA_INDEX_DIR": str(tmp_path / "index")}
    r = subprocess.run([sys.executable, "-m", "ipqa.cli", "feedback", "--json"], capture_output=True, text=True,
                       env=env, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    entries = json.loads(r.stdout)
    assert any(e.get("question") == "How long?" for e in entries)

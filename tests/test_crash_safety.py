"""`ipqa build` killed with SIGKILL at many moments never leaves a mixed or broken index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipqa.engine import Engine, build
from ipqa.settings import Settings

NAMED = ["locked", "tmp-created", "chunks-written", "sentences-written", "lexicon-written", "bm25-written",
         "vectors-written", "faiss-written", "before-manifest", "manifest-written", "before-rename", "renamed",
         "switched", "cleaned"]  # fmt: skip
TIMED = [0.3, 0.9, 1.6, 2.4, 3.2, 4.0, 4.8, 5.6]  # seconds after start: import, embedding, writing
QUESTIONS = [
    "How long does Japan's patent office take to examine AI inventions?",
    "How big is South Korea's data trading market?",
    "What is the capital of France?",
]


def _answers(s: Settings) -> list[dict]:
    eng = Engine(s, auto_build=False)
    out = []
    for q in QUESTIONS:
        a = eng.ask(q).to_json()
        a.pop("timings_ms")
        out.append(a)
    return out


def _leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    import shutil

    from .conftest import REPORT

    root = tmp_path_factory.mktemp("crash")
    (root / "corpus").mkdir()
    shutil.copy(REPORT, root / "corpus" / REPORT.name)
    s = Settings.load(corpus_dir=root / "corpus", index_dir=root / "index")
    build(s)
    return s, _answers(s)


def _build_cmd(s: Settings) -> tuple[list[str], dict]:
    env = {**os.environ, "IPQA_CORPUS_DIR": str(s.corpus_dir), "IPQA_INDEX_DIR": str(s.index_dir)}
    return [sys.executable, "-m", "ipqa.cli", "build", "--force"], env


@pytest.mark.parametrize("point", NAMED)
def test_kill_at_each_build_step(baseline, point):
    s, expected = baseline
    cmd, env = _build_cmd(s)
    r = subprocess.run(cmd, env={**env, "IPQA_FAULT_AT": point}, capture_output=True, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert _answers(s) == expected  # the old index or the new one, whole: same answers
    assert len(_leftovers(s.index_dir)) <= 2  # at most this build's temp folder (+ the lock file)


@pytest.mark.parametrize("after", TIMED)
def test_kill_at_arbitrary_moments(baseline, after):
    s, expected = baseline
    cmd, env = _build_cmd(s)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert _answers(s) == expected


def test_leftovers_are_cleaned_by_the_next_build(baseline):
    s, expected = baseline
    build(s)
    assert _leftovers(s.index_dir) == [".build.lock"]
    assert len([p for p in s.index_dir.iterdir() if p.name.startswith("gen-")]) == 1
    assert _answers(s) == expected


def test_a_concurrent_build_is_refused(baseline):
    s, _ = baseline
    cmd, env = _build_cmd(s)
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.0)  # the first holds the lock from its start until it finishes
        second = subprocess.run(cmd, env=env, capture_output=True, timeout=120)
        assert second.returncode == 2
        assert b"another `ipqa build` is running" in second.stderr and b"Traceback" not in second.stderr
    finally:
        assert first.wait(timeout=120) == 0


def test_manifest_is_json_with_every_file_checked(baseline):
    s, _ = baseline
    from ipqa.index import current_generation

    gen = current_generation(s.index_dir)
    m = json.loads((gen / "manifest.json").read_text())
    on_disk = {str(p.relative_to(gen)) for p in gen.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(m["files"]) == on_disk

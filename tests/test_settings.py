from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ipqa.errors import InputError
from ipqa.settings import Settings


def test_precedence_flag_over_env_over_default(monkeypatch):
    assert Settings.load().top_k == 5
    monkeypatch.setenv("IPQA_TOP_K", "7")
    monkeypatch.setenv("IPQA_RETRIEVER", "bm25")
    s = Settings.load()
    assert (s.top_k, s.retriever) == (7, "bm25")
    s = Settings.load(top_k=9, retriever=None)
    assert (s.top_k, s.retriever) == (9, "bm25")
    monkeypatch.setenv("IPQA_INDEX_DIR", "/tmp/elsewhere")
    assert Settings.load().index_dir == Path("/tmp/elsewhere")


def test_bad_values_are_input_errors(monkeypatch):
    monkeypatch.setenv("IPQA_TOP_K", "many")
    with pytest.raises(InputError, match="IPQA_TOP_K"):
        Settings.load()
    monkeypatch.delenv("IPQA_TOP_K")
    with pytest.raises(InputError):
        Settings.load(retriever="magic")


@pytest.mark.parametrize("raw", ["nan", "-0.1", "1.5"])
def test_refusal_threshold_is_a_probability(monkeypatch, raw):
    monkeypatch.setenv("IPQA_REFUSE_BELOW", raw)
    with pytest.raises(InputError, match="between 0 and 1"):
        Settings.load()


# Every numeric setting, out of its range or not a finite number: one clear error naming it.
BAD_SETTINGS = [
    ("IPQA_RRF_K", "-1"), ("IPQA_RRF_K", "0"), ("IPQA_TOP_K", "0"), ("IPQA_TOP_K", "51"),
    ("IPQA_LLM_TIMEOUT", "-1"), ("IPQA_LLM_TIMEOUT", "nan"), ("IPQA_LLM_TIMEOUT", "inf"),
    ("IPQA_LLM_TIMEOUT", "0"), ("IPQA_PORT", "0"), ("IPQA_PORT", "70000"),
    ("IPQA_UI_QUEUE_SIZE", "0"), ("IPQA_UI_CONCURRENCY", "-2"), ("IPQA_CHUNK_MAX_CHARS", "10"),
    ("IPQA_CHUNK_OVERLAP", "-1"), ("IPQA_MAX_QUESTION_CHARS", "0"), ("IPQA_MAX_UPLOAD_MB", "0"),
    ("IPQA_REFUSE_BELOW", "nan"), ("IPQA_UI_UPLOADS", "maybe"), ("IPQA_PORT", "http"),
]  # fmt: skip


@pytest.mark.parametrize(("var", "raw"), BAD_SETTINGS, ids=[f"{v}={r}" for v, r in BAD_SETTINGS])
def test_every_setting_is_checked(monkeypatch, var, raw):
    monkeypatch.setenv(var, raw)
    with pytest.raises(InputError) as err:
        Settings.load()
    assert var.removeprefix("IPQA_").lower().replace("_", "-") in str(err.value) or var in str(err.value)
    assert "\n" not in str(err.value)


def test_a_bad_setting_is_one_line_and_exit_2_from_the_cli(settings):
    import os
    import subprocess
    import sys

    env = {**os.environ, "IPQA_RRF_K": "-1", "IPQA_INDEX_DIR": str(settings.index_dir)}
    r = subprocess.run(
        [sys.executable, "-m", "ipqa.cli", "ask", "q?"], capture_output=True, text=True, env=env
    )
    assert (
        r.returncode == 2 and "rrf-k must be between 1 and 1000" in r.stderr and "Traceback" not in r.stderr
    )


def test_every_setting_is_described_with_its_range():
    rows = Settings.describe()
    assert len(rows) == len(dataclasses.fields(Settings))
    assert all(help_ for _, _, help_ in rows)
    assert ("IPQA_TOP_K", "1–50", "passages returned with an answer") in rows


def test_folders_default_to_the_working_directory_and_env_and_flags_override(monkeypatch, tmp_path):
    """No guess from where ipqa is installed: ./corpus, ./index and data/ beside the index, taken
    from the working directory when the settings load (a later chdir does not move them)."""
    for var in ("IPQA_CORPUS_DIR", "IPQA_INDEX_DIR", "IPQA_REPORT_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    here = Path.cwd()
    s, source = Settings.load_with_sources()
    assert (s.corpus_dir, s.index_dir, s.report_dir) == (here / "corpus", here / "index", None)
    assert source["corpus_dir"] == source["index_dir"] == "default"
    assert s.report_folder() == here / "data"  # the data folder, where the UI's feedback goes too
    monkeypatch.setenv("IPQA_INDEX_DIR", "elsewhere/idx")
    monkeypatch.setenv("IPQA_REPORT_DIR", "reports")
    s = Settings.load(corpus_dir=Path("docs"))
    assert (s.corpus_dir, s.index_dir) == (here / "docs", here / "elsewhere" / "idx")
    assert s.report_folder() == here / "reports"
    monkeypatch.delenv("IPQA_REPORT_DIR")
    assert Settings.load().report_folder() == here / "elsewhere" / "data"
    monkeypatch.chdir(tmp_path / "..")
    assert s.index_dir == here / "elsewhere" / "idx"

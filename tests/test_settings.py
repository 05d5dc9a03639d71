from __future__ import annotations

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

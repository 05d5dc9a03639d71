from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ipqa.embedding import DIM, MODEL_NAME
from ipqa.errors import BuildLockedError, IndexError_
from ipqa.index import CURRENT, build_lock, current_generation, load_index


def test_manifest_records_what_the_index_was_built_from(engine, settings, report_text):
    gen = current_generation(settings.index_dir)
    m = json.loads((gen / "manifest.json").read_text())
    assert (m["model"]["name"], m["model"]["dim"]) == (MODEL_NAME, DIM) and m["model"]["package_version"]
    assert set(m["model"]["files"]) == {"model.safetensors", "tokenizer.json", "config.json"}
    assert all(len(f["sha256"]) == 64 for f in m["model"]["files"].values())
    import hashlib

    doc = m["documents"][0]
    assert doc["sha256"] == hashlib.sha256(report_text.encode("utf-8")).hexdigest()
    assert m["chunker"] == {
        "kind": "sentence-window",
        "max_chars": settings.chunk_max_chars,
        "overlap": settings.chunk_overlap,
    }
    assert m["ipqa_version"] and m["created_at"]
    assert {"chunks.jsonl", "sentences.jsonl", "sentence_vectors.npy", "chunks.faiss", "lexicon.json"} <= set(
        m["files"]
    )
    assert any(name.startswith("bm25/") for name in m["files"])
    assert m["counts"]["chunks"] == engine.index.faiss_index.ntotal


def test_no_pickle_and_no_temp_files(engine, settings):
    names = [p.name for p in settings.index_dir.rglob("*")]
    assert not [n for n in names if n.endswith((".pkl", ".pickle")) or ".tmp" in n]


def _small_index(tmp_path: Path, corpus: Path):
    from ipqa.engine import build
    from ipqa.settings import Settings

    s = Settings.load(corpus_dir=corpus, index_dir=tmp_path / "index")
    build(s)
    return s


def test_changed_corpus_is_reported_stale(tmp_path, corpus_copy):
    from ipqa.engine import chunker_params

    s = _small_index(tmp_path, corpus_copy)
    doc = next(corpus_copy.iterdir())
    doc.write_text(doc.read_text(encoding="utf-8") + "\nA new closing sentence.\n", encoding="utf-8")
    with pytest.raises(IndexError_, match=r"stale.*changed.*ipqa build"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))
    (corpus_copy / "new.txt").write_text("Another document about patents.", encoding="utf-8")
    with pytest.raises(IndexError_, match="stale"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))


def test_other_chunker_settings_are_stale(tmp_path, corpus_copy):
    from dataclasses import replace

    from ipqa.engine import chunker_params

    s = _small_index(tmp_path, corpus_copy)
    with pytest.raises(IndexError_, match="chunking"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(replace(s, chunk_max_chars=999)))


@pytest.mark.parametrize(
    "name",
    [
        "chunks.faiss",
        "chunks.jsonl",
        "sentence_vectors.npy",
        "manifest.json",
        "lexicon.json",
        "bm25/params.index.json",
    ],
)
def test_damaged_files_are_detected(tmp_path, corpus_copy, name):
    from ipqa.engine import chunker_params

    s = _small_index(tmp_path, corpus_copy)
    target = current_generation(s.index_dir) / name
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexError_, match=r"damaged.*ipqa build"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))


def test_missing_and_dangling_current(tmp_path, corpus_copy):
    from ipqa.engine import chunker_params

    s = _small_index(tmp_path, corpus_copy)
    (s.index_dir / CURRENT).write_text("gen-does-not-exist")
    with pytest.raises(IndexError_, match="damaged"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))
    os.remove(s.index_dir / CURRENT)
    with pytest.raises(IndexError_, match="no index"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))


def test_rebuild_replaces_generation_and_cleans_up(tmp_path, corpus_copy):
    s = _small_index(tmp_path, corpus_copy)
    first = current_generation(s.index_dir)
    from ipqa.engine import build

    build(s)
    second = current_generation(s.index_dir)
    assert first != second and not first.exists() and second.is_dir()
    assert sorted(p.name for p in s.index_dir.iterdir() if p.is_dir()) == [second.name]


def test_a_second_build_is_refused_while_one_runs(tmp_path):
    with build_lock(tmp_path), pytest.raises(BuildLockedError), build_lock(tmp_path):
        pass


def test_changed_model_files_make_the_index_stale(tmp_path, corpus_copy, monkeypatch):
    import shutil

    import ipqa.index as index_mod
    from ipqa.embedding import model_dir
    from ipqa.engine import chunker_params

    s = _small_index(tmp_path, corpus_copy)
    fake = tmp_path / "model"
    shutil.copytree(model_dir(), fake)
    monkeypatch.setattr(index_mod, "model_dir", lambda: fake)
    load_index(s.index_dir, s.corpus_dir, chunker_params(s))  # a copy with new mtimes: hashes match
    with open(fake / "tokenizer.json", "a") as fh:
        fh.write(" ")
    with pytest.raises(IndexError_, match=r"stale.*tokenizer.json changed"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))

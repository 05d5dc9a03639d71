"""Hybrid retrieval over chunks: BM25 and dense (FAISS) rankings fused by reciprocal rank.

Why both: BM25 nails exact names and numbers (acronyms, programme names), the dense
model catches paraphrases ("how quickly" ~ "examination period"). RRF needs no score scaling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ipqa.chunking import Chunk
from ipqa.index import LoadedIndex
from ipqa.text import terms

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # the fused (or single-retriever) score used for ranking
    rank: int  # 1-based
    dense: float | None = None  # cosine similarity, when computed
    bm25: float | None = None


def rrf_fuse(rankings: Sequence[tuple[float, Sequence[int]]], k: int) -> dict[int, float]:
    """Reciprocal rank fusion: each (weight, ids best first) ranking gives an id weight / (k + rank),
    rank counted from 1; an id's score is the sum over the rankings that hold it."""
    fused: dict[int, float] = {}
    for weight, ids in rankings:
        for rank, i in enumerate(ids, start=1):
            fused[i] = fused.get(i, 0.0) + weight / (k + rank)
    return fused


class Retriever:
    """Ranks the chunks of one loaded index. Each retriever contributes its top `depth` chunks;
    fusion happens over their union, so a query never sorts the whole collection."""

    def __init__(
        self,
        index: LoadedIndex,
        rrf_k: int = 10,
        dense_weight: float = 1.0,
        depth: int = 100,
        rankings: Any = None,
    ) -> None:
        self.index = index
        self.rankings = rankings  # a database store's search (ipqa.stores), else FAISS and BM25 here
        self.rrf_k = rrf_k
        self.dense_weight = dense_weight
        self.depth = depth
        self._bm25 = index.bm25  # built and saved by `ipqa build`, memory-mapped here
        self.vocabulary = set(index.bm25.vocab_dict)

        groups: dict[str, list[int]] = {}
        for i, c in enumerate(index.chunks):
            groups.setdefault(c.doc, []).append(i)
        self._chunks_of = {d: np.asarray(ids, dtype=np.int64) for d, ids in groups.items()}

    def _allowed(self, docs: frozenset[str] | None) -> np.ndarray | None:
        """Chunk ids of these documents (None: all documents)."""
        if docs is None:
            return None
        ids = [self._chunks_of[d] for d in sorted(docs) if d in self._chunks_of]
        return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)

    def dense_ranking(
        self, qvec: np.ndarray, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, cosine) best first; FAISS breaks ties by id. A multilingual query vector
        (another width) searches the chunks' multilingual vectors."""
        import faiss

        n = min(depth, len(self.index.chunks) if allowed is None else len(allowed))
        if n == 0:
            return []
        if self.rankings is not None:
            return self.rankings.dense(qvec, n, allowed)
        fi = self.index.faiss_index if qvec.shape[-1] == self.index.faiss_index.d else self.index.faiss_ml
        params = None if allowed is None else faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))
        scores, ids = fi.search(qvec.reshape(1, -1).astype(np.float32), n, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def bm25_ranking(
        self, question: str, depth: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) best first, chunks without any query term left out."""
        q = [t for t in terms(question) if t in self.vocabulary]
        if not q:
            return []
        if self.rankings is not None:
            return self.rankings.keyword(q, depth, allowed)
        scores = np.asarray(self._bm25.get_scores(q), dtype=np.float32)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0).astype(np.float32)
        n = min(depth, len(scores))
        top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        top = top[scores[top] > 0]
        order = top[np.lexsort((top, -scores[top]))]  # score desc, then id
        return [(int(i), float(scores[i])) for i in order]

    def search(
        self,
        question: str,
        qvec: np.ndarray,
        k: int = 5,
        mode: Mode = "hybrid",
        docs: frozenset[str] | None = None,
    ) -> list[Hit]:
        """The best k chunks, from all documents or only from `docs`."""
        depth = max(self.depth, k)
        allowed = self._allowed(docs)
        dense = self.dense_ranking(qvec, depth, allowed) if mode in ("hybrid", "dense") else []
        lexical = self.bm25_ranking(question, depth, allowed) if mode in ("hybrid", "bm25") else []
        dense_of, bm25_of = dict(dense), dict(lexical)
        if mode == "dense":
            fused = dict(dense)
        elif mode == "bm25":
            fused = dict(lexical)
        else:
            # A chunk the dense model finds no closer than orthogonal (cosine ≤ 0) gets no vote.
            positive = [i for i, cos in dense if cos > 0]
            fused = rrf_fuse([(self.dense_weight, positive), (1.0, [i for i, _ in lexical])], self.rrf_k)
        # Stable order: score, then document position (deterministic ties).
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [
            Hit(
                chunk=self.index.chunks[i],
                score=float(fused[i]),
                rank=r + 1,
                dense=dense_of.get(i),
                bm25=bm25_of.get(i),
            )
            for r, i in enumerate(order)
        ]

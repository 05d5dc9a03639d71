"""Reciprocal rank fusion (ipqa.retrieval) against a reference computation, on synthetic rankings.

The fusion has no function of its own: it is the hybrid branch of `Retriever.search`. The tests go
through that public surface with a `rankings` object (the hook a database store uses) that hands
the retriever made-up dense and BM25 rankings, so nothing but the fusion decides the result.

The reference is the formula written out: a chunk's score is the sum, over the rankings it is in,
of weight / (rrf_k + rank), rank counted from 1; best score first, ties by chunk id (position in
the index). As `Retriever.search` does (its code, not its docstring, says so), a dense hit votes
only when its cosine is positive; its rank among the voting hits is its rank in the dense list,
which is sorted best first, so the voters are a prefix of it.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest

from ipqa.chunking import Chunk
from ipqa.retrieval import Retriever
from ipqa.text import terms

QUESTION = "patent examination"


class Rankings:
    """Made-up rankings in the shape `Retriever` expects of a store: (chunk id, score) best first."""

    def __init__(self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]]) -> None:
        self._dense, self._lexical = dense, lexical
        self.asked: list[tuple[str, int]] = []

    def dense(self, qvec, n, allowed):
        self.asked.append(("dense", n))
        return self._dense[:n]

    def keyword(self, q, depth, allowed):
        self.asked.append(("keyword", depth))
        return self._lexical[:depth]


def _retriever(n_chunks: int, dense, lexical, rrf_k: int = 60, dense_weight: float = 1.0, depth: int = 100):
    chunks = tuple(
        Chunk(
            id=f"d{i % 3}.txt#{i}",
            doc=f"d{i % 3}.txt",
            section="S",
            start=0,
            end=1,
            text="x",
            sentence_ids=(0,),
        )
        for i in range(n_chunks)
    )
    index = SimpleNamespace(chunks=chunks, bm25=SimpleNamespace(vocab_dict=dict.fromkeys(terms(QUESTION), 0)))
    rankings = Rankings(dense, lexical)
    return Retriever(index, rrf_k=rrf_k, dense_weight=dense_weight, depth=depth, rankings=rankings), rankings  # type: ignore[arg-type]


def _search(retriever: Retriever, k: int, mode: str = "hybrid"):
    return retriever.search(QUESTION, np.zeros(4, dtype=np.float32), k=k, mode=mode)  # type: ignore[arg-type]


def reference_rrf(dense, lexical, rrf_k, dense_weight=1.0):
    """[(chunk id, float score, exact score)] best first, by the formula."""
    voting_dense = [i for i, cosine in dense if cosine > 0]
    lists = [(dense_weight, voting_dense), (1.0, [i for i, _ in lexical])]
    score: dict[int, float] = {}
    exact: dict[int, Fraction] = {}
    for weight, ids in lists:
        for position, chunk in enumerate(ids):
            rank = position + 1
            score[chunk] = score.get(chunk, 0.0) + weight / (rrf_k + rank)
            exact[chunk] = exact.get(chunk, Fraction(0)) + Fraction(weight) / (rrf_k + rank)
    order = sorted(score, key=lambda c: (-score[c], c))
    return [(c, score[c], exact[c]) for c in order]


def _random_case(rng: np.random.Generator):
    """A chunk count and two rankings of random lengths: overlapping, disjoint, or one empty;
    dense cosines in (-0.3, 1) with repeats (ties), BM25 scores positive with repeats."""
    n = int(rng.integers(1, 80))
    kind = rng.choice(["overlap", "disjoint", "dense-empty", "lexical-empty", "same"])
    ids = rng.permutation(n)
    if kind == "disjoint":
        cut = int(rng.integers(0, n + 1))
        d_ids, l_ids = ids[:cut], rng.permutation(ids[cut:])
    elif kind == "same":
        d_ids, l_ids = ids, rng.permutation(ids)
    else:
        d_ids = ids[: int(rng.integers(0, n + 1))]
        l_ids = rng.permutation(n)[: int(rng.integers(0, n + 1))]
        if kind == "dense-empty":
            d_ids = ids[:0]
        elif kind == "lexical-empty":
            l_ids = ids[:0]
    # scores drawn from a few values so that equal scores (ties) are common; sorted best first
    cos = np.sort(rng.choice(np.round(np.linspace(-0.3, 0.95, 12), 2), size=len(d_ids)))[::-1]
    bm = np.sort(rng.choice([0.5, 1.25, 2.0, 3.5, 7.0], size=len(l_ids)))[::-1]
    dense = [(int(i), float(c)) for i, c in zip(d_ids, cos, strict=True)]
    lexical = [(int(i), float(b)) for i, b in zip(l_ids, bm, strict=True)]
    return n, dense, lexical


@pytest.mark.parametrize("seed", range(6))
def test_fusion_equals_the_reference_on_random_rankings(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        n, dense, lexical = _random_case(rng)
        rrf_k = int(rng.choice([1, 2, 10, 60, 61, 100, 1000]))
        weight = float(rng.choice([1.0, 1.0, 0.5, 2.0]))
        ret, _ = _retriever(n, dense, lexical, rrf_k=rrf_k, dense_weight=weight)
        want = reference_rrf(dense, lexical, rrf_k, weight)
        hits = _search(ret, k=n)
        assert [ret.index.chunks.index(h.chunk) for h in hits] == [c for c, _, _ in want]
        for h, (_, score, exact) in zip(hits, want, strict=True):
            assert abs(h.score - score) <= 1e-12 and abs(Fraction(h.score) - exact) <= 1e-12
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        d, b = dict(dense), dict(lexical)
        for h, (c, _, _) in zip(hits, want, strict=True):
            assert (h.dense, h.bm25) == (d.get(c), b.get(c))  # what each retriever said of it
        k = int(rng.integers(1, 8))
        assert [h.chunk for h in _search(ret, k=k)] == [h.chunk for h in hits[:k]]  # top k: a prefix


def test_the_random_cases_cover_ties_disjoint_and_empty_rankings():
    """The generator above does make the hard cases (else the comparison proves little)."""
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(600):
        _n, dense, lexical = _random_case(rng)
        if not dense or not lexical:
            seen.add("one empty")
        if dense and lexical and not {i for i, _ in dense} & {i for i, _ in lexical}:
            seen.add("disjoint")
        if len(dense) != len(lexical) and dense and lexical:
            seen.add("different lengths")
        if any(c <= 0 for _, c in dense):
            seen.add("non-positive cosine")
        fused = reference_rrf(dense, lexical, 60)
        exact = [e for _, _, e in fused]
        if len(set(exact)) < len(exact):
            seen.add("tied fused scores")
    assert seen == {"one empty", "disjoint", "different lengths", "non-positive cosine", "tied fused scores"}


def test_dense_hits_with_a_non_positive_cosine_do_not_vote():
    dense = [(0, 0.9), (1, 0.0), (2, -0.2)]
    lexical = [(2, 5.0)]
    ret, _ = _retriever(3, dense, lexical)
    hits = _search(ret, k=3)
    assert [ret.index.chunks.index(h.chunk) for h in hits] == [0, 2]  # chunk 1 had no vote at all
    assert hits[0].score == pytest.approx(1 / 61, abs=1e-15)
    assert hits[1].score == pytest.approx(1 / 61, abs=1e-15) and hits[1].dense == -0.2  # BM25's vote only


@pytest.mark.parametrize("rrf_k", [1, 5, 60, 1000])
def test_a_chunk_first_in_both_rankings_is_fused_first(rrf_k):
    rng = np.random.default_rng(rrf_k)
    for _ in range(50):
        n = int(rng.integers(2, 60))
        top = int(rng.integers(0, n))
        rest = [i for i in rng.permutation(n) if i != top]
        dense = [(top, 0.9)] + [(int(i), 0.5) for i in rest[: int(rng.integers(0, n))]]
        lexical = [(top, 9.0)] + [(int(i), 1.0) for i in rng.permutation(rest)[: int(rng.integers(0, n))]]
        ret, _ = _retriever(n, dense, lexical, rrf_k=rrf_k)
        hits = _search(ret, k=n)
        assert ret.index.chunks.index(hits[0].chunk) == top
        assert hits[0].score == pytest.approx(2 / (rrf_k + 1), abs=1e-15)


def test_rrf_k_sets_the_weights_as_the_formula_says():
    """Chunk 0 is first in the dense ranking only; chunk 1 is 30th in both. By the formula chunk 1
    wins when 2/(k+30) > 1/(k+1), that is when k > 28; they tie at k = 28 (then the lower id, 0,
    comes first) and chunk 0 wins below."""
    others = list(range(2, 31))  # 29 chunks that fill the ranks in between
    dense = [(0, 0.9)] + [(i, 0.5) for i in others[:28]] + [(1, 0.4)]
    lexical = [(i, 3.0) for i in others] + [(1, 1.0)]
    assert [i for i, _ in dense].index(1) == 29 and [i for i, _ in lexical].index(1) == 29
    first = {}
    for k in (1, 10, 27, 28, 29, 60, 1000):
        ret, _ = _retriever(31, dense, lexical, rrf_k=k)
        hits = _search(ret, k=31)
        pos = {ret.index.chunks.index(h.chunk): n for n, h in enumerate(hits)}
        assert hits[pos[0]].score == pytest.approx(1 / (k + 1), abs=1e-15)
        assert hits[pos[1]].score == pytest.approx(2 / (k + 30), abs=1e-15)
        first[k] = 0 if pos[0] < pos[1] else 1
    assert first == {1: 0, 10: 0, 27: 0, 28: 0, 29: 1, 60: 1, 1000: 1}


def test_a_higher_rrf_k_flattens_the_rankings():
    """The weight of rank 1 over rank 10 is (k+10)/(k+1): it shrinks towards 1 as k grows."""
    dense = [(i, 0.9 - i / 100) for i in range(10)]
    ratios = []
    for k in (1, 10, 60, 1000):
        ret, _ = _retriever(10, dense, [], rrf_k=k)
        hits = _search(ret, k=10)
        ratio = hits[0].score / hits[9].score
        assert ratio == pytest.approx((k + 10) / (k + 1), rel=1e-12)
        ratios.append(ratio)
    assert ratios == sorted(ratios, reverse=True) and ratios[-1] < 1.01


def test_each_ranking_is_asked_for_its_top_depth_only():
    ret, rankings = _retriever(50, [(i, 0.5) for i in range(50)], [(i, 1.0) for i in range(50)], depth=20)
    hits = _search(ret, k=5)
    assert rankings.asked == [("dense", 20), ("keyword", 20)]
    assert len(hits) == 5
    ret, rankings = _retriever(10, [(i, 0.5) for i in range(10)], [], depth=20)
    _search(ret, k=30)  # a k above the depth raises it; the dense side never asks for more chunks than exist
    assert rankings.asked == [("dense", 10), ("keyword", 30)]


@pytest.mark.parametrize("mode", ["dense", "bm25"])
def test_single_retriever_modes_keep_that_retrievers_scores(mode):
    dense = [(3, 0.8), (1, 0.8), (0, -0.1)]
    lexical = [(2, 4.0), (0, 4.0), (1, 1.0)]
    ret, _ = _retriever(4, dense, lexical)
    hits = _search(ret, k=4, mode=mode)
    want = dense if mode == "dense" else lexical
    expected = sorted(want, key=lambda x: (-x[1], x[0]))  # equal scores: lower id first
    assert [(ret.index.chunks.index(h.chunk), h.score) for h in hits] == expected


def test_rrf_fuse_on_its_own_matches_the_formula_in_exact_fractions():
    """The pure function the retriever calls, against the formula in exact arithmetic."""
    from fractions import Fraction

    from ipqa.retrieval import rrf_fuse

    rng = np.random.default_rng(7)
    for _ in range(200):
        k = int(rng.integers(1, 100))
        rankings = [
            (float(w), [int(i) for i in rng.permutation(30)[: rng.integers(0, 20)]])
            for w in rng.choice([0.5, 1.0, 2.0], size=int(rng.integers(1, 4)))
        ]
        exact: dict[int, Fraction] = {}
        for w, ids in rankings:
            for r, i in enumerate(ids, 1):
                exact[i] = exact.get(i, Fraction(0)) + Fraction(w) / (k + r)
        got = rrf_fuse(rankings, k)
        assert set(got) == set(exact)
        for i, v in exact.items():
            assert abs(got[i] - float(v)) < 1e-12

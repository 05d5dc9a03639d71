"""The stored models run in NumPy: the trees' all-at-once walk against a plain tree-by-tree one;
each answerability reads the question's embedding of its own encoder, and no other."""

from __future__ import annotations

import numpy as np

from ipqa.embedding import ML_DIM
from ipqa.model import CROSS_MODEL_FILE, EMBED_DIM, MODEL_FILE, AnsweringModel, Linear, Trees, load_model


def _one_tree_at_a_time(trees: Trees, x: np.ndarray) -> np.ndarray:
    """The reference: each row walks each tree from its root, one tree after another."""
    out = np.full(len(x), trees.baseline)
    for f, t, left, right, v, leaf in zip(
        trees.feature, trees.threshold, trees.left, trees.right, trees.value, trees.leaf, strict=True
    ):
        for i, row in enumerate(x):
            node = 0
            while not leaf[node]:
                node = left[node] if row[f[node]] <= t[node] else right[node]
            out[i] += v[node]
    return 1.0 / (1.0 + np.exp(-out))


def test_trees_give_exactly_what_walking_each_tree_gives():
    model = load_model()
    trees = [m for m in (model.sentence, *getattr(model.answerable, "members", ())) if isinstance(m, Trees)]
    assert trees, "the shipped model has trees"
    rng = np.random.default_rng(0)
    for t in trees:
        width = max(int(f.max()) for f in t.feature) + 1
        for n in (1, 9, 240):
            x = rng.normal(size=(n, width)) * 2
            x[:, 0] = np.round(x[:, 0])  # values on thresholds too
            assert np.array_equal(t.proba(x), _one_tree_at_a_time(t, x))


def _linear(model: AnsweringModel) -> Linear:
    return next(m for m in model.answerable.members if not isinstance(m, Trees))


def _question_row(model: AnsweringModel) -> np.ndarray:
    """A typical question's features: the means the answerable model's linear member was fitted on."""
    return _linear(model).mean[: len(model.question_features)].copy()


def _reads_its_embedding(model: AnsweringModel, width: int, other: int, seed: int) -> None:
    x = _question_row(model)
    rng = np.random.default_rng(seed)
    linear = _linear(model)
    n = len(model.question_features)
    assert linear.coef.shape[1] == n + width
    # two embeddings near those it was fitted on (a random direction is far from any question's)
    a, b = (linear.mean[n:] + 0.5 * linear.scale[n:] * rng.normal(size=width) for _ in range(2))
    assert 0.01 < model.answer_probability(x, a) < 0.99
    assert model.answer_probability(x, a) != model.answer_probability(x, b)
    # A vector of the other encoder's space counts as no embedding.
    assert model.answer_probability(x, rng.normal(size=other)) == model.answer_probability(x, None)
    again = AnsweringModel.from_json(model.to_json())
    assert again.answer_probability(x, a) == model.answer_probability(x, a)


def test_the_english_answerability_reads_how_the_question_is_asked():
    model = load_model()
    assert model.answer_embedding == EMBED_DIM
    _reads_its_embedding(model, EMBED_DIM, ML_DIM, 3)


def test_the_other_languages_answerability_reads_the_multilingual_embedding():
    """Its questions are searched with the multilingual encoder's vector, and it was fitted on
    every language embedded by that encoder: one space in which English questions teach it too."""
    cross = load_model(CROSS_MODEL_FILE)
    assert cross.answer_embedding == ML_DIM
    _reads_its_embedding(cross, ML_DIM, EMBED_DIM, 4)


def test_model_files_that_stored_a_flag_read_as_the_english_width():
    d = load_model().to_json()
    assert AnsweringModel.from_json({**d, "answer_embedding": True}).answer_embedding == EMBED_DIM
    assert AnsweringModel.from_json({**d, "answer_embedding": False}).answer_embedding == 0


def test_a_model_file_without_a_continuation_reads_as_adding_none():
    """Files from before the continuation existed still load, and then never add a neighbour."""
    import json

    d = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    for key in ("continuation", "continue_above", "continuation_features"):
        d.pop(key, None)
    old = AnsweringModel.from_json(d)
    assert old.continuation is None and old.continue_above > 1.0
    assert "continuation" not in old.to_json()


def test_the_continuation_survives_its_file():
    """The shipped models' continuation reads back as it was written."""
    for path in (MODEL_FILE, CROSS_MODEL_FILE):
        m = load_model(path)
        assert m.continuation is not None, path
        back = AnsweringModel.from_json(m.to_json())
        x = np.random.default_rng(0).normal(size=(5, len(m.continuation_features)))
        assert np.allclose(back.continuation.proba(x), m.continuation.proba(x))
        assert back.continue_above == m.continue_above

"""The training script's choices (eval/train.py): out-of-fold scoring and the refusal threshold."""

from __future__ import annotations

import sys

import numpy as np

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "eval"))
import train as T  # noqa: E402


class _Seen:
    """A "model" that gives 1.0 for rows it was fitted on and 0.0 for others."""

    def __init__(self, X):
        self.rows = {tuple(r) for r in X}

    def proba(self, X):
        seen = np.array([tuple(r) in self.rows for r in X], dtype=float)
        return np.stack([1 - seen, seen], axis=1)


def test_out_of_fold_classes_never_score_a_row_with_a_model_fitted_on_it():
    X = np.arange(40, dtype=float).reshape(20, 2)  # 15 labelled rows, then 5 extra ones
    y = ["a", "b"] * 10
    fitted_with_extra = []

    def fit(Xf, yf):
        fitted_with_extra.append(all(tuple(r) in {tuple(x) for x in Xf} for r in X[15:]))
        return _Seen(Xf)

    p = T.out_of_fold_classes(X, y, 15, fit, folds=5)
    assert p.shape == (15, 2)
    assert (p[:, 1] == 0.0).all()  # no labelled row was seen by the model that scored it
    assert all(fitted_with_extra) and len(fitted_with_extra) == 5


def test_threshold_refuses_most_unanswerable_within_the_false_refusal_target():
    rng = np.random.default_rng(0)
    answerable = np.r_[np.ones(200, bool), np.zeros(100, bool)]
    prob = np.where(answerable, rng.beta(5, 2, 300), rng.beta(2, 5, 300))
    t = T.choose_threshold(prob, answerable, 0.05)
    refused = prob < t
    assert refused[answerable].mean() <= 0.05
    # one step higher would pass the target or refuse no more unanswerable questions
    higher = prob < t + 0.01
    assert higher[answerable].mean() > 0.05 or higher[~answerable].mean() == refused[~answerable].mean()
    assert refused[~answerable].mean() > 0.5

"""Small statistics shared by the evaluation and its report."""

from __future__ import annotations


def mean(xs: list[float]) -> float | None:
    """The mean, or None for no values (a metric with nothing to measure is not 0)."""
    return sum(xs) / len(xs) if xs else None

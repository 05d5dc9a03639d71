"""The few errors ipqa reports to users; each carries a one-line message and an exit code."""

from __future__ import annotations


class IpqaError(Exception):
    """Base: a problem the user can act on, shown as one line (no traceback)."""

    exit_code = 2


class InputError(IpqaError):
    """The question itself is unusable (empty, too long, not text)."""


class CorpusError(IpqaError):
    """A corpus file or folder cannot be used."""


class IndexError_(IpqaError):
    """The index is missing, damaged or built for another corpus/model."""


class ModelError(IpqaError):
    """An answering-model file does not fit this code (trained for other features)."""


class BuildLockedError(IpqaError):
    """Another `ipqa build` is running."""

"""ipqa: grounded, cited answers from policy documents, every claim an exact sentence."""

__version__ = "0.1.0"

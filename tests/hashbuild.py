"""A real `build_index` with a hashing encoder: the build mechanics without a neural model.

The crash-safety tests kill builds many times; with the real models each build imports torch and
embeds a whole report. Here the encoders are replaced by `HashEncoder`, deterministic and NumPy
only, with the same contract as the real ones (`encode(texts)` → float32 rows of the encoder's
width, each L2-normalised), so everything else a build does — lock, generation folder, files,
fault points (`IPQA_FAULT_AT`), manifest, checksums, rename, CURRENT — runs unchanged.

Run as a child process (from the project root):

    python -m tests.hashbuild CORPUS_DIR INDEX_DIR

It prints `ready` once its imports are done and just before `build_index` starts (the tests time
their kills from that line), the build's log lines, then `done`. With HASHBUILD_HOLD=<folder> the
build, holding its lock, creates <folder>/holding at its first embedding and waits there until
<folder>/release exists (a build that is certainly running, for the concurrency test).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ipqa import index as ipqa_index
from ipqa.chunking import ChunkerParams
from ipqa.embedding import DIM, ML_DIM

_TOKEN = re.compile(r"\w+")


class HashEncoder:
    """Bag of hashed word unigrams and bigrams, signed, L2-normalised (the "hashing trick").

    Deterministic across processes (blake2b, not Python's salted `hash`); texts sharing words get
    a positive cosine, so search results still depend on the question."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    def _features(self, text: str) -> list[str]:
        toks = _TOKEN.findall(text.lower())
        return toks + [f"{a} {b}" for a, b in itertools.pairwise(toks)]

    def encode(self, texts: list[str]) -> np.ndarray:
        _hold_once()
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            for feat in self._features(text):
                h = int.from_bytes(hashlib.blake2b(feat.encode("utf-8"), digest_size=8).digest(), "big")
                out[row, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm == 0:  # no words (or they cancel out): a fixed unit vector, never NaN
                out[row, :] = 0.0
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return np.ascontiguousarray(out, dtype=np.float32)


_held = False


def _hold_once() -> None:
    """With HASHBUILD_HOLD set: pause the first embedding (the build's lock is held by then)."""
    global _held
    folder = os.environ.get("HASHBUILD_HOLD")
    if not folder or _held:
        return
    _held = True
    Path(folder, "holding").touch()
    deadline = time.monotonic() + 120
    while not Path(folder, "release").exists():
        if time.monotonic() > deadline:
            raise SystemExit("hashbuild: never released")
        time.sleep(0.01)


def build(
    corpus_dir: Path,
    index_dir: Path,
    log: Callable[[str], None] = lambda _m: None,
    force: bool = True,
    params: ChunkerParams | None = None,
) -> Path:
    """`ipqa.index.build_index` with hashing encoders; returns the new generation's folder."""
    return ipqa_index.build_index(
        corpus_dir,
        index_dir,
        params or ChunkerParams(),
        HashEncoder,
        log,
        force=force,
        progress=False,
        multilingual_factory=lambda: HashEncoder(ML_DIM),
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tests.hashbuild CORPUS_DIR INDEX_DIR", file=sys.stderr)
        return 64

    def log(msg: str) -> None:
        print(msg, flush=True)

    log("ready")
    build(Path(argv[0]), Path(argv[1]), log)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

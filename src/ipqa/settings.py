"""One Settings object. Precedence, everywhere: CLI flag > IPQA_* environment variable > default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ipqa.errors import InputError


def _project_root() -> Path:
    """The checkout this package runs from (editable install), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "corpus").is_dir() else Path.cwd()


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = Path()
    index_dir: Path = Path()
    retriever: str = "hybrid"
    top_k: int = 5
    rrf_k: int = 60
    chunk_max_chars: int = 600
    chunk_overlap: int = 1
    max_question_chars: int = 2000
    refuse_below: float | None = (
        None  # refuse below this calibrated probability; None: the model's dev-chosen threshold
    )
    llm_url: str | None = None  # an OpenAI-compatible API base, e.g. http://127.0.0.1:11434/v1
    llm_model: str | None = None
    llm_api_key: str | None = field(default=None, repr=False)  # from IPQA_LLM_API_KEY only
    llm_timeout: float = 60.0
    host: str = "127.0.0.1"  # the UI listens on loopback unless told otherwise
    port: int = 7860
    ui_queue_size: int = 32  # requests waiting beyond this are turned away ("busy")
    ui_concurrency: int = 2  # questions answered at once (2 cores)
    ui_uploads: bool = True  # whether UI users may add documents (switch off for shared deployments)
    max_upload_mb: int = 50  # largest document the UI accepts

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Defaults, then IPQA_<FIELD> variables, then explicit (non-None) overrides."""
        root = _project_root()
        base = cls(corpus_dir=root / "corpus", index_dir=root / "index")
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"IPQA_{f.name.upper()}")
            if env is not None and env != "":
                values[f.name] = _coerce(f.name, env, getattr(base, f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = replace(base, **values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.retriever not in ("hybrid", "dense", "bm25"):
            raise InputError(f"retriever must be hybrid, dense or bm25 (got {self.retriever!r})")
        if not 1 <= self.top_k <= 50:
            raise InputError(f"top-k must be between 1 and 50 (got {self.top_k})")
        if self.chunk_max_chars < 50 or self.chunk_overlap < 0:
            raise InputError("chunk settings out of range")
        if not 1 <= self.max_upload_mb <= 500:
            raise InputError(f"max-upload-mb must be between 1 and 500 (got {self.max_upload_mb})")
        if self.refuse_below is not None and not 0.0 <= self.refuse_below <= 1.0:  # NaN fails too
            raise InputError(f"refuse-below is a probability between 0 and 1 (got {self.refuse_below})")


def _coerce(name: str, raw: str, default: Any) -> Any:
    try:
        if isinstance(default, Path):
            return Path(raw)
        if isinstance(default, bool):
            return raw.lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if name == "refuse_below" or isinstance(default, float):
            return float(raw)
    except ValueError:
        raise InputError(f"IPQA_{name.upper()}={raw!r} is not a valid value") from None
    return raw

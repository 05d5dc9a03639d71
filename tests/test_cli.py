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


def run(settings, *args, stdin: bytes | None = None, env_extra: dict | None = None, cwd=None, timeout=120):
    env = {
        **os.environ,
        "IPQA_INDEX_DIR": str(settings.index_dir),
        "IPQA_CORPUS_DIR": str(settings.corpus_dir),
    }
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "ipqa.cli", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
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
    """The first `ipqa ask` builds the index, saying so on stderr; stdout stays the answer."""
    r = run(settings, "ask", "--json", AI_Q,
            env_extra={"IPQA_INDEX_DIR": str(tmp_path / "fresh"), "IPQA_CORPUS_DIR": str(corpus_copy)})  # fmt: skip
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode()
    assert f"no index in {tmp_path / 'fresh'} yet" in err and "building" in err
    assert "6 months" in json.loads(r.stdout)["answer"]
    assert (tmp_path / "fresh" / "CURRENT").is_file()


def test_commands_that_only_read_never_build(tmp_path, corpus_copy, settings):
    """`ipqa docs` on a missing index: one line naming `ipqa build`, exit 2, nothing written."""
    r = run(settings, "docs",
            env_extra={"IPQA_INDEX_DIR": str(tmp_path / "none"), "IPQA_CORPUS_DIR": str(corpus_copy)})  # fmt: skip
    err = r.stderr.decode()
    assert r.returncode == 2 and len(err.strip().splitlines()) == 1, err
    assert "no index" in err and "ipqa build" in err and "Traceback" not in err
    assert not (tmp_path / "none").exists()


def test_build_is_idempotent_and_force_rebuilds(engine, settings, tmp_path):
    r = run(settings, "build")
    assert r.returncode == 0 and "up to date" in r.stderr.decode()
    corpus = tmp_path / "corpus"  # a one-page corpus: --force re-embeds it
    corpus.mkdir()
    (corpus / "note.md").write_text(
        "# Note\n\n## Rules\n\nThe office answers within 9 days.\n", encoding="utf-8"
    )
    small = {"IPQA_CORPUS_DIR": str(corpus), "IPQA_INDEX_DIR": str(tmp_path / "index")}
    first = run(settings, "build", "--json", env_extra=small)
    again = run(settings, "build", "--json", env_extra=small)
    forced = run(settings, "build", "--force", "--json", env_extra=small)
    assert first.returncode == again.returncode == forced.returncode == 0
    assert "embedding" in first.stderr.decode() and "up to date" in again.stderr.decode()
    assert "embedding" in forced.stderr.decode() and "up to date" not in forced.stderr.decode()
    generations = sorted(p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("gen-"))
    assert (tmp_path / "index" / "CURRENT").read_text().strip() == generations[-1]
    # --json: stdout is one JSON object (progress went to stderr) saying what the build did
    a, b, c = (json.loads(x.stdout) for x in (first, again, forced))
    assert set(a) == {
        "generation",
        "index",
        "rebuilt",
        "up_to_date",
        "documents",
        "chunks",
        "sentences",
        "seconds",
    }
    assert (a["rebuilt"], a["up_to_date"], a["documents"], a["sentences"]) == (True, False, 1, 1)
    assert a["chunks"] == 1 and a["seconds"] >= 0 and a["index"] == str(tmp_path / "index" / a["generation"])
    assert (b["rebuilt"], b["up_to_date"], b["generation"]) == (False, True, a["generation"])
    assert c["rebuilt"] and c["generation"] != a["generation"] and c["generation"] == generations[-1]


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
    assert (rows["rrf_k"]["value"], rows["rrf_k"]["source"]) == (10, "default")
    assert rows["top_k"]["range"] == [1, 50] and rows["top_k"]["help"]
    assert "sk-secret" not in out and "pw123" not in out and "alice" not in out
    plain = run(settings, "config", env_extra=env)
    assert plain.returncode == 0 and b"IPQA_TOP_K" in plain.stdout and b"(environment)" in plain.stdout


def test_feedback_json_is_the_entries_and_nothing_else(tmp_path, settings):
    from ipqa import feedback

    env = {"IPQA_INDEX_DIR": str(tmp_path / "index")}  # its data folder: tmp_path / "data"
    r = run(settings, "feedback", "--json", env_extra=env)
    assert r.returncode == 0 and json.loads(r.stdout) == [] and r.stderr == b""
    feedback.record(tmp_path / "data", feedback.clean({"rating": "down", "question": "Why?"}))
    r = run(settings, "feedback", "--json", env_extra=env)
    entries = json.loads(r.stdout)
    assert r.returncode == 0 and [(e["rating"], e["question"]) for e in entries] == [("down", "Why?")]


@pytest.mark.parametrize("what", ["no eval folder", "report is a folder"])
def test_eval_input_errors_are_one_line(tmp_path, settings, what):
    from .conftest import ROOT

    args = (
        ["--eval-dir", str(tmp_path)]
        if what == "no eval folder"
        else ["--eval-dir", str(ROOT / "eval"), "--report", str(tmp_path)]
    )
    r = run(settings, "eval", *args, cwd=tmp_path)
    err = r.stderr.decode()
    assert r.returncode == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert ("not an evaluation folder" if what == "no eval folder" else "is a folder") in err


def _tiny_eval_dir(folder):
    """Six labelled questions (answerable and not, one per split) and the real bounds."""
    import shutil

    from ipqa.labels import load_labelled

    from .conftest import ROOT

    items = load_labelled(ROOT / "eval" / "labelled")
    (folder / "labelled").mkdir(parents=True)
    plain = [it for it in items if it["register"] not in ("non-english", "injection")]
    picked = [next(it for it in plain if it["split"] == sp and it["answerable"] is ans)
              for sp in ("train", "dev", "test") for ans in (True, False)]  # fmt: skip
    with open(folder / "labelled" / "tiny.jsonl", "w", encoding="utf-8") as fh:
        for it in picked:
            fh.write(json.dumps({k: v for k, v in it.items() if k not in ("split", "source")}) + "\n")
    shutil.copy(ROOT / "eval" / "thresholds.toml", folder / "thresholds.toml")
    return picked


@pytest.mark.slow
def test_eval_json_on_a_tiny_labelled_set_writes_the_report_where_told(engine, settings, tmp_path):
    """`ipqa eval --json --report FILE`: stdout is one JSON object (metrics per split, each test
    metric's target and gate verdict, the overall verdicts), the report and its chart are at FILE,
    and the exit code follows the gate."""
    picked = _tiny_eval_dir(tmp_path / "ev")
    report = tmp_path / "out" / "mine.md"
    r = run(settings, "eval", "--eval-dir", str(tmp_path / "ev"), "--report", "out/mine.md", "--json",
            cwd=tmp_path, timeout=600)  # fmt: skip
    out = json.loads(r.stdout)
    assert r.returncode == (0 if out["gate"]["pass"] else 1), r.stderr
    assert out["gate"]["pass"] is (not out["gate"]["failures"])
    assert out["splits"]["test"]["items"] == sum(it["split"] == "test" for it in picked) == 2
    assert {"train", "dev", "test"} == set(out["splits"]) == set(out["registers"])
    validity = out["test"]["citation_validity"]
    assert validity["value"] == 1.0 and validity["gate"] == {"min": 1.0, "pass": True}
    assert out["test"]["injection_safety"]["value"] is None  # no injection question: not measured
    assert out["test"]["injection_safety"]["gate"]["pass"] is None
    assert "injection_safety: not measured" in out["gate"]["failures"]
    assert (
        out["report"] == str(report)
        and report.is_file()
        and (tmp_path / "out" / "mine_categories.png").is_file()
    )
    assert "](mine_categories.png)" in report.read_text(encoding="utf-8")
    assert "report written to" in r.stderr.decode()
    assert not (tmp_path / "data").exists()  # --report, not the data folder

"""The `ipqa` command: parse arguments, call the library, print. No answering logic lives here.

Why long: one short function per command (ask, chat, build, add, docs, feedback, config, db,
eval), each with its plain and `--json` output; split up, the commands' shared flags and error
handling would be repeated in every file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ipqa.errors import InputError, IpqaError

if TYPE_CHECKING:
    from ipqa.contract import Answer
    from ipqa.settings import Settings

EXAMPLE = "What do the documents say about protecting trade secrets?"
PRINTING = ("ask", "chat", "docs", "eval", "feedback", "config")  # commands whose results go to stdout


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ipqa",
        description="Answers questions about the documents in corpus/, citing the exact sentences.",
        epilog=f'Example: ipqa ask "{EXAMPLE}"',
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus-dir", help="folder of documents (default: ./corpus; env IPQA_CORPUS_DIR)")
    common.add_argument("--index-dir", help="where the index lives (default: ./index; env IPQA_INDEX_DIR)")
    common.add_argument(
        "--store",
        help="serve the index from PostgreSQL: a postgresql://… URL (env IPQA_STORE; default: the index folder)",
    )

    llm = argparse.ArgumentParser(add_help=False)
    llm.add_argument(
        "--llm-url",
        help="OpenAI-compatible API base of a local model server, e.g. http://127.0.0.1:11434/v1 "
        "(Ollama) or http://127.0.0.1:8080/v1 (llama.cpp); env IPQA_LLM_URL. API key: env IPQA_LLM_API_KEY",
    )
    llm.add_argument("--llm-model", help="model name on that server (env IPQA_LLM_MODEL)")
    llm.add_argument(
        "--llm-timeout", type=float, help="seconds to wait for the model (default 60; env IPQA_LLM_TIMEOUT)"
    )

    a = sub.add_parser(
        "ask",
        parents=[common, llm],
        help="answer a question with cited sentences",
        description="Answer QUESTION from the report. Each claim carries a marker [n] naming a quoted "
        "sentence. Use '-' to read one question per line from standard input (JSON Lines out).",
    )
    a.add_argument("question", help="the question, or '-' for one question per line on stdin")
    a.add_argument("--json", action="store_true", help="print JSON (the schema in shared/contract)")
    a.add_argument(
        "--retriever",
        choices=["hybrid", "dense", "bm25"],
        help="retrieval mode (default hybrid; env IPQA_RETRIEVER)",
    )
    a.add_argument("--top-k", type=int, help="passages to retrieve (default 5; env IPQA_TOP_K)")
    a.add_argument(
        "--doc",
        action="append",
        metavar="NAME",
        help="answer only from this document (file name, name without extension, or title); repeatable",
    )

    a.add_argument(
        "--previous",
        action="append",
        metavar="QUESTION",
        help="an earlier question of the conversation (repeatable, oldest first): QUESTION is then "
        "answered as a follow-up: ipqa ask --previous 'How does Kenya protect trade secrets?' 'And Peru?'",
    )

    c = sub.add_parser(
        "chat",
        parents=[common, llm],
        help="an interactive session with follow-up questions",
        description="Ask questions one after another; a follow-up ('And Peru?', 'tell me more') is "
        "answered with the conversation in mind. /new starts a new conversation; Ctrl-D quits.",
    )
    c.add_argument("--retriever", choices=["hybrid", "dense", "bm25"], help="retrieval mode")
    c.add_argument("--doc", action="append", metavar="NAME", help="answer only from this document")

    d = sub.add_parser(
        "add",
        parents=[common],
        help="copy documents into the corpus and update the index",
        description="Copy each FILE (PDF, DOCX, HTML, Markdown or text; checked by content) into the "
        "corpus folder and update the index. An existing corpus file is never overwritten.",
    )
    d.add_argument("files", nargs="+", metavar="FILE")

    sub.add_parser("docs", parents=[common], help="list the indexed documents with their sections")
    f = sub.add_parser(
        "feedback",
        parents=[common],
        help="print the feedback UI users gave (thumbs, wrong citations), kept in data/ beside the index",
    )
    f.add_argument("--json", action="store_true", help="print the entries as JSON")

    b = sub.add_parser(
        "build",
        parents=[common],
        help="(re)build the search index from the corpus",
        description="Bring the index up to date with the corpus: only new or changed documents are read "
        "and embedded. Progress goes to stderr.",
    )
    b.add_argument("--force", action="store_true", help="rebuild every document, even unchanged ones")
    b.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: generation, index, rebuilt, up_to_date, documents, chunks, "
        "sentences, seconds (and published, with a database store)",
    )

    e = sub.add_parser(
        "eval",
        parents=[common, llm],
        help="run the evaluation on the labelled questions and gate on the test split",
        description="Answer every labelled question, measure retrieval, correctness, citations, refusals "
        "and grounding, write a report with a chart (report.md in the data folder, data/ beside the "
        "index folder, unless --report or IPQA_REPORT_DIR says otherwise), and exit 1 when the CI gate "
        "fails (with --strict: also when a target is missed). Progress goes to stderr.",
    )
    e.add_argument("--eval-dir", help="folder with labelled/*.jsonl and thresholds.toml (default: ./eval)")
    e.add_argument("--strict", action="store_true", help="exit 1 when any target in [targets] is missed")
    e.add_argument(
        "--report",
        metavar="FILE",
        help="write the Markdown report here (default: report.md, with --llm-url report_llm.md, in "
        "IPQA_REPORT_DIR or the data folder); the chart goes beside it",
    )
    e.add_argument(
        "--json",
        action="store_true",
        help="print the metrics per split and the gate and target verdicts as one JSON object",
    )
    e.add_argument(
        "--split",
        choices=("train", "dev", "test"),
        default="test",
        help="with --llm-url: the split to compare the LLM mode on (default test)",
    )
    c = sub.add_parser(
        "config", parents=[common, llm], help="the settings in effect and where each came from"
    )
    c.add_argument("--json", action="store_true", help="print them as JSON")

    db = sub.add_parser("db", parents=[common], help="the PostgreSQL store's schema")
    db.add_argument(
        "action", choices=("init", "status"), help="init: create or migrate the schema; status: show it"
    )
    return p


def _settings(args: argparse.Namespace) -> Settings:
    return _settings_with_sources(args)[0]


def _settings_with_sources(args: argparse.Namespace) -> tuple[Settings, dict[str, str]]:
    from pathlib import Path

    from ipqa.settings import Settings

    return Settings.load_with_sources(
        corpus_dir=Path(args.corpus_dir) if args.corpus_dir else None,
        index_dir=Path(args.index_dir) if args.index_dir else None,
        retriever=getattr(args, "retriever", None),
        top_k=getattr(args, "top_k", None),
        llm_url=getattr(args, "llm_url", None),
        llm_model=getattr(args, "llm_model", None),
        llm_timeout=getattr(args, "llm_timeout", None),
        store=getattr(args, "store", None),
    )


def _ready(settings: Settings) -> None:
    """A first `ipqa ask` or `ipqa chat` without an index builds it, saying so (the engine never
    builds by itself)."""
    from ipqa.building import ensure_index

    ensure_index(settings, _log)


def _log(msg: str) -> None:
    """Build messages carry file names, titles and headings: cleaned like every answer."""
    print(f"ipqa: {_safe(msg)}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- output


class _Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def _safe(text: str) -> str:
    """Never echo control characters (ANSI sequences from a question, a document's heading or a
    file name) to a terminal."""
    return "".join(ch if ch == "\n" or ch.isprintable() else " " for ch in text)


def format_answer(ans: Answer, color: bool = False) -> str:
    import re

    st = _Style(color)
    lines: list[str] = []
    if ans.refused:
        lines.append(st(_safe(ans.answer), "33"))
    else:
        lines.append(re.sub(r"\[(\d+)\]", lambda m: st(m.group(0), "1;36"), _safe(ans.answer)))
    for note in ans.notes:
        lines.append(st(f"Note: {_safe(note)}", "2"))
    if ans.citations:
        lines += ["", st("Sources", "1")]
        for c in ans.citations:
            lines.append(
                f"{st(f'[{c.marker}]', '1;36')} {st(_safe(c.place), '1')}  ({_safe(c.doc)}, chars {c.start}–{c.end})"
            )
            lines.append(f"    “{_safe(c.quote)}”")
    return "\n".join(lines)


def _json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


# ---------------------------------------------------------------- commands


def _stdin_lines() -> Iterator[tuple[str | None, str | None]]:
    """(question, error) per input line; invalid UTF-8 yields an error, not a crash."""
    for raw in sys.stdin.buffer:
        line = raw.rstrip(b"\r\n")
        try:
            yield line.decode("utf-8"), None
        except UnicodeDecodeError:
            yield None, "the question is not valid UTF-8"


def cmd_ask(args: argparse.Namespace) -> int:
    from ipqa.contract import error_answer
    from ipqa.engine import get_engine
    from ipqa.errors import InputError
    from ipqa.question import clean_question

    settings = _settings(args)
    if args.question != "-":
        question = args.question
        if any("\udc80" <= ch <= "\udcff" for ch in question):  # undecodable argv bytes
            raise InputError("the question is not valid UTF-8")
        clean_question(question, settings.max_question_chars)  # fail fast, before loading anything
        from ipqa.language import detect

        if detect(question) != "en":  # its encoder loads while the index does
            from ipqa.embedding import preload_multilingual

            preload_multilingual()
        _ready(settings)
        engine = get_engine(settings)
        if args.previous:
            from ipqa.conversation import Conversation, ask_in_conversation

            for prev in args.previous:
                clean_question(prev, settings.max_question_chars)
            history = Conversation.of_questions(engine, args.previous)
            ans = ask_in_conversation(engine, question, history, engine.resolve_docs(args.doc))
        else:
            ans = engine.ask(question, docs=engine.resolve_docs(args.doc))
        if args.json:
            print(_json_line(ans.to_json()))
        else:
            print(format_answer(ans, color=sys.stdout.isatty() and not os.environ.get("NO_COLOR")))
        return 0

    _ready(settings)
    engine = get_engine(settings)
    docs = engine.resolve_docs(args.doc)
    for question, error in _stdin_lines():
        if error is None and question is not None:
            try:
                ans = engine.ask(question, docs=docs)
            except InputError as exc:
                ans = error_answer(question.strip(), str(exc))
        else:
            ans = error_answer("", error or "unreadable line")
        if args.json:
            print(_json_line(ans.to_json()), flush=True)
        else:
            print(format_answer(ans) + "\n", flush=True)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from ipqa.conversation import Conversation, resolve, stream_in_conversation
    from ipqa.engine import get_engine
    from ipqa.errors import InputError

    interactive = sys.stdin.isatty()
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    st = _Style(color)
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
    settings = _settings(args)
    _ready(settings)
    engine = get_engine(settings)
    docs = engine.resolve_docs(args.doc)
    if interactive:
        print(st("Ask a question about the documents. /new starts over; Ctrl-D quits.", "2"), flush=True)
    conv = Conversation()
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            if interactive:
                print()
            return 0
        question = line.strip()
        if not question:
            continue
        if question in ("/new", "/reset"):
            conv = Conversation()
            print(st("(new conversation)", "2"), flush=True)
            continue
        if question in ("/quit", "/exit"):
            return 0
        try:
            r = resolve(engine, question, conv, docs)
            ans = None
            for event in stream_in_conversation(engine, question, conv, docs, args.retriever, resolved=r):
                if not isinstance(event, str):
                    ans = event
        except InputError as exc:
            print(f"ipqa: {_safe(str(exc))}", file=sys.stderr, flush=True)
            continue
        assert ans is not None
        if ans.searched_for:
            print(st(f"Searched for: {_safe(ans.searched_for)}", "2"))
        print(format_answer(ans, color=color) + "\n", flush=True)
        conv = conv.add(question, ans, r)


def cmd_build(args: argparse.Namespace) -> int:
    from ipqa.building import build

    settings = _settings(args)
    with _stdout_for_results(args.json):
        result = build(settings, _log, force=args.force)
    if args.json:
        print(_json_line(result.to_json()))
    return 0


@contextlib.contextmanager
def _stdout_for_results(json_out: bool) -> Iterator[None]:
    """With --json, anything a library prints while the work runs goes to stderr: stdout holds
    only the JSON printed after it."""
    if not json_out:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def cmd_config(args: argparse.Namespace) -> int:
    import json

    settings, source = _settings_with_sources(args)
    rows = settings.in_effect(source)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max(len(r["env"]) for r in rows)
    for r in rows:
        value = "(not set)" if r["value"] is None else r["value"]
        rng = f"  [{r['range'][0]:g}–{r['range'][1]:g}]" if r["range"] else ""
        print(f"{r['env']:<{width}}  {_safe(str(value))}  ({r['source']}){rng}\n{'':<{width}}  {r['help']}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from ipqa.stores import database, is_database
    from ipqa.stores.postgres import SCHEMA_VERSION

    settings = _settings(args)
    if not is_database(settings.store):
        raise InputError("ipqa db needs a database: --store postgresql://… or IPQA_STORE")
    db = database(settings)
    if args.action == "init":
        before, after = db.init()
        if before == after:
            _log(f"the schema at {db.where} is up to date (version {after})")
        else:
            _log(f"the schema at {db.where} is now at version {after} (was {before or 'none'})")
        return 0
    version = db.schema_version()
    current = db.current() if version == SCHEMA_VERSION else None
    print(f"database {db.where}: schema version {version or 'none'} (this ipqa: {SCHEMA_VERSION}); "
          f"serving generation {current or 'none'}")  # fmt: skip
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ipqa.building import build
    from ipqa.documents import add_files

    settings = _settings(args)
    for path in add_files([Path(f) for f in args.files], settings.corpus_dir):
        _log(f"added {path}")
    build(settings, _log)
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    from ipqa.feedback import folder_for, print_feedback

    return print_feedback(folder_for(_settings(args)), as_json=args.json)


def cmd_docs(args: argparse.Namespace) -> int:
    from ipqa.engine import get_engine

    engine = get_engine(_settings(args))
    for d in engine.documents():
        print(_safe(f"{d.doc} — {d.title}") + (f" ({len(d.pages)} pages)" if d.pages else ""))
        for sec in d.sections:
            print(f"    {'  ' * max(0, sec.level - 1)}{_safe(sec.label)}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ipqa.evaluation import run_all

    settings = _settings(args)
    eval_dir = Path(args.eval_dir or "eval").absolute()
    if not (eval_dir / "labelled").is_dir() or not (eval_dir / "thresholds.toml").is_file():
        raise IpqaError(f"{eval_dir} is not an evaluation folder (it needs labelled/ and thresholds.toml)")
    default_name = "report_llm.md" if settings.llm_url else "report.md"
    path = Path(args.report).absolute() if args.report else settings.report_folder() / default_name
    if path.is_dir():
        raise InputError(f"--report {path} is a folder; give a file name such as {path / default_name}")
    if settings.llm_url:  # the LLM mode against the extractive one: measured, not gated
        from ipqa.evaluation_llm import compare_modes, render_llm_report

        with _stdout_for_results(args.json):
            result = compare_modes(settings, eval_dir, _log, split=args.split)
            report = render_llm_report(result)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(report, encoding="utf-8")
            tmp.replace(path)
        if args.json:
            from ipqa.eval_report import json_safe

            print(json.dumps(json_safe({**result, "report": str(path)}), ensure_ascii=False))
        else:
            print(report)
        _log(f"report written to {path}")
        return 0
    with _stdout_for_results(args.json):
        outcome = run_all(settings, eval_dir, _log, path)
    print(json.dumps(outcome.to_json(), ensure_ascii=False) if args.json else outcome.summary)
    _log(f"report written to {path}")
    if outcome.misses:
        _log(f"{len(outcome.misses)} target(s) not met on the test split (see {path})")
    return 1 if outcome.failures or (args.strict and outcome.misses) else 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from ipqa.embedding import offline_environment

    offline_environment()  # once, here: no constructor changes the environment
    if sys.stderr is None:  # nowhere to say anything: at least the exit code tells
        return 2
    prints = args.command in PRINTING or getattr(args, "json", False)
    if prints and (sys.stdout is None or sys.stdout.closed):
        print("ipqa: error: standard output is closed; nowhere to print the answer", file=sys.stderr)
        return 2
    if getattr(args, "question", None) == "-" and (sys.stdin is None or sys.stdin.closed):
        print("ipqa: error: standard input is closed; nothing to read questions from", file=sys.stderr)
        return 2
    commands = {
        "ask": cmd_ask,
        "chat": cmd_chat,
        "feedback": cmd_feedback,
        "build": cmd_build,
        "eval": cmd_eval,
        "add": cmd_add,
        "docs": cmd_docs,
        "db": cmd_db,
        "config": cmd_config,
    }
    try:
        return commands[args.command](args)
    except IpqaError as exc:
        print(f"ipqa: error: {_safe(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("ipqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0  # the reader went away (`ipqa ask - | head`): what it wanted was printed
    except OSError as exc:  # a read-only index folder, a full disk …
        where = f" ({_safe(str(exc.filename))})" if exc.filename else ""
        print(f"ipqa: error: {exc.strerror or type(exc).__name__}{where}", file=sys.stderr)
        return 2
    except Exception as exc:  # last resort: one line, not a traceback
        if os.environ.get("IPQA_DEBUG"):
            raise
        print(
            f"ipqa: internal error: {type(exc).__name__}: {_safe(str(exc))} (set IPQA_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""ipqa chat UI for non-specialists (Gradio). Start: `.venv/bin/python ui.py` → http://127.0.0.1:7860

This file only presents: it calls the same `ask()` as the CLI (through one shared engine, loaded
once at start-up), keeps the chat history, and turns answers into HTML. All text from questions,
answers and the report is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import argparse
import copy
import html
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import gradio as gr
from gradio.components.api_component import Api

from ipqa.documents import add_bytes
from ipqa.engine import Engine, build, get_engine, reload_engine
from ipqa.errors import InputError, IpqaError
from ipqa.formats import SUPPORTED_SUFFIXES
from ipqa.language import UNDERSTOOD
from ipqa.llm import LLMError
from ipqa.question import rewrite_followup
from ipqa.settings import Settings
from ipqa.webguard import HostPolicy, WebGuard, host_name, split_hostport

EXAMPLES = [
    "How long does Japan's patent office take to examine AI inventions?",
    "How does Japan protect trade secrets?",
    "What are the penalties for trade secret theft in South Korea?",
    "What does Singapore require of fintech companies before a full licence?",
    "How big is South Korea's data trading market?",
    "How do Japan and Korea prefer to resolve IP disputes?",
    "What is the Patent Prosecution Highway and what does it save?",
    "What should companies do to protect their data rights?",
]
MAX_TURNS = 30  # chat history kept per session
UPLOAD_ROUTE = "/gradio_api/upload"  # Gradio's file upload (multipart), the only route that stores files
STARTUP_ROUTE = "/gradio_api/startup-events"  # for launch() only; here the app's lifespan runs them once
MAX_REQUEST_BYTES = 1_000_000  # any other request body: questions are at most a few KB of JSON
MULTIPART_SLACK = 64 * 1024  # an upload's form envelope around the file itself

CSS = """
#ipqa-chat {font-size: 15px; line-height: 1.5}
.ipqa-intro h2 {margin: 0 0 .3em}
.ipqa-sections {columns: 2; column-gap: 2em; margin: .5em 0 0; padding-left: 1.2em; font-size: 13px}
.ipqa-doc {margin: .4em 0}
.ipqa-doc summary {cursor: pointer; font-weight: 600}
.ipqa-doc .ipqa-docmeta {font-weight: 400; color: #666; font-size: 12px}
.ipqa-turn {margin: 0 0 1.2em}
.ipqa-q {background: var(--color-accent-soft, #eef3ff); border-radius: 10px; padding: .5em .8em;
         margin: 0 0 .4em auto; max-width: 85%; width: fit-content}
.ipqa-searched {font-size: 12px; color: #666; margin: 0 0 .3em}
.ipqa-a {border-left: 4px solid #3b7dd8; padding: .4em .8em; background: #fafbfd}
.ipqa-refusal {border-left-color: #d8833b; background: #fff8f0}
.ipqa-error {border-left-color: #c0392b; background: #fff3f2}
.ipqa-badge {font-size: 12px; font-weight: 600; color: #b5651d; margin-bottom: .2em}
.ipqa-marker {font-weight: 600; color: #1f5fbf; cursor: pointer; text-decoration: none}
.ipqa-note {font-size: 12px; color: #666; margin-top: .3em}
.ipqa-closest span {display: inline-block; border: 1px solid #e0c0a0; border-radius: 12px;
                    padding: 0 .6em; margin: .2em .3em 0 0; font-size: 12px}
.ipqa-sources {margin-top: .5em; display: grid; gap: .5em}
.ipqa-card {border: 1px solid #dde3ee; border-radius: 8px; padding: .5em .7em; font-size: 13px;
            background: white; transition: box-shadow .3s}
.ipqa-card.ipqa-flash {box-shadow: 0 0 0 3px #3b7dd8}
.ipqa-card h4 {margin: 0 0 .3em; font-size: 13px}
.ipqa-card mark {background: #fff0a8; padding: 0 1px}
.ipqa-actions {margin-top: .4em}
.ipqa-draft {border-left-color: #999; color: #555; font-style: italic}
.ipqa-verdicts {font-size: 12px; margin-top: .4em}
.ipqa-verdicts ul {margin: .3em 0; padding-left: 1.2em; list-style: none}
.ipqa-removed {color: #a33; text-decoration: line-through}
.ipqa-kept {color: #2a6b2a}
.ipqa-copy {font-size: 12px; border: 1px solid #ccd; border-radius: 6px; background: white;
            padding: .1em .6em; cursor: pointer}
@media (max-width: 640px) {
  .ipqa-sections {columns: 1}
  .ipqa-q {max-width: 100%}
}
"""

# One delegated listener on the chat: markers reveal their source card, "Copy" copies Markdown.
CHAT_JS = """
element.addEventListener('click', async (ev) => {
  const marker = ev.target.closest('.ipqa-marker');
  if (marker) {
    ev.preventDefault();
    const card = element.querySelector('#' + marker.dataset.target);
    if (card) {
      card.scrollIntoView({behavior: 'smooth', block: 'center'});
      card.classList.add('ipqa-flash');
      setTimeout(() => card.classList.remove('ipqa-flash'), 1600);
    }
    return;
  }
  const copy = ev.target.closest('.ipqa-copy');
  if (copy) {
    const text = element.querySelector('#' + copy.dataset.source).value;
    try { await navigator.clipboard.writeText(text); }
    catch (e) {
      const area = element.querySelector('#' + copy.dataset.source);
      area.hidden = false; area.select(); document.execCommand('copy'); area.hidden = true;
    }
    copy.textContent = 'Copied';
    setTimeout(() => { copy.textContent = 'Copy as Markdown'; }, 1500);
  }
});
"""


# ---------------------------------------------------------------- rendering (pure functions)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _answer_html(answer: str, turn: int) -> str:
    """Escape the answer, then make each [n] a link to its source card."""
    import re

    return re.sub(
        r"\[(\d+)\]",
        lambda m: (
            f'<a class="ipqa-marker" href="#" data-target="ipqa-t{turn}-s{m.group(1)}">[{m.group(1)}]</a>'
        ),
        _e(answer),
    )


def _passage_html(passage: str, quote: str) -> str:
    at = passage.find(quote)
    if at < 0:
        return _e(passage)
    return f"{_e(passage[:at])}<mark>{_e(quote)}</mark>{_e(passage[at + len(quote) :])}"


def to_markdown(turn: dict[str, Any]) -> str:
    """An answer with its sources, ready to paste into a document."""
    ans = turn["answer"]
    lines = [f"**Q:** {turn['question']}", "", ans["answer"]]
    if ans["citations"]:
        lines += ["", "Sources:"]
        for c in ans["citations"]:
            lines.append(
                f"[{c['marker']}] {place(c)} — “{c['quote']}” ({c['doc']}, chars {c['start']}–{c['end']})"
            )
    return "\n".join(lines)


def place(c: dict[str, Any]) -> str:
    """'Indonesia Digital IP Outlook, p. 3, 3. Enforcement': where a reader finds a quote."""
    page = f", p. {c['page']}" if c.get("page") else ""
    return f"{c.get('title') or c['doc']}{page}, {c['section']}"


def render_turn(turn: dict[str, Any], n: int) -> str:
    parts = [f'<div class="ipqa-turn" data-turn="{n}">', f'<div class="ipqa-q">{_e(turn["question"])}</div>']
    if turn.get("error"):
        parts.append(f'<div class="ipqa-a ipqa-error">{_e(turn["error"])}</div></div>')
        return "".join(parts)
    if "draft" in turn:
        parts.append(
            '<div class="ipqa-a ipqa-draft"><div class="ipqa-badge ipqa-drafting">Drafting with the language model — '
            f"not yet checked against the report…</div>{_e(turn['draft'])}</div></div>"
        )
        return "".join(parts)
    ans = turn["answer"]
    if turn["searched"] != turn["question"]:
        parts.append(f'<div class="ipqa-searched">Searched for: {_e(turn["searched"])}</div>')
    if ans["refused"]:
        chips = "".join(f"<span>{_e(s)}</span>" for s in ans.get("closest_sections", []))
        parts.append(
            '<div class="ipqa-a ipqa-refusal"><div class="ipqa-badge">Not covered by the documents</div>'
            f"{_e(ans['answer'].split(' The closest sections')[0])}"
            + (f'<div class="ipqa-closest">Closest sections: {chips}</div>' if chips else "")
        )
    else:
        parts.append(f'<div class="ipqa-a ipqa-answer">{_answer_html(ans["answer"], n)}')
    for note in ans.get("notes", []):
        parts.append(f'<div class="ipqa-note">{_e(note)}</div>')
    if ans.get("mode") in ("llm", "extractive-fallback") and ans.get("grounding"):
        parts.append(_verdicts_html(ans["grounding"]))
    if ans["citations"]:
        parts.append('<div class="ipqa-sources">')
        for c in ans["citations"]:
            parts.append(
                f'<div class="ipqa-card" id="ipqa-t{n}-s{c["marker"]}"><h4>[{c["marker"]}] {_e(place(c))}</h4>'
                f"{_passage_html(c['passage'], c['quote'])}</div>"
            )
        parts.append("</div>")
    parts.append(
        f'<div class="ipqa-actions"><button class="ipqa-copy" data-source="ipqa-md-{n}">Copy as Markdown</button>'
        f'<textarea id="ipqa-md-{n}" hidden readonly>{_e(to_markdown(turn))}</textarea></div>'
    )
    parts.append("</div></div>")
    return "".join(parts)


def _verdicts_html(verdicts: list[dict[str, Any]]) -> str:
    """The verifier's view: every sentence the model wrote, kept (✓) or removed (✗) and why."""
    removed = sum(not v["supported"] for v in verdicts)
    items = "".join(
        f'<li class="{"ipqa-kept" if v["supported"] else "ipqa-removed"}">{"✓" if v["supported"] else "✗"} '
        f"{_e(v['sentence'])}{'' if v['supported'] else ' — ' + _e('; '.join(v['reasons']))}</li>"
        for v in verdicts
    )
    return (
        f'<details class="ipqa-verdicts"><summary>Checked {len(verdicts)} sentence'
        f"{'s' if len(verdicts) != 1 else ''} against the report: {removed} removed</summary><ul>{items}</ul></details>"
    )


def render_start(documents: list[dict[str, Any]]) -> str:
    """The start screen: what ipqa can answer from, document by document, with its sections."""
    docs = []
    for d in documents:
        meta = d["doc"] + (f", {d['pages']} pages" if d.get("pages") else "")
        items = "".join(f"<li>{_e(s)}</li>" for s in d["sections"])
        docs.append(
            f'<details class="ipqa-doc" open><summary>{_e(d["title"])} '
            f'<span class="ipqa-docmeta">({_e(meta)})</span></summary>'
            f"<ul class='ipqa-sections'>{items}</ul></details>"
        )
    n = len(documents)
    return (
        '<div class="ipqa-intro"><h2>Ask the documents</h2>'
        "<p>ipqa answers from the documents below. Every claim comes with the exact sentence it rests "
        "on and where it stands; when the documents do not say, ipqa tells you so instead of guessing. "
        "Try an example below or ask your own question"
        + (" — and pick documents to ask only those." if n > 1 else ".")
        + f" Questions are understood in {UNDERSTOOD}; answers quote the documents' own words."
        + f"</p><p><b>{n} document{'s' if n != 1 else ''}</b></p>{''.join(docs)}</div>"
    )


def document_list(engine: Engine) -> list[dict[str, Any]]:
    """Each indexed document with its title, pages and the headings of its top two levels."""
    return [
        {
            "doc": d.doc,
            "title": d.title or d.doc,
            "pages": len(d.pages),
            "sections": [s.label for s in d.sections if s.level <= 2],
        }
        for d in engine.documents()
    ]


def render_chat(turns: list[dict[str, Any]], documents: list[dict[str, Any]]) -> str:
    if not turns:
        return render_start(documents)
    return "".join(render_turn(t, i + 1) for i, t in enumerate(turns))


# ---------------------------------------------------------------- behaviour (chat state only)


def resolve(question: str, turns: list[dict[str, Any]], engine: Engine | None = None) -> tuple[str, str]:
    """(what the person typed, the standalone question to search) for one chat turn."""
    previous = next((t["searched"] for t in reversed(turns) if not t.get("error")), None)
    shown = " ".join((question or "").split())
    find = engine.gazetteer.places if engine is not None else None
    return shown, (rewrite_followup(previous, shown, find) if shown else shown)


def answer_turn(
    engine: Engine, question: str, turns: list[dict[str, Any]], docs: list[str] | None = None
) -> dict[str, Any]:
    """One chat turn: resolve a follow-up against the last searched question, then ask()."""
    final: dict[str, Any] = {}
    for final in stream_turn(engine, question, turns, docs):  # noqa: B007 - the last event is the turn
        pass
    return final


def stream_turn(
    engine: Engine, question: str, turns: list[dict[str, Any]], docs: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Turn states: drafts while an LLM writes (if one is configured), then the verified turn."""
    shown, searched = resolve(question, turns, engine)
    try:
        draft = ""
        for event in engine.ask_stream(searched, docs=engine.resolve_docs(docs)):
            if isinstance(event, str):
                draft += event
                yield {"question": shown, "searched": searched, "draft": draft}
            else:
                shown_q = event.question if searched == shown else shown
                yield {"question": shown_q, "searched": event.question, "answer": event.to_json()}
    except InputError as exc:
        yield {"question": shown[:200] or "(empty)", "error": f"Please rephrase: {exc}."}


def with_llm(engine: Engine, llm: Any) -> Engine:
    """The engine asking through `llm` instead (None: extractive answers only). A shallow copy:
    index, encoders and models are shared, only the language-model client differs."""
    view = copy.copy(engine)
    view.llm = llm
    return view


class LLMSlots:
    """At most `n` language-model replies at once in this process (UI and API together)."""

    def __init__(self, n: int, wait: float) -> None:
        self._slots = threading.BoundedSemaphore(n)
        self._wait = wait

    def client(self, llm: Any, wait: bool) -> _SlotClient:
        """`llm` behind the slots: waiting up to the model's own deadline for one, or not at all
        (then LLMError, and the engine gives the extractive answer with a note saying why)."""
        return _SlotClient(llm, self._slots, self._wait if wait else 0.0)


class _SlotClient:
    def __init__(self, llm: Any, slots: threading.BoundedSemaphore, wait: float) -> None:
        self._llm, self._slots, self._wait_s = llm, slots, wait
        self.url = llm.url

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        if self._wait_s > 0:
            got = self._slots.acquire(timeout=self._wait_s)
        else:
            got = self._slots.acquire(blocking=False)
        if not got:
            raise LLMError("it is busy with other questions")
        try:
            yield from self._llm.stream(messages)
        finally:
            self._slots.release()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._llm, name)


def api_problem(question: Any, previous: Any, docs: Any) -> str | None:
    """Why an API call's arguments are unusable (JSON can carry any type), or None."""
    if question is not None and not isinstance(question, str):
        return "question must be text"
    if previous is not None and not isinstance(previous, str):
        return "previous must be text (the 'searched' question of the last answer, or empty)"
    if not (
        docs is None
        or isinstance(docs, str)
        or (isinstance(docs, list) and all(isinstance(d, str) for d in docs))
    ):
        return "docs must be a list of document names"
    return None


class _Blocks(gr.Blocks):
    """gr.Blocks whose gr.api endpoints accept positional calls that leave out trailing parameters
    with defaults. Gradio fills them for /gradio_api/call/v2 and gradio_client, but a positional
    POST /gradio_api/call/ask {"data": ["q"]} failed its input count check, and with show_error
    off the caller saw only {"error": null}."""

    async def preprocess_data(self, block_fn, inputs, state, explicit_call=False):  # type: ignore[override]
        wanted = block_fn.inputs
        if len(inputs) < len(wanted) and wanted and all(isinstance(b, Api) for b in wanted):
            inputs = [*inputs, *(b.value for b in wanted[len(inputs) :])]
        return await super().preprocess_data(block_fn, inputs, state, explicit_call)


def build_app(engine: Engine) -> gr.Blocks:
    """The page and the public API. Answers run in Gradio's queue in three concurrency groups, so
    that slow language-model replies never hold the slots extractive answers need:

    * "answer" (ui_concurrency at once): a chat question's retrieval and extractive answer or
      refusal. A question that goes to the language model is handed on through `pending`;
    * "llm" (ui_concurrency at once): the language model's reply for such a question, streamed;
    * "api" (/ask): the same, for programs, in one call. Its model replies take free LLM slots
      only (none free: the extractive answer, with a note), so at least ui_concurrency API calls
      can always answer extractively."""
    live = {"engine": engine}  # replaced when a document is added and the index rebuilt
    settings = engine.settings
    slots = LLMSlots(settings.ui_concurrency, wait=settings.llm_timeout)
    llm_limit = settings.ui_concurrency if engine.llm is not None else 0

    def documents() -> list[dict[str, Any]]:
        return document_list(live["engine"])

    def choices() -> list[tuple[str, str]]:
        return [(d["title"], d["doc"]) for d in documents()]

    def respond(question: str, turns: list[dict[str, Any]], docs: list[str] | None = None):
        """A chat question, first step ("answer" group): the extractive answer or refusal, or — when
        a language model is configured and the documents cover the question — a placeholder and
        a job in `pending` for `draft` (whose own group waits for the model)."""
        docs_ = documents()
        current = live["engine"]
        quick = current if current.llm is None else with_llm(current, None)
        turn = answer_turn(quick, question, turns, docs or None)
        if current.llm is None or turn.get("error") or turn["answer"]["refused"]:
            shown = [*turns, turn][-MAX_TURNS:]
            return render_chat(shown, docs_), shown, "", gr.skip()
        waiting = {"question": turn["question"], "searched": turn["searched"], "draft": ""}
        job = {"id": uuid.uuid4().hex, "question": question, "docs": docs or None}
        return render_chat([*turns, waiting][-MAX_TURNS:], docs_), turns, "", job

    def draft(job: dict[str, Any] | None, turns: list[dict[str, Any]]):
        """Second step ("llm" group): the model's words as they arrive, then the verified turn."""
        current = live["engine"]
        if not job or current.llm is None:
            yield gr.skip(), gr.skip()
            return
        docs_ = documents()
        asking = with_llm(current, slots.client(current.llm, wait=True))
        for turn in stream_turn(asking, job["question"], turns, job["docs"]):
            shown = [*turns, turn][-MAX_TURNS:]
            if "draft" in turn:  # the model's words as they arrive, not yet verified
                yield render_chat(shown, docs_), turns
            else:
                yield render_chat(shown, docs_), shown

    def clear():
        return render_start(documents()), [], ""

    def upload(path: str | None, turns: list[dict[str, Any]], progress=gr.Progress(track_tqdm=True)):  # noqa: B008
        """Store the uploaded file under corpus/ (never run, checked by content), then rebuild."""
        if not path:
            return gr.update(), gr.update(), "Choose a file first."
        name = os.path.basename(path)
        try:
            if os.path.getsize(path) > settings.max_upload_mb * 1_000_000:
                raise IpqaError(f"{name}: larger than {settings.max_upload_mb} MB")
            with open(path, "rb") as fh:
                data = fh.read()
            progress(0.05, desc="checking the file")
            target = add_bytes(name, data, settings.corpus_dir)
            if target is None:
                return gr.update(), gr.update(), f"{name} is already in the library."
            log: list[str] = []
            progress(0.2, desc="reading and embedding")
            build(settings, log.append, progress=True)  # its bars show in the page
            live["engine"] = reload_engine(settings)
        except IpqaError as exc:
            return gr.update(), gr.update(), f"Not added: {exc}"
        summary = next((line.strip() for line in log if target.name in line), f"{target.name} added")
        chat_html = render_chat(turns, documents())
        return chat_html, gr.update(choices=choices()), f"Added. {summary}"

    def api_ask(question: str, previous: str = "", docs: list[str] | None = None) -> dict[str, Any]:
        """The same turn logic for programs: the answer JSON plus the standalone question searched."""
        problem = api_problem(question, previous, docs)
        if problem:
            return {"error": problem, "refused": True}
        turns = [{"searched": previous}] if previous else []
        current = live["engine"]
        if current.llm is not None:
            current = with_llm(current, slots.client(current.llm, wait=False))
        turn = answer_turn(current, question, turns, [docs] if isinstance(docs, str) else docs)
        if turn.get("error"):
            return {"error": turn["error"], "refused": True}
        return {**turn["answer"], "searched": turn["searched"]}

    with _Blocks(title="ipqa — ask your documents") as demo:
        turns = gr.State([])
        pending = gr.State(None)  # a question waiting for the language model (see `respond`)
        gr.Markdown("### ipqa · answers with the documents' own sentences, cited")
        chat = gr.HTML(render_start(documents()), elem_id="ipqa-chat", js_on_load=CHAT_JS)
        with gr.Row(equal_height=True):
            box = gr.Textbox(
                placeholder="Ask about the documents, e.g. How does Japan protect trade secrets?",
                show_label=False,
                max_length=settings.max_question_chars,
                scale=6,
                elem_id="ipqa-question",
                autofocus=True,
            )
            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ipqa-send")
        picker = gr.Dropdown(
            choices=choices(),
            value=[],
            multiselect=True,
            label="Ask only these documents (empty: all)",
            elem_id="ipqa-docs",
        )
        gr.Markdown("**Examples** — one click asks them:")
        with gr.Row(elem_id="ipqa-examples"):
            buttons = [gr.Button(q, size="sm", elem_classes="ipqa-example") for q in EXAMPLES]
        new = gr.Button("New conversation", size="sm", variant="secondary", elem_id="ipqa-clear")
        if settings.ui_uploads:
            with gr.Accordion("Add a document (PDF, Word, web page, Markdown, text)", open=False):
                file = gr.File(
                    label=f"Up to {settings.max_upload_mb} MB; stored in the corpus folder",
                    file_types=list(SUPPORTED_SUFFIXES),
                    type="filepath",
                    elem_id="ipqa-upload",
                )
                add = gr.Button("Add to the library", elem_id="ipqa-add")
                status = gr.Markdown(elem_id="ipqa-upload-status")
            add.click(upload, [file, turns], [chat, picker, status], api_visibility="private")

        answer = {
            "api_visibility": "private",
            "concurrency_id": "answer",
            "concurrency_limit": settings.ui_concurrency,
        }
        box.submit(respond, [box, turns, picker], [chat, turns, box, pending], **answer)
        send.click(respond, [box, turns, picker], [chat, turns, box, pending], **answer)
        for b, q in zip(buttons, EXAMPLES, strict=True):
            b.click(
                lambda t, d, q=q: respond(q, t, d), [turns, picker], [chat, turns, box, pending], **answer
            )
        pending.change(
            draft,
            [pending, turns],
            [chat, turns],
            api_visibility="private",
            concurrency_id="llm",
            concurrency_limit=max(1, llm_limit),
        )
        new.click(clear, None, [chat, turns, box], api_visibility="private")
        gr.api(
            api_ask,
            api_name="ask",
            concurrency_id="api",
            concurrency_limit=settings.ui_concurrency + llm_limit,
        )
    return demo


def serve(demo: gr.Blocks, settings: Settings, allow_hosts: list[str]) -> None:
    """Serve the app with uvicorn behind `WebGuard` (see ipqa/webguard.py): only this server's host
    names, no cross-origin POSTs, request bodies capped (uploads at max_upload_mb), and no upload
    route at all when uploads are off (nor the startup route: a second call would start a second
    queue loop). Gradio is mounted on a bare FastAPI app (its documented way to run inside another
    ASGI app), so the guard is outermost, in front of Gradio's CORS."""
    import uvicorn
    from fastapi import FastAPI

    max_file = settings.max_upload_mb * 1_000_000  # MB as ui.py counts them (Gradio's "mb" is MiB)
    app = gr.mount_gradio_app(
        FastAPI(openapi_url=None, docs_url=None, redoc_url=None),
        demo,
        path="/",
        server_name=settings.host,
        server_port=settings.port,
        footer_links=[],
        css=CSS,
        max_file_size=max_file,
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
    )
    guarded = WebGuard(
        app,
        HostPolicy.for_server(settings.host, settings.port, allow_hosts),
        max_body=MAX_REQUEST_BYTES,
        body_limits={UPLOAD_ROUTE: max_file + MULTIPART_SLACK},
        length_required=(UPLOAD_ROUTE,),
        closed=(STARTUP_ROUTE,) if settings.ui_uploads else (STARTUP_ROUTE, UPLOAD_ROUTE),
    )
    uvicorn.run(
        guarded,
        host=settings.host.strip("[]"),
        port=settings.port,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="ipqa chat UI")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1; env IPQA_HOST)")
    p.add_argument("--port", type=int, help="port (default 7860; env IPQA_PORT)")
    p.add_argument("--llm-url", help="OpenAI-compatible API base of a local model server (env IPQA_LLM_URL)")
    p.add_argument("--llm-model", help="model name on that server (env IPQA_LLM_MODEL)")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another host name browsers may use to reach the UI (repeatable; NAME:PORT for a name a "
        "proxy serves on another port); loopback names and --host are always allowed, other Host "
        "headers are refused",
    )
    args = p.parse_args(argv)
    for name in args.allow_host:
        if split_hostport(host_name(name)) is None:
            p.error(f"--allow-host: not a host name: {name!r}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        settings = Settings.load(
            host=args.host, port=args.port, llm_url=args.llm_url, llm_model=args.llm_model
        )
        engine = get_engine(settings)  # model and index load once, here
    except IpqaError as exc:
        print(f"ipqa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    demo = build_app(engine)
    demo.max_threads = 4 * settings.ui_concurrency + 4  # the groups of build_app, plus uploads and clears
    demo.queue(max_size=settings.ui_queue_size, default_concurrency_limit=settings.ui_concurrency)
    print(f"ipqa UI: http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    serve(demo, settings, args.allow_host)
    return 0


if __name__ == "__main__":
    sys.exit(main())

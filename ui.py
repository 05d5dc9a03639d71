"""ipqa chat UI for non-specialists (Gradio). Start: `.venv/bin/python ui.py` → http://127.0.0.1:7860

This file only presents: it calls the same `ask()` as the CLI (through one shared engine, loaded
once at start-up), keeps the chat history, and turns answers into HTML. All text from questions,
answers and the report is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
from collections.abc import Iterator
from typing import Any

import gradio as gr

from ipqa.engine import Engine, get_engine
from ipqa.errors import InputError, IpqaError
from ipqa.question import rewrite_followup
from ipqa.settings import Settings

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

CSS = """
#ipqa-chat {font-size: 15px; line-height: 1.5}
.ipqa-intro h2 {margin: 0 0 .3em}
.ipqa-sections {columns: 2; column-gap: 2em; margin: .5em 0 0; padding-left: 1.2em; font-size: 13px}
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
                f"[{c['marker']}] {c['section']} — “{c['quote']}” ({c['doc']}, chars {c['start']}–{c['end']})"
            )
    return "\n".join(lines)


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
            '<div class="ipqa-a ipqa-refusal"><div class="ipqa-badge">Not covered by the report</div>'
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
                f'<div class="ipqa-card" id="ipqa-t{n}-s{c["marker"]}"><h4>[{c["marker"]}] {_e(c["section"])}</h4>'
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


def render_start(sections: list[str]) -> str:
    items = "".join(f"<li>{_e(s)}</li>" for s in sections)
    return (
        '<div class="ipqa-intro"><h2>Ask the Asia-Pacific digital-IP report</h2>'
        "<p>ipqa answers from one policy report on protecting digital-technology intellectual property in "
        "Japan, South Korea, Singapore, mainland China and Taiwan, and on regional cooperation. Every "
        "claim comes with the exact sentence of the report it rests on; when the report does not say, "
        "ipqa tells you so instead of guessing. Try an example below or ask your own question.</p>"
        f"<p><b>What the report covers</b></p><ul class='ipqa-sections'>{items}</ul></div>"
    )


def render_chat(turns: list[dict[str, Any]], sections: list[str]) -> str:
    if not turns:
        return render_start(sections)
    return "".join(render_turn(t, i + 1) for i, t in enumerate(turns))


# ---------------------------------------------------------------- behaviour (chat state only)


def resolve(question: str, turns: list[dict[str, Any]], engine: Engine | None = None) -> tuple[str, str]:
    """(what the person typed, the standalone question to search) for one chat turn."""
    previous = next((t["searched"] for t in reversed(turns) if not t.get("error")), None)
    shown = " ".join((question or "").split())
    find = engine.gazetteer.places if engine is not None else None
    return shown, (rewrite_followup(previous, shown, find) if shown else shown)


def answer_turn(engine: Engine, question: str, turns: list[dict[str, Any]]) -> dict[str, Any]:
    """One chat turn: resolve a follow-up against the last searched question, then ask()."""
    final: dict[str, Any] = {}
    for final in stream_turn(engine, question, turns):  # noqa: B007 - the last event is the turn
        pass
    return final


def stream_turn(engine: Engine, question: str, turns: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Turn states: drafts while an LLM writes (if one is configured), then the verified turn."""
    shown, searched = resolve(question, turns, engine)
    try:
        draft = ""
        for event in engine.ask_stream(searched):
            if isinstance(event, str):
                draft += event
                yield {"question": shown, "searched": searched, "draft": draft}
            else:
                shown_q = event.question if searched == shown else shown
                yield {"question": shown_q, "searched": event.question, "answer": event.to_json()}
    except InputError as exc:
        yield {"question": shown[:200] or "(empty)", "error": f"Please rephrase: {exc}."}


def build_app(engine: Engine) -> gr.Blocks:
    sections = list(dict.fromkeys(c.section for c in engine.index.chunks))

    def respond(question: str, turns: list[dict[str, Any]]):
        for turn in stream_turn(engine, question, turns):
            shown = [*turns, turn][-MAX_TURNS:]
            if "draft" in turn:  # the model's words as they arrive, not yet verified
                yield render_chat(shown, sections), turns, ""
            else:
                yield render_chat(shown, sections), shown, ""

    def clear():
        return render_start(sections), [], ""

    def api_ask(question: str, previous: str = "") -> dict[str, Any]:
        """The same turn logic for programs: the answer JSON plus the standalone question searched."""
        turns = [{"searched": previous}] if previous else []
        turn = answer_turn(engine, question, turns)
        if turn.get("error"):
            return {"error": turn["error"], "refused": True}
        return {**turn["answer"], "searched": turn["searched"]}

    with gr.Blocks(title="ipqa — Asia-Pacific digital IP report") as demo:
        turns = gr.State([])
        gr.Markdown("### ipqa · Asia-Pacific digital-IP report — answers with the report's own sentences")
        chat = gr.HTML(render_start(sections), elem_id="ipqa-chat", js_on_load=CHAT_JS)
        with gr.Row(equal_height=True):
            box = gr.Textbox(
                placeholder="Ask about the report, e.g. How does Japan protect trade secrets?",
                show_label=False,
                max_length=engine.settings.max_question_chars,
                scale=6,
                elem_id="ipqa-question",
                autofocus=True,
            )
            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ipqa-send")
        gr.Markdown("**Examples** — one click asks them:")
        with gr.Row(elem_id="ipqa-examples"):
            buttons = [gr.Button(q, size="sm", elem_classes="ipqa-example") for q in EXAMPLES]
        new = gr.Button("New conversation", size="sm", variant="secondary", elem_id="ipqa-clear")

        box.submit(respond, [box, turns], [chat, turns, box], api_visibility="private")
        send.click(respond, [box, turns], [chat, turns, box], api_visibility="private")
        for b, q in zip(buttons, EXAMPLES, strict=True):
            b.click(
                lambda t, q=q: (yield from respond(q, t)),
                [turns],
                [chat, turns, box],
                api_visibility="private",
            )
        new.click(clear, None, [chat, turns, box], api_visibility="private")
        gr.api(api_ask, api_name="ask")
    return demo


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="ipqa chat UI")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1; env IPQA_HOST)")
    p.add_argument("--port", type=int, help="port (default 7860; env IPQA_PORT)")
    p.add_argument("--llm-url", help="OpenAI-compatible API base of a local model server (env IPQA_LLM_URL)")
    p.add_argument("--llm-model", help="model name on that server (env IPQA_LLM_MODEL)")
    args = p.parse_args(argv)
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
    demo.queue(max_size=settings.ui_queue_size, default_concurrency_limit=settings.ui_concurrency)
    print(f"ipqa UI: http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    demo.launch(
        server_name=settings.host,
        server_port=settings.port,
        share=False,
        css=CSS,
        footer_links=[],
        max_threads=8,
        quiet=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

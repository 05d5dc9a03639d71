"""ipqa chat UI for non-specialists (Gradio). Start: `.venv/bin/python ui.py` → http://127.0.0.1:7860

Why one long file: the page (its HTML, CSS and browser script) and the Gradio wiring that
fills it change together; the answer logic is not here.

This file only presents: it calls the same `ask()` as the CLI (through one shared engine, loaded
once at start-up), keeps the chat history, and turns answers into HTML. All text from questions,
answers and the report is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import html
import json
import os
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import gradio as gr
from gradio.components.api_component import Api

from ipqa import feedback
from ipqa.building import build, ensure_index, serving_generation
from ipqa.contract import Citation
from ipqa.conversation import Turn, resolve, stream_in_conversation
from ipqa.corpus import OPENING_LABEL
from ipqa.documents import add_bytes
from ipqa.embedding import offline_environment
from ipqa.engine import Engine, get_engine, reload_engine
from ipqa.errors import InputError, IpqaError
from ipqa.formats import SUPPORTED_SUFFIXES
from ipqa.language import UNDERSTOOD
from ipqa.llm import LLMError
from ipqa.settings import Settings
from ipqa.webguard import HostPolicy, WebGuard, host_name, split_hostport

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
.ipqa-docmeta {font-weight: 400; color: #555; font-size: 12px}
.ipqa-link {background: none; border: 0; padding: 0; color: #1f5fbf; cursor: pointer; font: inherit;
            text-align: left; text-decoration: underline; text-underline-offset: 2px}
.ipqa-convbar {display: flex; justify-content: flex-end; margin: 0 0 .6em}
.ipqa-turn {margin: 0 0 1.2em; scroll-margin-top: 12px}
.ipqa-q {background: var(--color-accent-soft, #eef3ff); color: #1a1a1a; border-radius: 10px;
         padding: .5em .8em; margin: 0 0 .4em auto; max-width: 85%; width: fit-content}
.ipqa-searched {font-size: 12px; color: #555; margin: 0 0 .3em}
.ipqa-a {border-left: 4px solid #3b7dd8; padding: .4em .8em; background: #fafbfd; color: #1a1a1a}
.ipqa-a:focus {outline: 3px solid #1f5fbf; outline-offset: 2px}
.ipqa-refusal {border-left-color: #d8833b; background: #fff8f0}
.ipqa-error {border-left-color: #c0392b; background: #fff3f2}
.ipqa-badge {font-size: 12px; font-weight: 600; color: #8a4510; margin-bottom: .2em}
.ipqa-marker {font: inherit; font-weight: 600; color: #1f5fbf; cursor: pointer; background: none;
              border: 0; padding: 0 1px; margin: 0}
.ipqa-marker:hover, .ipqa-marker:focus-visible {text-decoration: underline}
.ipqa-note {font-size: 12px; color: #555; margin-top: .3em}
.ipqa-closest {margin-top: .3em}
.ipqa-chip {display: inline-block; border: 1px solid #d9a878; border-radius: 12px; background: white;
            color: #6b3a0c; padding: 0 .6em; margin: .2em .3em 0 0; font-size: 12px; cursor: pointer}
.ipqa-sources {margin-top: .5em; display: grid; gap: .5em}
.ipqa-card {border: 1px solid #dde3ee; border-radius: 8px; padding: .5em .7em; font-size: 13px;
            background: white; color: #1a1a1a; transition: box-shadow .3s}
.ipqa-card.ipqa-flash {box-shadow: 0 0 0 3px #3b7dd8}
.ipqa-card h4 {margin: 0 0 .3em; font-size: 13px}
.ipqa-card mark {background: #fff0a8; color: #1a1a1a; padding: 0 1px}
.ipqa-quote {margin: 0 0 .3em}
.ipqa-hl {background: #fff6c8; font-weight: 600}
.ipqa-card details summary {cursor: pointer; color: #1f5fbf; font-size: 12px}
.ipqa-offsets {font-size: 11px; color: #555}
.ipqa-cardbar {display: flex; gap: .8em; margin-top: .3em; font-size: 12px; flex-wrap: wrap}
.ipqa-actions {margin-top: .4em; display: flex; gap: .4em; flex-wrap: wrap; align-items: center}
.ipqa-draft {border-left-color: #999; color: #444; font-style: italic}
.ipqa-verdicts {font-size: 12px; margin-top: .4em}
.ipqa-verdicts ul {margin: .3em 0; padding-left: 1.2em; list-style: none}
.ipqa-removed {color: #a33; text-decoration: line-through}
.ipqa-kept {color: #2a6b2a}
.ipqa-copy, .ipqa-fb, .ipqa-export {font-size: 12px; border: 1px solid #99a; border-radius: 6px;
            background: white; color: #1a1a1a; padding: .1em .6em; cursor: pointer}
.ipqa-fb[aria-pressed="true"] {background: #e6efff; border-color: #1f5fbf}
.ipqa-fb-status {font-size: 12px; color: #2a6b2a}
.ipqa-next {margin-top: .5em; font-size: 13px}
.ipqa-next ul {list-style: none; padding: 0; margin: .2em 0 0; display: flex; flex-wrap: wrap; gap: .3em}
.ipqa-suggest {border: 1px solid #b8c6e0; border-radius: 14px; background: white; color: #1f4f9a;
               padding: .15em .7em; cursor: pointer; font-size: 13px; font-weight: 400; text-align: left}
.ipqa-pending .ipqa-a {color: #444}
.ipqa-spinner {display: inline-block; width: .8em; height: .8em; border: 2px solid #9ab;
               border-top-color: #1f5fbf; border-radius: 50%; animation: ipqa-spin 1s linear infinite;
               margin-right: .4em; vertical-align: -1px}
@keyframes ipqa-spin {to {transform: rotate(360deg)}}
#ipqa-ask {position: sticky; bottom: 0; z-index: 20; background: var(--body-background-fill, white);
           padding: .4em 0; box-shadow: 0 -6px 8px -6px rgba(0,0,0,.15)}
#ipqa-send, #ipqa-send:hover {background: #1d4ed8 !important; color: #fff !important;
                              border-color: #1d4ed8 !important}
#ipqa-clear {border: 1px solid #1d4ed8}
.ipqa-sr {position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
          white-space: nowrap}
.ipqa-skip {position: absolute; left: -9999px}
.ipqa-skip:focus {position: static; display: inline-block; padding: .3em .6em; background: #1d4ed8;
                  color: #fff; border-radius: 6px}
#ipqa-viewer {position: fixed; top: 0; right: 0; bottom: 0; width: min(600px, 100vw); z-index: 1000;
              background: white; color: #1a1a1a; box-shadow: -4px 0 16px rgba(0,0,0,.2);
              display: flex; flex-direction: column; font-size: 14px}
#ipqa-viewer[hidden] {display: none}
.ipqa-vtop {display: flex; align-items: flex-start; gap: .5em; padding: .6em .8em; border-bottom: 1px solid #dde3ee}
.ipqa-vtop h2 {font-size: 16px; margin: 0; flex: 1}
.ipqa-vclose {font-size: 14px; border: 1px solid #99a; border-radius: 6px; background: white; color: #1a1a1a;
              cursor: pointer; padding: .1em .6em}
.ipqa-vcontent {overflow-y: auto; padding: .6em .8em 2em; flex: 1}
.ipqa-vnav ol {padding-left: 1.2em; margin: .3em 0; font-size: 13px}
.ipqa-vnav [aria-current="true"] {font-weight: 700}
.ipqa-vsection h3 {font-size: 15px; margin: .6em 0 .3em}
.ipqa-vbody {white-space: pre-wrap; overflow-wrap: anywhere}
.ipqa-vbody mark {background: #ffe066; color: #1a1a1a}
.ipqa-vpager {display: flex; justify-content: space-between; gap: 1em; margin-top: 1em; font-size: 13px}
#ipqa-after-box {min-height: 0; margin: 0; padding: 0}
.gradio-container {overflow: clip !important}  /* clips like hidden, but keeps the question box sticky */
.ipqa-link.ipqa-fb {border: 0; background: none; color: #1f5fbf; padding: 0}
@media (max-width: 640px) {
  .ipqa-sections {columns: 1}
  .ipqa-q {max-width: 100%}
}
"""

# Page behaviour, attached once to the document (delegated, so re-rendered chat HTML needs nothing):
# markers and "open" buttons open the document viewer (fed by the /document endpoint), "Copy" and
# "Export" hand out Markdown, feedback goes to /feedback, a question shows at once with a loading
# state, a new answer is scrolled to and announced in the live region.
CHAT_JS = """
if (!window.__ipqa) {
  window.__ipqa = true;
  const chat = element;
  let expecting = false, opener = null;
  const url = (p) => new URL(p, document.baseURI).toString();
  async function call(name, data) {
    const r = await fetch(url('gradio_api/call/' + name), {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({data})});
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const {event_id} = await r.json();
    const s = await fetch(url('gradio_api/call/' + name + '/' + event_id));
    const text = await s.text();
    const m = text.match(/event: complete\\r?\\ndata: (.*)/);
    if (!m) throw new Error('no answer');
    return JSON.parse(m[1])[0];
  }
  const viewer = document.createElement('aside');
  viewer.id = 'ipqa-viewer'; viewer.hidden = true; viewer.tabIndex = -1;
  viewer.setAttribute('aria-labelledby', 'ipqa-viewer-title');
  viewer.innerHTML = '<div class="ipqa-vtop"><h2 id="ipqa-viewer-title">Document</h2>' +
    '<button type="button" class="ipqa-vclose">Close</button></div>' +
    '<div class="ipqa-vcontent" aria-live="polite"></div>';
  document.body.appendChild(viewer);
  const content = viewer.querySelector('.ipqa-vcontent');
  async function openDoc(doc, start, end, from) {
    if (from && !viewer.contains(from)) opener = from;
    viewer.hidden = false;
    content.setAttribute('aria-busy', 'true');
    try {
      const r = await call('document', [doc, Number(start) || 0, Number(end) || 0]);
      if (r.error) { content.textContent = r.error; return; }
      viewer.querySelector('#ipqa-viewer-title').textContent = r.title;
      content.innerHTML = r.html;  // escaped by the server (render_document)
      const hit = content.querySelector('#ipqa-viewer-hit') || content.querySelector('.ipqa-vsection h3');
      if (hit) hit.scrollIntoView({block: 'center'});
      viewer.focus({preventScroll: true});
    } catch (e) {
      content.textContent = 'The document could not be opened: ' + e.message;
    } finally { content.removeAttribute('aria-busy'); }
  }
  function closeViewer() {
    viewer.hidden = true;
    if (opener && document.contains(opener)) opener.focus();
  }
  function latestAnswer() {
    const all = chat.querySelectorAll('.ipqa-log .ipqa-turn .ipqa-a');
    return all.length ? all[all.length - 1] : null;
  }
  function showPending(question) {
    const q = (question || '').trim();
    if (!q) return;
    const log = chat.querySelector('.ipqa-log');
    if (!log) return;
    chat.querySelectorAll('.ipqa-pending').forEach((n) => n.remove());
    base = signature();
    const turn = document.createElement('div');
    turn.className = 'ipqa-turn ipqa-pending';
    turn.setAttribute('aria-busy', 'true');
    const qd = document.createElement('div'); qd.className = 'ipqa-q'; qd.textContent = q;
    const ad = document.createElement('div'); ad.className = 'ipqa-a';
    ad.innerHTML = '<span class="ipqa-spinner" aria-hidden="true"></span>Looking through the documents…';
    turn.append(qd, ad);
    log.parentNode.insertBefore(turn, log.nextSibling);
    expecting = true;
    turn.scrollIntoView({block: 'center'});
    document.getElementById('ipqa-live').textContent = 'Looking through the documents…';
  }
  function ask(question) {
    const box = document.querySelector('#ipqa-question textarea');
    box.value = question;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => document.getElementById('ipqa-send').click(), 50);
  }
  // Gradio patches the chat's HTML in place, so a new answer is recognised by what the last turn says.
  function signature() {
    const turns = chat.querySelectorAll('.ipqa-turn[data-turn]');
    const last = turns[turns.length - 1];
    return turns.length + '|' + (last ? last.textContent : '');
  }
  let base = null, drafting = false;
  new MutationObserver(() => {
    if (!expecting) return;
    const sig = signature();
    if (sig === base) return;
    base = sig;
    chat.querySelectorAll('.ipqa-pending').forEach((n) => n.remove());
    const turns = chat.querySelectorAll('.ipqa-turn[data-turn]');
    const last = turns[turns.length - 1];
    if (!last) return;
    if (last.querySelector('.ipqa-draft')) {
      if (!drafting) last.scrollIntoView({block: 'start'});
      drafting = true;
      return;
    }
    expecting = false; drafting = false;
    last.scrollIntoView({block: 'start'});
    const a = last.querySelector('.ipqa-a');
    const badge = a.querySelector('.ipqa-badge');
    const text = a.querySelector('.ipqa-text');
    document.getElementById('ipqa-live').textContent = 'New answer. ' +
      (badge ? badge.textContent + '. ' : '') + (text ? text.textContent : a.textContent).slice(0, 300);
  }).observe(chat, {childList: true, subtree: true, characterData: true});
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !viewer.hidden) { closeViewer(); return; }
    if (ev.key === 'Enter' && !ev.shiftKey && ev.target.matches && ev.target.matches('#ipqa-question textarea')) {
      showPending(ev.target.value);
    }
  }, true);
  document.addEventListener('click', async (ev) => {
    const t = ev.target;
    if (t.closest('#ipqa-send')) { showPending(document.querySelector('#ipqa-question textarea').value); return; }
    const example = t.closest('.ipqa-example');
    if (example) { showPending(example.textContent); return; }
    if (t.closest('.ipqa-vclose')) { closeViewer(); return; }
    const skip = t.closest('.ipqa-skip');
    if (skip) {
      ev.preventDefault();
      const a = latestAnswer();
      if (a) { a.setAttribute('tabindex', '-1'); a.scrollIntoView({block: 'start'}); a.focus(); }
      return;
    }
    const open = t.closest('.ipqa-marker, .ipqa-open, .ipqa-nav');
    if (open) {
      ev.preventDefault();
      if (open.classList.contains('ipqa-marker')) {
        const card = chat.querySelector('#' + open.dataset.target);
        if (card) {
          card.classList.add('ipqa-flash');
          setTimeout(() => card.classList.remove('ipqa-flash'), 1600);
        }
      }
      if (open.dataset.doc) openDoc(open.dataset.doc, open.dataset.start, open.dataset.end, open);
      return;
    }
    const suggest = t.closest('.ipqa-suggest');
    if (suggest) { ask(suggest.textContent); return; }
    const copy = t.closest('.ipqa-copy');
    if (copy) {
      const area = chat.querySelector('#' + copy.dataset.source);
      try { await navigator.clipboard.writeText(area.value); }
      catch (e) { area.hidden = false; area.select(); document.execCommand('copy'); area.hidden = true; }
      copy.textContent = 'Copied';
      setTimeout(() => { copy.textContent = 'Copy as Markdown'; }, 1500);
      return;
    }
    const exp = t.closest('.ipqa-export');
    if (exp) {
      const md = chat.querySelector('#ipqa-md-all').value;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([md], {type: 'text/markdown'}));
      a.download = 'ipqa-conversation-' + new Date().toISOString().slice(0, 10) + '.md';
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 5000);
      return;
    }
    const fb = t.closest('.ipqa-fb');
    if (fb) {
      const turn = fb.closest('.ipqa-turn');
      const status = turn.querySelector('.ipqa-fb-status');
      const entry = JSON.parse(turn.querySelector('.ipqa-actions').dataset.feedback);
      entry.rating = fb.dataset.rating;
      if (fb.dataset.marker) entry.marker = Number(fb.dataset.marker);
      try {
        const r = await call('feedback', [entry]);
        if (r.error) throw new Error(r.error);
        fb.setAttribute('aria-pressed', 'true');
        status.textContent = 'Thank you — saved on this computer.';
      } catch (e) { status.textContent = 'Not saved: ' + e.message; }
    }
  });
}
"""

# After the question box: a skip link to the latest answer and the live region announcing answers.
AFTER_BOX_HTML = (
    '<a href="#" class="ipqa-skip">Skip to the latest answer</a>'
    '<div id="ipqa-live" class="ipqa-sr" role="status" aria-live="polite"></div>'
)

OPENING = "Opening section"
GENERIC_TOPICS = frozenset(
    "introduction conclusion conclusions summary abstract contents table of contents references "
    "bibliography appendix acknowledgements acknowledgments foreword preface index notes".split()
) | {"table of contents", "executive summary"}
MIN_SECTION_CHARS = 200  # sections shorter than this are headings over subsections, not topics


# ---------------------------------------------------------------- rendering (pure functions)


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def human_section(label: str) -> str:
    """A section's name as a reader wants it: 'Opening section' for the untitled opening."""
    return OPENING if label == OPENING_LABEL else label


def topic(heading: str) -> str:
    """'2.2 Trade Secret Protection Mechanisms' → 'Trade Secret Protection Mechanisms'."""
    return _NUMBERING.sub("", heading).strip() or heading.strip()


_NUMBERING = re.compile(
    r"^\s*(?:\d{1,2}(?:\.\d+)*\.?|\d+(?:\.\d+)+\.?|[IVXLCivxlc]+[.)]|[A-Za-z][.)])\s+|^\s*[IVXLC]+\."
)
_MARKERS_THEN_PUNCT = re.compile(r"((?:\s*\[\d+\])+)\s+([.,;:!?])")


def _about(d: dict[str, Any], heading: str, several: bool) -> str:
    who = d["title"] if several else "the document"
    return f"What does {who} say about {topic(heading)}?"


def _topics(d: dict[str, Any]) -> list[dict[str, Any]]:
    """A document's sections worth a question: headed, with a body, and not 'Conclusion' & co."""
    return [
        s
        for s in d["sections"]
        if s["heading"]
        and s["end"] - s["start"] >= MIN_SECTION_CHARS
        and topic(s["heading"]).casefold() not in GENERIC_TOPICS
    ]


def examples(documents: list[dict[str, Any]], n: int = 7) -> list[str]:
    """Start-screen questions drawn from the documents' own section headings, spread evenly."""
    several = len(documents) > 1
    pool = [_about(d, s["heading"], several) for d in documents for s in _topics(d)]
    pool = list(dict.fromkeys(pool))
    if len(pool) <= n:
        return pool
    return [pool[round(i * (len(pool) - 1) / (n - 1))] for i in range(n)]


def suggestions(ans: dict[str, Any], documents: list[dict[str, Any]], n: int = 3) -> list[str]:
    """Next questions: the sections beside the ones an answer cited (or, for a refusal, the
    closest sections), each as 'What does <document> say about <heading>?'."""
    several = len(documents) > 1
    by_doc = {d["doc"]: d for d in documents}
    used = {(c["doc"], c["section"]) for c in ans.get("citations", [])}
    out: list[str] = []

    def add(d: dict[str, Any], s: dict[str, Any]) -> None:
        q = _about(d, s["heading"], several)
        if (d["doc"], s["label"]) not in used and q not in out and q != ans.get("question"):
            out.append(q)

    if ans.get("refused"):
        for label in ans.get("closest_sections", []):
            found = find_section(label, documents)
            if found and found[1]["heading"] and topic(found[1]["heading"]).casefold() not in GENERIC_TOPICS:
                add(*found)
        return out[:n]
    for doc, label in dict.fromkeys((c["doc"], c["section"]) for c in ans.get("citations", [])):
        d = by_doc.get(doc)
        if d is None:
            continue
        pool = _topics(d)
        at = next((i for i, s in enumerate(pool) if s["label"] == label), None)
        if at is None:
            continue
        for j in (at + 1, at - 1, at + 2):
            if 0 <= j < len(pool):
                add(d, pool[j])
    return out[:n]


def find_section(label: str, documents: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (document, section) a closest-section label names ('Title: section' with several)."""
    for d in documents:
        for s in d["sections"]:
            if label in (s["label"], f"{d['title']}: {s['label']}"):
                return d, s
    return None


def _open_attrs(doc: str, start: int, end: int) -> str:
    return f'data-doc="{_e(doc)}" data-start="{int(start)}" data-end="{int(end)}"'


def tidy(answer: str) -> str:
    """'models [1] .' → 'models [1].': a marker never leaves its full stop floating."""
    return _MARKERS_THEN_PUNCT.sub(lambda m: f"{m.group(1)}{m.group(2)}", answer)


def _answer_html(answer: str, turn: int, citations: list[dict[str, Any]], cards: dict[int, str]) -> str:
    """Escape the answer, attach markers to their words (no floating full stop after one), and make
    each [n] a button named after its source that opens it."""
    by_marker = {c["marker"]: c for c in citations}
    text = tidy(answer)

    def button(m: re.Match[str]) -> str:
        k = int(m.group(1))
        c = by_marker.get(k)
        if c is None:
            return m.group(0)
        name = f"Source {k}: {human_section(c['section'])}"
        return (
            f'<button type="button" class="ipqa-marker" data-target="{cards.get(k, f"ipqa-t{turn}-s{k}")}" '
            f'aria-label="{_e(name)}" title="{_e(name)}" {_open_attrs(c["doc"], c["start"], c["end"])}>[{k}]</button>'
        )

    return re.sub(r"\[(\d+)\]", button, _e(text))


def _passage_html(passage: str, quotes: list[str]) -> str:
    """The passage with each quoted sentence emphasised (escaped throughout)."""
    spans = []
    for q in quotes:
        at = passage.find(q)
        if at >= 0:
            spans.append((at, at + len(q)))
    out, pos = [], 0
    for a, b in sorted(spans):
        if a < pos:
            continue
        out.append(f'{_e(passage[pos:a])}<span class="ipqa-hl">{_e(passage[a:b])}</span>')
        pos = b
    out.append(_e(passage[pos:]))
    return "".join(out)


def place(c: dict[str, Any]) -> str:
    """'Indonesia Digital IP Outlook, p. 3, 3. Enforcement': where a reader finds a quote."""
    page = f", p. {c['page']}" if c.get("page") else ""
    return f"{c.get('title') or c['doc']}{page}, {human_section(c['section'])}"


def to_markdown(turn: dict[str, Any]) -> str:
    """An answer with its sources, ready to paste into a document."""
    ans = turn["answer"]
    lines = [f"**Q:** {turn['question']}", "", tidy(ans["answer"])]
    if ans["citations"]:
        lines += ["", "Sources:"]
        for c in ans["citations"]:
            lines.append(f"[{c['marker']}] {place(c)} — “{c['quote']}”")
    return "\n".join(lines)


def conversation_markdown(turns: list[dict[str, Any]]) -> str:
    """A whole conversation: every answered question with its sources."""
    done = [t for t in turns if "answer" in t]
    title = done[0]["question"] if done else "ipqa conversation"
    body = "\n\n---\n\n".join(to_markdown(t) for t in done)
    return f"# {title}\n\n_Answers quoted from the documents by ipqa._\n\n{body}\n"


def _groups(citations: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Citations grouped by the passage they quote: one card per passage."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for c in citations:
        groups.setdefault((c["doc"], c["passage"]), []).append(c)
    return list(groups.values())


def _card_html(group: list[dict[str, Any]], card_id: str) -> str:
    first = group[0]
    markers = "".join(f"[{c['marker']}]" for c in group)
    quotes = "".join(f'<p class="ipqa-quote"><mark>{_e(c["quote"])}</mark></p>' for c in group)
    lo, hi = min(c["start"] for c in group), max(c["end"] for c in group)
    offsets = "; ".join(f"[{c['marker']}] characters {c['start']}–{c['end']}" for c in group)
    wrong = "".join(
        f'<button type="button" class="ipqa-link ipqa-fb" data-rating="wrong-citation" '
        f'data-marker="{c["marker"]}">Wrong citation [{c["marker"]}]?</button>'
        for c in group
    )
    return (
        f'<div class="ipqa-card" id="{card_id}"><h4>{markers} {_e(place(first))}</h4>{quotes}'
        f"<details><summary>Show the whole passage</summary>"
        f'<p class="ipqa-passage">{_passage_html(first["passage"], [c["quote"] for c in group])}</p>'
        f'<p class="ipqa-offsets">{_e(first["doc"])}: {offsets}</p></details>'
        f'<div class="ipqa-cardbar"><button type="button" class="ipqa-link ipqa-open" '
        f"{_open_attrs(first['doc'], lo, hi)}>Open in the document</button>{wrong}</div></div>"
    )


def _feedback_data(turn: dict[str, Any]) -> str:
    ans = turn["answer"]
    data = {
        "question": turn["question"],
        "searched": turn.get("searched", turn["question"]),
        "answer": ans["answer"],
        "refused": ans["refused"],
        "citations": [
            {k: c[k] for k in ("marker", "doc", "section", "start", "end", "quote")} for c in ans["citations"]
        ],
    }
    return _e(json.dumps(data, ensure_ascii=False))


def render_turn(
    turn: dict[str, Any], n: int, documents: list[dict[str, Any]] | None = None, last: bool = False
) -> str:
    parts = [f'<div class="ipqa-turn" data-turn="{n}">', f'<div class="ipqa-q">{_e(turn["question"])}</div>']
    if turn.get("error"):
        parts.append(f'<div class="ipqa-a ipqa-error">{_e(turn["error"])}</div></div>')
        return "".join(parts)
    if "draft" in turn:
        parts.append(
            '<div class="ipqa-a ipqa-draft"><div class="ipqa-badge ipqa-drafting">Drafting with the language model — '
            f"not yet checked against the documents…</div>{_e(turn['draft'])}</div></div>"
        )
        return "".join(parts)
    documents = documents or []
    ans = turn["answer"]
    if turn["searched"] != turn["question"]:
        parts.append(f'<div class="ipqa-searched">Searched for: {_e(turn["searched"])}</div>')
    groups = _groups(ans["citations"])
    cards = {c["marker"]: f"ipqa-t{n}-s{g[0]['marker']}" for g in groups for c in g}
    if ans["refused"]:
        chips = []
        for label in ans.get("closest_sections", []):
            found = find_section(label, documents)
            shown = human_section(label)
            if found and label != found[1]["label"]:
                shown = f"{found[0]['title']}: {human_section(found[1]['label'])}"
            if found:
                d, s = found
                chips.append(
                    f'<button type="button" class="ipqa-chip ipqa-open" {_open_attrs(d["doc"], s["start"], s["start"])} '
                    f'aria-label="Open {_e(shown)}"><span>{_e(shown)}</span></button>'
                )
            else:
                chips.append(f'<span class="ipqa-chip">{_e(shown)}</span>')
        text = re.split(r" (?:The closest sections|The nearest they come)", ans["answer"])[0]
        parts.append(
            '<div class="ipqa-a ipqa-refusal"><div class="ipqa-badge">Not covered by the documents</div>'
            f'<span class="ipqa-text">{_e(text)}</span>'
            + (
                f'<div class="ipqa-closest">Closest sections — open one to read it: {"".join(chips)}</div>'
                if chips
                else ""
            )
        )
    else:
        parts.append(
            '<div class="ipqa-a ipqa-answer"><span class="ipqa-text">'
            f"{_answer_html(ans['answer'], n, ans['citations'], cards)}</span>"
        )
    for note in ans.get("notes", []):
        parts.append(f'<div class="ipqa-note">{_e(note)}</div>')
    if ans.get("mode") in ("llm", "extractive-fallback") and ans.get("grounding"):
        parts.append(_verdicts_html(ans["grounding"]))
    if groups:
        parts.append('<div class="ipqa-sources">')
        parts.extend(_card_html(g, cards[g[0]["marker"]]) for g in groups)
        parts.append("</div>")
    parts.append(
        f'<div class="ipqa-actions" data-feedback="{_feedback_data(turn)}">'
        '<button type="button" class="ipqa-fb" data-rating="up" aria-pressed="false">Helpful</button>'
        '<button type="button" class="ipqa-fb" data-rating="down" aria-pressed="false">Not helpful</button>'
        f'<button type="button" class="ipqa-copy" data-source="ipqa-md-{n}">Copy as Markdown</button>'
        f'<textarea id="ipqa-md-{n}" hidden readonly aria-hidden="true">{_e(to_markdown(turn))}</textarea>'
        '<span class="ipqa-fb-status" role="status"></span></div>'
    )
    nexts = suggestions({**ans, "question": turn["question"]}, documents) if last else []
    if nexts:
        items = "".join(
            f'<li><button type="button" class="ipqa-suggest">{_e(q)}</button></li>' for q in nexts
        )
        parts.append(f'<div class="ipqa-next">You could also ask:<ul>{items}</ul></div>')
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
        f"{'s' if len(verdicts) != 1 else ''} against the documents: {removed} removed</summary><ul>{items}</ul></details>"
    )


def render_start(documents: list[dict[str, Any]]) -> str:
    """The start screen: what ipqa can answer from, document by document, with its sections
    (each opens in the document viewer)."""
    docs = []
    for d in documents:
        meta = d["doc"] + (f", {d['pages']} pages" if d.get("pages") else "")
        items = "".join(
            f'<li><button type="button" class="ipqa-link ipqa-open" {_open_attrs(d["doc"], s["start"], s["start"])}>'
            f"{_e(human_section(s['label']))}</button></li>"
            for s in d["sections"]
            if s["level"] <= 2
        )
        docs.append(
            f'<details class="ipqa-doc" open><summary>{_e(d["title"])} '
            f'<span class="ipqa-docmeta">({_e(meta)})</span></summary>'
            f"<ul class='ipqa-sections'>{items}</ul></details>"
        )
    n = len(documents)
    return (
        '<div class="ipqa-log"><div class="ipqa-intro"><h2>Ask the documents</h2>'
        "<p>ipqa answers from the documents below. Every claim comes with the exact sentence it rests "
        "on and where it stands; when the documents do not say, ipqa tells you so instead of guessing. "
        "Try an example below or ask your own question"
        + (" — and pick documents to ask only those." if n > 1 else ".")
        + f" Questions are understood in {UNDERSTOOD}; answers quote the documents' own words. "
        "Click a section to read it."
        + f"</p><p><b>{n} document{'s' if n != 1 else ''}</b></p>{''.join(docs)}</div></div>"
    )


def document_list(engine: Engine) -> list[dict[str, Any]]:
    """Each indexed document with its title, kind, pages and sections (offsets into its text)."""
    out = []
    for d in engine.documents():
        sections = sorted(d.sections, key=lambda s: (s.start, s.id))
        out.append(
            {
                "doc": d.doc,
                "title": d.title or d.doc,
                "kind": d.kind,
                "pages": len(d.pages),
                "sections": [
                    {
                        "label": s.label,
                        "heading": s.heading,
                        "level": s.level,
                        "start": s.start,
                        "end": s.end,
                        "page": engine.index.page_of(d.doc, s.start) if d.pages else None,
                    }
                    for s in sections
                ],
            }
        )
    return out


VIEW_MAX = 15_000  # characters of a document shown at once in the viewer


def render_document(d: dict[str, Any], text: str, start: int, end: int, page: int | None = None) -> str:
    """The viewer's content: the section holding `start` (and, for a heading over subsections,
    the first of them), the range start–end highlighted, the section list to move around, and
    the page for paged documents. Everything from the document is escaped."""
    start = max(0, min(int(start), len(text)))
    end = max(start, min(int(end), len(text)))
    sections = d["sections"] or [
        {"label": OPENING_LABEL, "heading": "", "level": 0, "start": 0, "end": len(text), "page": None}
    ]
    at = max((i for i, s in enumerate(sections) if s["start"] <= start), default=0)
    s = sections[at]
    a = sections[at - 1]["end"] if at > 0 else 0
    a = min(a, s["start"])
    b = s["end"]
    k = at
    while b - s["start"] < MIN_SECTION_CHARS and k + 1 < len(sections):
        k += 1
        b = sections[k]["end"]
    b = max(b, end)
    if b - a > VIEW_MAX:
        a = max(a, start - VIEW_MAX // 3)
        b = min(b, a + VIEW_MAX)
    body_text = text[a:b]
    if s["heading"] and body_text.lstrip().startswith(s["heading"]):
        body_text = body_text.lstrip()[len(s["heading"]) :]
        a = b - len(body_text)
    if end > start and a <= start and end <= b:
        body = f'{_e(text[a:start])}<mark id="ipqa-viewer-hit">{_e(text[start:end])}</mark>{_e(text[end:b])}'
    else:
        body = _e(text[a:b])
    body = body.strip("\n")
    pages = f", {d['pages']} pages" if d.get("pages") else ""
    where = f" · p. {page}" if page else ""
    nav = "".join(
        f'<li><button type="button" class="ipqa-link ipqa-nav" {_open_attrs(d["doc"], x["start"], x["start"])}'
        + (' aria-current="true"' if i == at else "")
        + f">{_e(human_section(x['label']))}"
        + (f" (p. {x['page']})" if x.get("page") else "")
        + "</button></li>"
        for i, x in enumerate(sections)
    )
    pager = []
    if at > 0:
        p = sections[at - 1]
        pager.append(
            f'<button type="button" class="ipqa-link ipqa-nav" {_open_attrs(d["doc"], p["start"], p["start"])}>'
            f"← {_e(human_section(p['label']))}</button>"
        )
    else:
        pager.append("<span></span>")
    if k + 1 < len(sections):
        p = sections[k + 1]
        pager.append(
            f'<button type="button" class="ipqa-link ipqa-nav" {_open_attrs(d["doc"], p["start"], p["start"])}>'
            f"{_e(human_section(p['label']))} →</button>"
        )
    return (
        f'<p class="ipqa-docmeta">{_e(d["doc"])} · {_e(d.get("kind") or "text")}{pages}{_e(where)}</p>'
        f'<details class="ipqa-vnav"><summary>All sections ({len(sections)})</summary>'
        f'<nav aria-label="Sections of the document"><ol>{nav}</ol></nav></details>'
        f'<section class="ipqa-vsection"><h3>{_e(human_section(s["label"]))}'
        f"{_e(f' (p. {page})') if page else ''}</h3>"
        f'<div class="ipqa-vbody">{body}</div></section>'
        f'<div class="ipqa-vpager">{"".join(pager)}</div>'
    )


def render_chat(turns: list[dict[str, Any]], documents: list[dict[str, Any]]) -> str:
    if not turns:
        return render_start(documents)
    body = "".join(render_turn(t, i + 1, documents, last=i == len(turns) - 1) for i, t in enumerate(turns))
    bar = (
        '<div class="ipqa-convbar"><button type="button" class="ipqa-export">Export conversation '
        "(Markdown)</button>"
        f'<textarea id="ipqa-md-all" hidden readonly aria-hidden="true">{_e(conversation_markdown(turns))}</textarea></div>'
    )
    return f'<div class="ipqa-log">{bar}{body}</div>'


# ---------------------------------------------------------------- conversations kept in the browser

CITATION_FIELDS = tuple(Citation.__dataclass_fields__)
STORE_KEY = "ipqa-conversations"  # localStorage key (gr.BrowserState): nothing leaves the machine
MAX_CONVERSATIONS = 20


def empty_store() -> dict[str, Any]:
    return {"current": None, "conversations": []}


def _valid_store(store: Any) -> dict[str, Any]:
    """What the browser sent back, or an empty store when it is not one of ours."""
    if (
        isinstance(store, dict)
        and isinstance(store.get("conversations"), list)
        and all(isinstance(c, dict) and isinstance(c.get("turns"), list) for c in store["conversations"])
    ):
        return store
    return empty_store()


def _compact(turn: dict[str, Any]) -> dict[str, Any]:
    """A turn as kept in the browser: the answer without the retrieval details."""
    if "answer" not in turn:
        return turn
    ans = {k: v for k, v in turn["answer"].items() if k not in ("retrieved", "timings_ms")}
    return {**turn, "answer": ans}


def save_turns(store: Any, turns: list[dict[str, Any]]) -> dict[str, Any]:
    """The store with the current conversation's turns saved (a new one on its first answer)."""
    store = _valid_store(store)
    kept = [_compact(t) for t in turns if "draft" not in t]
    if not kept:
        return store
    current = store.get("current") or uuid.uuid4().hex[:12]
    others = [c for c in store["conversations"] if c.get("id") != current]
    conv = {"id": current, "title": kept[0]["question"][:80], "updated": int(time.time()), "turns": kept}
    return {"current": current, "conversations": [conv, *others][:MAX_CONVERSATIONS]}


def current_turns(store: Any) -> list[dict[str, Any]]:
    store = _valid_store(store)
    conv = next((c for c in store["conversations"] if c.get("id") == store.get("current")), None)
    return list(conv["turns"])[-MAX_TURNS:] if conv else []


def history_choices(store: Any) -> list[tuple[str, str]]:
    """Past conversations for the picker, newest first: (first question, id)."""
    store = _valid_store(store)
    return [(str(c.get("title") or "(untitled)"), str(c.get("id"))) for c in store["conversations"]]


# ---------------------------------------------------------------- behaviour (chat state only)


def history_turns(turns: list[dict[str, Any]]) -> tuple[Turn, ...]:
    """The chat's answered turns as `conversation.Turn`s. The browser keeps them as JSON, which
    a person can edit: a citation that does not parse is left out rather than trusted."""
    out = []
    for t in turns:
        searched = t.get("searched") if isinstance(t, dict) else None
        if t.get("error") or not isinstance(searched, str) or not searched.strip():
            continue
        answer = t.get("answer") if isinstance(t.get("answer"), dict) else {}
        cites = []
        for c in answer.get("citations") or ():
            try:
                cites.append(Citation(**{k: c[k] for k in CITATION_FIELDS if k in c}))
            except (TypeError, KeyError):
                continue
        topic = t.get("topic") if isinstance(t.get("topic"), str) else searched.split(" — ", 1)[-1]
        question = t.get("question") if isinstance(t.get("question"), str) else searched
        out.append(Turn(question, searched, topic, tuple(cites), bool(answer.get("refused"))))
    return tuple(out)


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
    """Turn states: drafts while an LLM writes (if one is configured), then the verified turn.
    A follow-up is resolved against the whole conversation (`conversation.resolve`): "tell me
    more" goes on from the previous answer's passages, a pronoun takes the previous topic."""
    shown = " ".join((question or "").split())
    try:
        wanted = engine.resolve_docs(docs)
        past = history_turns(turns)
        r = resolve(engine, shown, past, wanted)
        draft = ""
        for event in stream_in_conversation(engine, shown, past, wanted, resolved=r):
            if isinstance(event, str):
                draft += event
                yield {"question": shown, "searched": r.standalone, "draft": draft}
            else:
                searched = event.searched_for or event.question
                yield {"question": event.question, "searched": searched, "topic": r.topic or searched,
                       "answer": event.to_json()}  # fmt: skip
    except InputError as exc:
        yield {"question": shown[:200] or "(empty)", "error": f"Please rephrase: {exc}."}
    except IpqaError as exc:  # e.g. the database store is down: say so; the next question retries
        yield {"question": shown[:200] or "(empty)", "error": f"The index is unavailable right now ({exc}). "
               "Please try again in a moment."}  # fmt: skip


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

    def serving() -> Engine:
        """The engine, replaced once another build has been published (an `ipqa build` of the index
        folder, or a build into the database): the process's engine for the new generation."""
        with contextlib.suppress(IpqaError):  # the index or database is unavailable: keep the one loaded
            if live["engine"].generation != serving_generation(settings):
                live["engine"] = get_engine(settings)
        return live["engine"]

    settings = engine.settings
    slots = LLMSlots(settings.ui_concurrency, wait=settings.llm_timeout)
    llm_limit = settings.ui_concurrency if engine.llm is not None else 0
    feedback_dir = feedback.folder_for(settings)  # <index_dir>/../data/feedback.jsonl

    def documents() -> list[dict[str, Any]]:
        return document_list(live["engine"])

    def choices() -> list[tuple[str, str]]:
        return [(d["title"], d["doc"]) for d in documents()]

    def history(store: Any) -> Any:
        store = _valid_store(store)
        return gr.update(choices=history_choices(store), value=store.get("current"))

    def respond(question: str, turns: list[dict[str, Any]], docs: list[str] | None = None, store: Any = None):
        """A chat question, first step ("answer" group): the extractive answer or refusal, or — when
        a language model is configured and the documents cover the question — a placeholder and
        a job in `pending` for `draft` (whose own group waits for the model). An empty question
        changes nothing."""
        if not (question or "").strip():
            return (gr.skip(),) * 7
        docs_ = documents()
        current = serving()
        quick = current if current.llm is None else with_llm(current, None)
        turn = answer_turn(quick, question, turns, docs or None)
        if current.llm is None or turn.get("error") or turn["answer"]["refused"]:
            shown = [*turns, turn][-MAX_TURNS:]
            saved = save_turns(store, shown)
            return (
                render_chat(shown, docs_),
                shown,
                "",
                gr.skip(),
                saved,
                history(saved),
                gr.update(visible=False),
            )
        waiting = {"question": turn["question"], "searched": turn["searched"], "draft": ""}
        job = {"id": uuid.uuid4().hex, "question": question, "docs": docs or None}
        return (
            render_chat([*turns, waiting][-MAX_TURNS:], docs_),
            turns,
            "",
            job,
            gr.skip(),
            gr.skip(),
            gr.update(visible=False),
        )

    def draft(job: dict[str, Any] | None, turns: list[dict[str, Any]], store: Any = None):
        """Second step ("llm" group): the model's words as they arrive, then the verified turn."""
        current = serving()
        if not job or current.llm is None:
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        docs_ = documents()
        asking = with_llm(current, slots.client(current.llm, wait=True))
        for turn in stream_turn(asking, job["question"], turns, job["docs"]):
            shown = [*turns, turn][-MAX_TURNS:]
            if "draft" in turn:  # the model's words as they arrive, not yet verified
                yield render_chat(shown, docs_), turns, gr.skip(), gr.skip()
            else:
                saved = save_turns(store, shown)
                yield render_chat(shown, docs_), shown, saved, history(saved)

    def restore(store: Any):
        """Page load: the conversation the browser kept, and the list of past ones."""
        store = _valid_store(store)
        turns_ = current_turns(store)
        return render_chat(turns_, documents()), turns_, history(store)

    def switch(conv_id: Any, store: Any):
        store = _valid_store(store)
        if not any(c.get("id") == conv_id for c in store["conversations"]):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        store = {**store, "current": conv_id}
        turns_ = current_turns(store)
        return render_chat(turns_, documents()), turns_, store, gr.update(visible=False)

    def clear(store: Any):
        """New conversation: the current one stays in the list, and Undo brings it back."""
        store = _valid_store(store)
        previous = store.get("current")
        store = {**store, "current": None}
        return (
            render_start(documents()),
            [],
            "",
            store,
            history(store),
            previous,
            gr.update(visible=previous is not None),
        )

    def undo(previous: Any, store: Any):
        chat_, turns_, store_, _ = switch(previous, store)
        if chat_ is gr.skip() or isinstance(store_, dict) is False:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.update(visible=False)
        return chat_, turns_, store_, history(store_), gr.update(visible=False)

    def upload(path: str | None, turns: list[dict[str, Any]], progress=gr.Progress(track_tqdm=True)):  # noqa: B008
        """Store the uploaded file under corpus/ (never run, checked by content), then rebuild."""
        same = (gr.update(),) * (2 + len(buttons))
        if not path:
            return (*same[:2], "Choose a file first.", *same[2:])
        name = os.path.basename(path)
        try:
            if os.path.getsize(path) > settings.max_upload_mb * 1_000_000:
                raise IpqaError(f"{name}: larger than {settings.max_upload_mb} MB")
            with open(path, "rb") as fh:
                data = fh.read()
            progress(0.05, desc="checking the file")
            target = add_bytes(name, data, settings.corpus_dir)
            if target is None:
                return (*same[:2], f"{name} is already in the library.", *same[2:])
            log: list[str] = []
            progress(0.2, desc="reading and embedding")
            build(settings, log.append, progress=True)  # its bars show in the page
            live["engine"] = reload_engine(settings)
        except IpqaError as exc:
            return (*same[:2], f"Not added: {exc}", *same[2:])
        summary = next((line.strip() for line in log if target.name in line), f"{target.name} added")
        docs_ = documents()
        new_examples = examples(docs_, len(buttons))
        labels = [
            gr.update(value=new_examples[i], visible=True)
            if i < len(new_examples)
            else gr.update(visible=False)
            for i in range(len(buttons))
        ]
        return (render_chat(turns, docs_), gr.update(choices=choices()), f"Added. {summary}", *labels)

    def api_ask(question: str, previous: str = "", docs: list[str] | None = None) -> dict[str, Any]:
        """The same turn logic for programs: the answer JSON plus the standalone question searched."""
        problem = api_problem(question, previous, docs)
        if problem:
            return {"error": problem, "refused": True}
        turns = [{"searched": previous}] if previous else []
        current = serving()
        if current.llm is not None:
            current = with_llm(current, slots.client(current.llm, wait=False))
        turn = answer_turn(current, question, turns, [docs] if isinstance(docs, str) else docs)
        if turn.get("error"):
            return {"error": turn["error"], "refused": True}
        return {**turn["answer"], "searched": turn["searched"]}

    def api_document(doc: str, start: int = 0, end: int = 0) -> dict[str, Any]:
        """The document viewer's content: the section around start–end of `doc`, that range
        highlighted (HTML, escaped), with the document's sections and the page for PDFs."""
        if not isinstance(doc, str) or isinstance(start, bool) or isinstance(end, bool):
            return {"error": "doc must be a document name, start and end character offsets"}
        try:
            start, end = int(start or 0), int(end or 0)
        except (TypeError, ValueError):
            return {"error": "start and end must be character offsets"}
        current = serving()
        d = next((x for x in document_list(current) if x["doc"] == doc), None)
        if d is None:
            return {"error": "no such document"}
        text = current.index.doc_texts[doc]
        start = max(0, min(start, len(text)))
        page = current.index.page_of(doc, start) if d["pages"] else None
        return {
            "doc": doc,
            "title": d["title"],
            "page": page,
            "html": render_document(d, text, start, end, page),
            "sections": [{**s, "label": human_section(s["label"])} for s in d["sections"]],
        }

    def api_feedback(entry: dict[str, Any]) -> dict[str, Any]:
        """Thumbs up / down or a wrong citation on an answer, appended to data/feedback.jsonl."""
        try:
            feedback.record(feedback_dir, feedback.clean(entry))
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        except OSError:
            return {"ok": False, "error": "the feedback file could not be written"}
        return {"ok": True}

    starting_examples = examples(documents())
    with _Blocks(title="ipqa — ask your documents") as demo:
        turns = gr.State([])
        pending = gr.State(None)  # a question waiting for the language model (see `respond`)
        undo_to = gr.State(None)  # the conversation "New conversation" left, for Undo
        store = gr.BrowserState(empty_store(), storage_key=STORE_KEY, secret="ipqa-local")
        with gr.Row(equal_height=True, elem_id="ipqa-top"):
            gr.Markdown("### ipqa · answers with the documents' own sentences, cited")
            new = gr.Button("New conversation", size="sm", variant="secondary", scale=0,
                            min_width=150, elem_id="ipqa-clear")  # fmt: skip
            undo_btn = gr.Button("Undo", size="sm", visible=False, scale=0, min_width=70, elem_id="ipqa-undo")
        past = gr.Dropdown(
            choices=[],
            value=None,
            label="Past conversations (kept in this browser only)",
            elem_id="ipqa-history",
            allow_custom_value=False,
        )
        chat = gr.HTML(render_start(documents()), elem_id="ipqa-chat", js_on_load=CHAT_JS)
        with gr.Row(equal_height=True, elem_id="ipqa-ask"):
            box = gr.Textbox(
                label="Your question",
                placeholder="Ask about the documents…",
                max_length=settings.max_question_chars,
                lines=1,
                scale=6,
                elem_id="ipqa-question",
            )
            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ipqa-send")
        gr.HTML(AFTER_BOX_HTML, elem_id="ipqa-after-box", padding=False)
        picker = gr.Dropdown(
            choices=choices(),
            value=[],
            multiselect=True,
            label="Ask only these documents (empty: all)",
            elem_id="ipqa-docs",
        )
        gr.Markdown("**Examples from the documents' sections** — one click asks them:")
        with gr.Row(elem_id="ipqa-examples"):
            buttons = [gr.Button(q, size="sm", elem_classes="ipqa-example") for q in starting_examples]
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
            add.click(upload, [file, turns], [chat, picker, status, *buttons], api_visibility="private")

        answer = {
            "api_visibility": "private",
            "concurrency_id": "answer",
            "concurrency_limit": settings.ui_concurrency,
            "show_progress": "hidden",  # the page shows the question at once, with its own loading state
        }
        outputs = [chat, turns, box, pending, store, past, undo_btn]
        box.submit(respond, [box, turns, picker, store], outputs, **answer)
        send.click(respond, [box, turns, picker, store], outputs, **answer)
        for b in buttons:
            b.click(respond, [b, turns, picker, store], outputs, **answer)
        pending.change(
            draft,
            [pending, turns, store],
            [chat, turns, store, past],
            api_visibility="private",
            concurrency_id="llm",
            concurrency_limit=max(1, llm_limit),
        )
        private = {"api_visibility": "private", "show_progress": "hidden"}
        new.click(clear, [store], [chat, turns, box, store, past, undo_to, undo_btn], **private)
        undo_btn.click(undo, [undo_to, store], [chat, turns, store, past, undo_btn], **private)
        past.input(switch, [past, store], [chat, turns, store, undo_btn], **private)
        demo.load(restore, [store], [chat, turns, past], **private)
        gr.api(
            api_ask,
            api_name="ask",
            concurrency_id="api",
            concurrency_limit=settings.ui_concurrency + llm_limit,
        )
        gr.api(api_document, api_name="document", concurrency_id="read", concurrency_limit=4)
        gr.api(api_feedback, api_name="feedback", concurrency_id="read", concurrency_limit=4)
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
    offline_environment()  # once, at start: nothing else sets the environment
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        settings = Settings.load(
            host=args.host, port=args.port, llm_url=args.llm_url, llm_model=args.llm_model
        )
        # A fresh checkout has no index: build it here, explicitly, before the engine reads it.
        ensure_index(settings, lambda m: print(f"ipqa: {m}", file=sys.stderr, flush=True))
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

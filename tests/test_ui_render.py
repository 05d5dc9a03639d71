"""Fast layer: the UI's pure rendering and chat-turn functions (the browser test covers the page)."""

from __future__ import annotations

import importlib.util

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("ipqa_ui", ROOT / "ui.py")
ui = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ui)


def test_html_in_questions_and_answers_is_escaped(engine):
    turn = ui.answer_turn(engine, "<script>alert(1)</script> How does Japan protect trade secrets?", [])
    page = ui.render_turn(turn, 1)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_markers_link_to_cards_and_quotes_are_highlighted(engine):
    turn = ui.answer_turn(engine, "How long does Japan's patent office take to examine AI inventions?", [])
    page = ui.render_turn(turn, 3)
    assert 'data-target="ipqa-t3-s1"' in page and 'id="ipqa-t3-s1"' in page
    assert (
        'class="ipqa-marker"' in page
        and 'aria-label="Source 1: 3.1 Artificial Intelligence Technology Field"' in page
    )
    assert "<mark>The Japan Patent Office established" in page
    md = ui.to_markdown(turn)
    assert (
        md.startswith("**Q:**") and "Sources:" in md and "3.1 Artificial Intelligence Technology Field" in md
    )


def test_refusal_and_error_turns_look_different(engine):
    refused = ui.render_turn(ui.answer_turn(engine, "What is the capital of France?", []), 1)
    error = ui.render_turn(ui.answer_turn(engine, "   ", []), 2)
    assert (
        "ipqa-refusal" in refused and "Not covered by the documents" in refused and "ipqa-closest" in refused
    )
    docs = ui.document_list(engine)
    chips = ui.render_turn(ui.answer_turn(engine, "What is the capital of France?", []), 1, docs)
    assert chips.count('class="ipqa-chip ipqa-open" data-doc="asia-pacific-digital-ip-report.txt"') >= 1
    assert "ipqa-error" in error and "empty" in error


def test_follow_up_turn_shows_what_was_searched(engine):
    first = ui.answer_turn(engine, "How does Japan protect trade secrets?", [])
    second = ui.answer_turn(engine, "And Korea?", [first])
    assert second["searched"] == "How does Korea protect trade secrets?"
    assert "Searched for: How does Korea protect trade secrets?" in ui.render_turn(second, 2)


def test_start_screen_lists_documents_with_their_sections_and_examples(engine):
    page = ui.render_chat([], ui.document_list(engine))
    assert "3.1 Artificial Intelligence Technology Field" in page and "Conclusion" in page
    assert engine.index.title_of("asia-pacific-digital-ip-report.txt") in page and "1 document" in page
    examples = ui.examples(ui.document_list(engine))
    assert 6 <= len(examples) <= 8 and len(set(examples)) == len(examples)
    assert all(q.startswith("What does the document say about ") and q.endswith("?") for q in examples)
    assert not any("Conclusion" in q or "Opening" in q for q in examples)  # no generic headings
    assert "Opening section" in page and "Introduction (untitled opening)" not in page
    assert (
        'class="ipqa-link ipqa-open" data-doc="asia-pacific-digital-ip-report.txt" data-start="8951"' in page
    )


def _citation(marker, start, end, passage="P. The quote. More.", quote="The quote.", page=None, section="S"):
    return {"marker": marker, "doc": "d.pdf", "section": section, "quote": quote, "start": start, "end": end,
            "passage": passage, "score": 1.0, "page": page, "title": "T"}  # fmt: skip


def _turn(answer, citations):
    return {"question": "q", "searched": "q", "answer": {"question": "q", "answer": answer, "refused": False,
            "citations": citations, "closest_sections": [], "notes": [], "mode": "extractive"}}  # fmt: skip


def test_cards_are_collapsed_deduplicated_and_humanly_labelled():
    two = [
        _citation(1, 398, 408, page=3, section="Introduction (untitled opening)"),
        _citation(2, 410, 420, quote="More.", page=3, section="Introduction (untitled opening)"),
    ]
    page = ui.render_turn(_turn("A [1]. B [2].", two), 1)
    assert page.count('class="ipqa-card"') == 1  # one passage, one card, both markers
    assert "[1][2] T, p. 3, Opening section</h4>" in page
    assert "untitled opening" not in ui.re.sub(r"<[^>]+>", "", page)  # shown text (the JSON keeps it)
    assert 'data-target="ipqa-t1-s1"' in page and page.count('data-target="ipqa-t1-s1"') == 2
    header, details = page.split("<details>", 1)
    shown = ui.re.sub(r"<[^>]+>", "", header)
    assert "chars" not in shown and "398" not in shown  # offsets only inside the expanded card
    assert "characters 398–408" in details and "<summary>Show the whole passage</summary>" in details
    assert "<mark>The quote.</mark>" in header
    md = ui.to_markdown(_turn("A [1]. B [2].", two))
    assert "[1] T, p. 3, Opening section — “The quote.”" in md and "chars" not in md


def test_no_floating_full_stop_after_a_marker():
    page = ui.render_turn(
        _turn(
            "Models learn [1] . They err [2] , often.", [_citation(1, 0, 1), _citation(2, 5, 9, passage="x")]
        ),
        1,
    )
    text = ui.re.sub(r"<[^>]+>", "", page)
    assert "learn [1]." in text and "err [2], often" in text and "] ." not in text


def test_document_viewer_escapes_and_highlights(engine):
    d = next(x for x in ui.document_list(engine) if x["doc"] == "asia-pacific-digital-ip-report.txt")
    text = engine.index.doc_texts[d["doc"]]
    view = ui.render_document(d, text, 6737, 6868)
    assert '<mark id="ipqa-viewer-hit">In trade secret protection, Japan' in view
    assert "<h3>2.2 Trade Secret Protection Mechanisms</h3>" in view and "Opening section" in view
    assert 'aria-current="true">2.2 Trade Secret' in view
    nasty = {**d, "doc": '<b>"x"</b>', "sections": []}
    view = ui.render_document(nasty, "<script>alert(1)</script> text & more", 0, 8)
    assert "<script>" not in view and "&lt;script&gt;" in view and "<b>" not in view
    section = ui.render_document(d, text, 10646, 10646)  # a section: opened unmarked
    assert "ipqa-viewer-hit" not in section and "<h3>3.2 Cloud Computing and Big Data Field</h3>" in section


def test_suggested_next_questions_come_from_neighbouring_sections(engine):
    docs = ui.document_list(engine)
    turn = ui.answer_turn(engine, "How does Japan protect trade secrets?", [])
    nexts = ui.suggestions({**turn["answer"], "question": turn["question"]}, docs)
    assert 2 <= len(nexts) <= 3
    assert "What does the document say about Data Rights Protection Framework?" in nexts  # 2.3 follows 2.2
    assert not any("Trade Secret Protection Mechanisms" in q for q in nexts)  # the cited section itself
    page = ui.render_chat([turn], docs)
    assert page.count('class="ipqa-suggest"') == len(nexts)


def test_conversations_kept_in_the_browser_store(engine):
    turn = ui.answer_turn(engine, "How does Japan protect trade secrets?", [])
    store = ui.save_turns(None, [turn])
    assert store["current"] and ui.current_turns(store)[0]["question"] == turn["question"]
    assert "retrieved" not in ui.current_turns(store)[0]["answer"]  # kept small
    second = ui.save_turns({**store, "current": None}, [turn])
    assert len(second["conversations"]) == 2 and ui.history_choices(second)[0][1] == second["current"]
    assert ui.current_turns({"conversations": "junk"}) == [] and ui._valid_store(42) == ui.empty_store()
    md = ui.conversation_markdown([turn, {"question": "x", "error": "Please rephrase"}])
    assert md.startswith("# How does Japan protect trade secrets?") and md.count("**Q:**") == 1

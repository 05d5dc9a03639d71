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
    assert 6 <= len(ui.EXAMPLES) <= 8

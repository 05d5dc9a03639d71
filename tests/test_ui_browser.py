"""The chat UI in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .uiserver import ROOT, running_ui

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="module")
def ui_url(ui_server):
    return ui_server[0]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists(), "apt-get install -y chromium"
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def ask(page, question: str, n: int) -> None:
    page.fill("#ipqa-question textarea", question)
    page.click("#ipqa-send")
    page.wait_for_selector(f'.ipqa-turn[data-turn="{n}"] .ipqa-a', timeout=30_000)


def screenshot_path(tmp_path: Path) -> Path:
    """docs/ui.png when refreshing the README's picture (IPQA_UPDATE_SCREENSHOT=1), else a temp file."""
    return ROOT / "docs" / "ui.png" if os.environ.get("IPQA_UPDATE_SCREENSHOT") else tmp_path / "ui.png"


def test_example_answer_sources_marker_and_follow_up(browser, ui_url, tmp_path):
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    page = ctx.new_page()
    page.goto(ui_url)
    page.wait_for_selector(".ipqa-intro")
    assert "Ask the documents" in page.inner_text("#ipqa-chat")
    examples = page.locator(".ipqa-example")
    examples.first.wait_for()
    assert 6 <= examples.count() <= 8
    examples.filter(has_text="How does Japan protect trade secrets?").click()
    page.wait_for_selector('.ipqa-turn[data-turn="1"] .ipqa-marker')
    turn = page.locator('.ipqa-turn[data-turn="1"]')
    assert "[1]" in turn.locator(".ipqa-answer").inner_text()
    card = turn.locator(".ipqa-card").first
    assert "2.2 Trade Secret Protection Mechanisms" in card.inner_text()
    assert "Unfair Competition Prevention Act" in card.locator("mark").inner_text()
    turn.locator(".ipqa-marker").first.click()  # a marker shows its source
    page.wait_for_selector("#ipqa-t1-s1.ipqa-flash", timeout=5_000)

    ask(page, "And Korea?", 2)
    second = page.locator('.ipqa-turn[data-turn="2"]')
    assert "Searched for: How does Korea protect trade secrets?" in second.inner_text()
    assert "Trade Secret Protection Act" in second.locator(".ipqa-answer").inner_text()
    page.locator('.ipqa-turn[data-turn="1"]').scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_path(tmp_path)), full_page=False)
    ctx.close()


def test_refusal_looks_different_and_copy_markdown(browser, ui_url):
    ctx = browser.new_context(viewport={"width": 1100, "height": 800})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_url.rstrip("/"))
    page = ctx.new_page()
    page.goto(ui_url)
    ask(page, "What's the weather in Tokyo?", 1)
    refusal = page.locator('.ipqa-turn[data-turn="1"] .ipqa-refusal')
    assert (
        "Not covered by the documents" in refusal.inner_text()
        and refusal.locator(".ipqa-closest span").count() >= 1
    )
    ask(page, "How big is South Korea's data trading market?", 2)
    page.locator('.ipqa-turn[data-turn="2"] .ipqa-copy').click()
    page.wait_for_function(
        "document.querySelector('.ipqa-turn[data-turn=\"2\"] .ipqa-copy').textContent == 'Copied'"
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert (
        copied.startswith("**Q:** How big is South Korea")
        and "Sources:" in copied
        and "2.8 trillion won" in copied
    )
    ctx.close()


def test_phone_width_has_no_horizontal_scroll(browser, ui_url):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(ui_url)
    ask(page, "How long does Japan's patent office take to examine AI inventions?", 1)
    page.wait_for_selector(".ipqa-card")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    ctx.close()


def test_html_is_escaped_in_the_page(browser, ui_url):
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(ui_url)
    ask(page, '<img src=x onerror="window.pwned=1"> How does Japan protect trade secrets?', 1)
    assert page.evaluate("window.pwned === undefined")
    assert "<img src=x" in page.locator('.ipqa-turn[data-turn="1"] .ipqa-q').inner_text()
    ctx.close()


def test_llm_answer_streams_then_shows_verdicts(browser, index_env):
    from .fake_llm import FakeLLM, passage_number

    jpo = "The Japan Patent Office established a fast-track examination channel for AI inventions"
    with FakeLLM() as llm:
        llm.script = lambda req: {
            "content": f"{jpo} [{passage_number(req, jpo)}]. It also waives all fees for 12 years "
            f"[{passage_number(req, jpo)}].",
            "delay": 0.15,
        }
        env = {**index_env, "IPQA_LLM_URL": llm.url, "IPQA_LLM_MODEL": "scripted"}
        with running_ui(env) as (url, _proc):
            page = browser.new_page()
            page.goto(url)
            page.fill(
                "#ipqa-question textarea",
                "How long does Japan's patent office take to examine AI inventions?",
            )
            page.click("#ipqa-send")
            page.wait_for_selector(".ipqa-draft", timeout=30_000)  # the model's words as they arrive
            page.wait_for_selector('.ipqa-turn[data-turn="1"] .ipqa-answer', timeout=30_000)
            turn = page.locator('.ipqa-turn[data-turn="1"]')
            assert "12 years" not in turn.locator(".ipqa-answer").inner_text()
            assert page.locator(".ipqa-draft").count() == 0
            turn.locator(".ipqa-verdicts summary").click()
            assert "1 removed" in turn.locator(".ipqa-verdicts summary").inner_text()
            assert "12 years" in turn.locator(".ipqa-removed").inner_text()
            page.close()


def test_upload_a_pdf_then_ask_only_it_with_pages_in_the_sources(browser, tmp_path, engine, settings):
    """A user adds a PDF in the UI: it is stored under corpus/, indexed, listed, and answerable."""
    from . import docfixtures as fx
    from .conftest import REPORT

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    index = tmp_path / "index"
    shutil.copytree(settings.index_dir, index)  # the session's index of the report: no first build
    (tmp_path / "upload").mkdir()
    pdf = fx.make_pdf(tmp_path / "upload" / "outlook.txt")  # a misleading name: checked by content
    env = {"IPQA_CORPUS_DIR": str(corpus), "IPQA_INDEX_DIR": str(index)}
    with running_ui(env) as (url, _proc):
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(url)
        page.wait_for_selector(".ipqa-intro")
        assert "1 document" in page.inner_text("#ipqa-chat")
        page.get_by_text("Add a document").click()
        page.set_input_files("#ipqa-upload input[type=file]", str(pdf))
        page.click("#ipqa-add")
        page.wait_for_function(
            "document.querySelector('#ipqa-upload-status')?.innerText.includes('Added')", timeout=120_000
        )
        assert (corpus / "outlook.pdf").read_bytes() == pdf.read_bytes()  # checked by content: a PDF
        assert "2 documents" in page.inner_text("#ipqa-chat") and fx.PDF_TITLE in page.inner_text(
            "#ipqa-chat"
        )
        page.click("#ipqa-docs input")
        page.get_by_role("option", name=fx.PDF_TITLE).click()
        page.keyboard.press("Escape")
        ask(page, "How many trademark cancellation cases did the Jakarta court decide?", 1)
        card = page.locator('.ipqa-turn[data-turn="1"] .ipqa-card').first
        assert f"{fx.PDF_TITLE}, p. 3" in card.inner_text()
        if os.environ.get("IPQA_UPDATE_SCREENSHOT"):
            page.screenshot(path=str(ROOT / "docs" / "ui-documents.png"), full_page=False)
        page.close()

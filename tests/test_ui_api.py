"""The chat UI's server, driven over HTTP with gradio_client (a real server on 127.0.0.1)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest


@pytest.fixture(scope="module")
def ui_url(ui_server):
    return ui_server[0]


@pytest.fixture(scope="module")
def client(ui_url):
    from gradio_client import Client

    return Client(ui_url, verbose=False)


def test_answer_with_sources(client):
    r = client.predict(
        "How long does Japan's patent office take to examine AI inventions?", "", api_name="/ask"
    )
    assert not r["refused"] and "6 months" in r["answer"] and "[1]" in r["answer"]
    c = r["citations"][0]
    assert c["section"] == "3.1 Artificial Intelligence Technology Field" and c["quote"] in c["passage"]


def test_refusal(client):
    r = client.predict("What's the weather in Tokyo?", "", api_name="/ask")
    assert r["refused"] and r["closest_sections"]


def test_follow_up_carries_the_topic(client):
    first = client.predict("How does Japan protect trade secrets?", "", api_name="/ask")
    r = client.predict("And Korea?", first["searched"], api_name="/ask")
    assert r["searched"] == "How does Korea protect trade secrets?"
    assert "Trade Secret Protection Act" in r["answer"]
    assert all("Korea" in c["quote"] or "Korea" in c["passage"] for c in r["citations"])


def test_over_long_question_is_rejected_cleanly(client):
    r = client.predict("x" * 2001, "", api_name="/ask")
    assert r["refused"] and "too long" in r["error"]
    ok = client.predict("How big is South Korea's data trading market?", "", api_name="/ask")  # still serving
    assert "2.8 trillion won" in ok["answer"]


@pytest.mark.parametrize("path", ["file=index/CURRENT", "gradio_api/file=index/CURRENT", "file=/etc/passwd",
                                  "gradio_api/file=/etc/passwd", "gradio_api/file=corpus/asia-pacific-digital-ip-report.txt"])  # fmt: skip
def test_no_file_route_exposes_local_files(ui_url, path):
    try:
        with urllib.request.urlopen(ui_url + path, timeout=5) as r:
            body = r.read()
        assert b"root:" not in body and b"gen-" not in body and b"Asia-Pacific region" not in body
    except urllib.error.HTTPError as exc:
        assert exc.code in (403, 404, 405)


def test_document_endpoint_returns_the_escaped_window_and_sections(client):
    r = client.predict("asia-pacific-digital-ip-report.txt", 6737, 6868, api_name="/document")
    assert r["title"] and r["page"] is None  # a text file: no pages
    assert '<mark id="ipqa-viewer-hit">In trade secret protection, Japan' in r["html"]
    labels = [s["label"] for s in r["sections"]]
    assert labels[0] == "Opening section" and "2.2 Trade Secret Protection Mechanisms" in labels
    assert client.predict("../etc/passwd", 0, 0, api_name="/document")["error"] == "no such document"
    far = client.predict("asia-pacific-digital-ip-report.txt", 10**9, -5, api_name="/document")
    assert "Conclusion" in far["html"]  # offsets are clamped to the text


def test_feedback_endpoint_appends_to_the_data_folder(client, settings):
    import json
    from pathlib import Path

    log = Path(settings.index_dir).parent / "data" / "feedback.jsonl"
    before = len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0
    ok = client.predict(
        {"rating": "up", "question": "How big is the market?", "junk": "x"}, api_name="/feedback"
    )
    assert ok == {"ok": True}
    bad = client.predict({"rating": "<script>"}, api_name="/feedback")
    assert bad["ok"] is False and "rating" in bad["error"]
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == before + 1
    entry = json.loads(lines[-1])
    assert entry["rating"] == "up" and entry["question"] == "How big is the market?" and "junk" not in entry


@pytest.mark.slow
def test_a_fresh_checkout_builds_its_index_explicitly_then_serves(tmp_path, corpus_copy, monkeypatch):
    """The README's first command: ui.py in a folder with corpus/ and no index builds ./index
    (saying so), then serves; the folders are the working directory's, nothing else is guessed."""
    from .uiserver import running_ui

    for var in ("IPQA_INDEX_DIR", "IPQA_CORPUS_DIR", "IPQA_STORE"):
        monkeypatch.delenv(var, raising=False)
    assert corpus_copy == tmp_path / "corpus"
    with running_ui(cwd=tmp_path, timeout=300) as (_url, proc):
        assert (tmp_path / "index" / "CURRENT").is_file()
    said = proc.stdout.read() if proc.stdout else ""
    assert f"no index in {tmp_path / 'index'} yet" in said and "building" in said

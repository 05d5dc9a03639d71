"""The UI server under test: no file leaks, loopback only, no CORS for strangers, server-side
limits, steady under load, and a bounded queue that turns requests away when full."""

from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .uiload import rss_mb, run_load
from .uiserver import running_ui

LEAKS = [
    "file=index/CURRENT",
    "gradio_api/file=index/CURRENT",
    "gradio_api/file=../index/CURRENT",
    "gradio_api/file=%2e%2e/index/CURRENT",
    "gradio_api/file=..%2findex%2fCURRENT",
    "gradio_api/file=corpus/asia-pacific-digital-ip-report.txt",
    "gradio_api/file=ui.py",
    "file=/etc/passwd",
    "gradio_api/file=/etc/passwd",
    "gradio_api/file=%2fetc%2fpasswd",
    "gradio_api/file=../../../../etc/passwd",
    "gradio_api/file=..%2f..%2f..%2f..%2fetc%2fpasswd",
    "static/../../../../etc/passwd",
    "assets/..%2f..%2f..%2fetc%2fpasswd",
    "gradio_api/file=/proc/self/environ",
]


@pytest.fixture(scope="module")
def server(ui_server):
    return ui_server


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


@pytest.mark.parametrize("path", LEAKS)
def test_file_routes_refuse_local_files(server, settings, path):
    url, _ = server
    abs_index = str(settings.index_dir / "CURRENT").lstrip("/")
    for p in (path, path.replace("index/CURRENT", abs_index)):
        status, body, _ = _get(url + p)
        assert status in (400, 403, 404, 405) or (
            b"root:x:" not in body and b"gen-" not in body and b"Asia-Pacific region" not in body
            and b"import gradio" not in body and b"PATH=" not in body
        ), (p, status, body[:100])  # fmt: skip


def test_listens_on_loopback_only(server):
    url, _ = server
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if int(p, 16) == port and state == "0A":
                listening.append(addr)
    assert listening and all(a in ("0100007F", "00000000000000000000000001000000") for a in listening), (
        listening
    )


def test_no_cors_permission_for_other_origins(server):
    url, _ = server
    for path in ("", "gradio_api/info", "config"):
        _, _, headers = _get(url + path, {"Origin": "http://evil.example"})
        allowed = {k.lower(): v for k, v in headers.items()}.get("access-control-allow-origin")
        assert allowed in (None, url.rstrip("/"), "null"), (path, allowed)


def test_over_long_input_is_refused_by_the_server(server):
    from gradio_client import Client

    url, _ = server
    r = Client(url, verbose=False).predict("y" * 5000, "", api_name="/ask")
    assert r["refused"] and "too long" in r["error"]


def test_load_20_users_no_errors_flat_memory(server):
    url, proc = server
    seconds = float(os.environ.get("IPQA_LOAD_SECONDS", "12"))
    stats = run_load(url, users=20, seconds=seconds, server_pid=proc.pid)
    print(f"\nload: {stats['requests']} requests from 20 users in {seconds:.0f} s, "
          f"p50 {stats['p50_ms']:.0f} ms, p95 {stats['p95_ms']:.0f} ms, RSS {stats['rss_mb'][0]:.0f}→{stats['rss_mb'][-1]:.0f} MB")  # fmt: skip
    assert stats["errors"] == [] and stats["requests"] >= 20
    warm = stats["rss_mb"][len(stats["rss_mb"]) // 3 :]
    assert max(warm) - min(warm) < 60  # flat: no growth with requests once warmed up
    assert rss_mb(proc.pid) < 1500


def test_overload_is_turned_away_not_queued_forever(index_env):
    from gradio_client import Client

    env = {**index_env, "IPQA_UI_QUEUE_SIZE": "2", "IPQA_UI_CONCURRENCY": "1"}
    with running_ui(env) as (url, _proc):
        outcomes: list[str] = []
        lock = threading.Lock()

        def user() -> None:
            try:
                Client(url, verbose=False).predict("x " * 900, "", api_name="/ask")  # long but valid input
                result = "answered"
            except Exception as exc:
                result = f"turned away: {exc}"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=user) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        busy = [o for o in outcomes if o.startswith("turned away")]
        assert len(outcomes) == 16 and busy and "answered" in outcomes
        assert any("full" in o.lower() or "busy" in o.lower() for o in busy), busy[:2]
        assert Client(url, verbose=False).predict("PPH", "", api_name="/ask")["answer"]  # still serving


def test_a_build_while_the_ui_serves_does_not_disturb_answers(tmp_path, corpus_copy):
    """Answers in flight during `ipqa build --force` on the UI's own index stay correct."""
    import subprocess
    import sys

    from gradio_client import Client

    from ipqa.engine import build
    from ipqa.settings import Settings

    s = Settings.load(corpus_dir=corpus_copy, index_dir=tmp_path / "index")
    build(s)
    env = {"IPQA_INDEX_DIR": str(s.index_dir), "IPQA_CORPUS_DIR": str(s.corpus_dir)}
    q = "How long does Japan's patent office take to examine AI inventions?"
    with running_ui(env) as (url, _proc):
        client = Client(url, verbose=False)
        expected = client.predict(q, "", api_name="/ask")["answer"]
        answers: list[str] = []
        done = threading.Event()

        def ask_forever() -> None:
            c = Client(url, verbose=False)
            while not done.is_set():
                answers.append(c.predict(q, "", api_name="/ask")["answer"])

        worker = threading.Thread(target=ask_forever)
        worker.start()
        try:
            r = subprocess.run([sys.executable, "-m", "ipqa.cli", "build", "--force"], capture_output=True,
                               env={**os.environ, **env}, timeout=300)  # fmt: skip
            assert r.returncode == 0, r.stderr
            time.sleep(1.0)
        finally:
            done.set()
            worker.join(timeout=60)
        assert len(answers) >= 5 and set(answers) == {expected}

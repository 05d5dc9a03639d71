"""The UI server under test: no file leaks, loopback only, no CORS for strangers, server-side
limits, steady under load, and a bounded queue that turns requests away when full; only its own
host names, no cross-origin posts, bounded uploads, clear API errors, and extractive answers that
never wait behind a slow language model."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

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

    from ipqa.building import build
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


# ---------------------------------------------------------------- raw HTTP helpers


def _request(url: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             declared_length: int | None = None) -> tuple[int, bytes, dict]:  # fmt: skip
    """One request with exactly these headers (Host and Origin included) over http.client.
    With `declared_length`, that Content-Length is announced and only `body` is sent."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        headers = dict(headers or {})
        skip_host = any(k.lower() == "host" for k in headers)
        conn.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        if body is not None and not any(
            k.lower() in ("content-length", "transfer-encoding") for k in headers
        ):
            headers["Content-Length"] = str(declared_length if declared_length is not None else len(body))
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # refused before it was read
                conn.send(body)
        r = conn.getresponse()
        return r.status, r.read(), {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()


def _multipart(*files: tuple[str, bytes]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = b""
    for name, data in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"  # fmt: skip
    return out + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def _call_ask(url: str, data: list, headers: dict | None = None) -> tuple[str, object]:
    """POST /gradio_api/call/ask {"data": data}, then read its event stream: (event, data)."""
    status, body, _ = _request(url, "POST", "/gradio_api/call/ask", json.dumps({"data": data}).encode(),
                               {"Content-Type": "application/json", **(headers or {})})  # fmt: skip
    assert status == 200, (status, body[:200])
    event_id = json.loads(body)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/ask/{event_id}", timeout=120) as r:
        event = None
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line.split(":", 1)[1])
    raise AssertionError("the event stream ended without a result")


# ---------------------------------------------------------------- (7) uploads: same origin, bounded, switchable


UPLOAD_MB = 1  # a small limit, so over-limit bodies stay cheap


@pytest.fixture(scope="module")
def upload_server(index_env, tmp_path_factory):
    """A UI with uploads on, a 1 MB limit and its own Gradio temp folder (to see what gets stored)."""
    temp = tmp_path_factory.mktemp("gradio-temp")
    env = {**index_env, "IPQA_MAX_UPLOAD_MB": str(UPLOAD_MB), "GRADIO_TEMP_DIR": str(temp)}
    with running_ui(env) as (url, _proc):
        yield url, temp


def test_cross_origin_upload_is_refused_and_nothing_stored(upload_server):
    url, temp = upload_server
    body, ctype = _multipart(("evil.bin", b"x" * 10_000))
    before = _files_under(temp)
    for origin in ("http://evil.example", "null", f"http://evil.example:{urlsplit(url).port}",
                   "http://127.0.0.1:1"):  # fmt: skip
        status, _, headers = _request(url, "POST", "/gradio_api/upload", body,
                                      {"Content-Type": ctype, "Origin": origin})  # fmt: skip
        assert status == 403 and "access-control-allow-origin" not in headers, (origin, status)
    status, _, _ = _request(url, "POST", "/gradio_api/upload", body,
                            {"Content-Type": ctype, "Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert status == 403
    assert _files_under(temp) == before
    own = url.rstrip("/")
    status, reply, _ = _request(
        url, "POST", "/gradio_api/upload", body, {"Content-Type": ctype, "Origin": own}
    )
    assert status == 200 and b"evil.bin" in reply  # the page's own uploads still work


def test_cross_origin_posts_in_general_are_refused(server):
    url, _ = server
    q = json.dumps({"data": ["How does Japan protect trade secrets?", "", None]}).encode()
    for path in ("/gradio_api/call/ask", "/gradio_api/queue/join", "/gradio_api/call/v2/ask"):
        status, _, headers = _request(url, "POST", path, q, {"Content-Type": "application/json",
                                                             "Origin": "http://evil.example"})  # fmt: skip
        assert status == 403 and "access-control-allow-origin" not in headers, (path, status)
    event, data = _call_ask(
        url, ["How does Japan protect trade secrets?", "", None], {"Origin": url.rstrip("/")}
    )
    assert event == "complete" and "[1]" in data[0]["answer"]  # same origin: answered


def test_upload_size_limit_is_enforced(upload_server):
    """Over the limit → 413 and nothing stored: one big file, a file just over the limit in MB (Gradio
    alone counts MiB), several files each under the limit but together over it, and a body sent
    without a length (counted as it comes: not allowed on the upload route)."""
    url, temp = upload_server
    limit = UPLOAD_MB * 1_000_000
    before = _files_under(temp)
    for files in ([("big.bin", b"a" * (limit * 3))], [("just-over.bin", b"b" * (limit + 20_000))],
                  [("half1.bin", b"c" * (limit * 6 // 10)), ("half2.bin", b"d" * (limit * 6 // 10))]):  # fmt: skip
        body, ctype = _multipart(*files)
        status, _, _ = _request(url, "POST", "/gradio_api/upload", body, {"Content-Type": ctype})
        assert status == 413, ([f[0] for f in files], status)
    body, ctype = _multipart(("huge.bin", b"e" * 100_000))  # announces 100 MB, sends 100 KB
    status, _, _ = _request(url, "POST", "/gradio_api/upload", body, {"Content-Type": ctype},
                            declared_length=100_000_000)  # fmt: skip
    assert status == 413
    chunk = b"f" * 50_000
    body, ctype = _multipart(("chunked.bin", chunk))
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    status, _, _ = _request(url, "POST", "/gradio_api/upload", chunked,
                            {"Content-Type": ctype, "Transfer-Encoding": "chunked"})  # fmt: skip
    assert status in (411, 413)
    assert _files_under(temp) == before
    body, ctype = _multipart(("fits.bin", b"g" * (limit - 1000)))
    status, _, _ = _request(url, "POST", "/gradio_api/upload", body, {"Content-Type": ctype})
    assert status == 200  # a file within the limit is taken


def test_other_request_bodies_are_bounded_too(server):
    url, _ = server
    status, _, _ = _request(url, "POST", "/gradio_api/queue/join", b"{}", {"Content-Type": "application/json"},
                            declared_length=50_000_000)  # fmt: skip
    assert status == 413
    big = json.dumps({"data": ["x" * 3_000_000, "", None]}).encode()
    chunked = f"{len(big):x}\r\n".encode() + big + b"\r\n0\r\n\r\n"
    status, _, _ = _request(url, "POST", "/gradio_api/call/ask", chunked,
                            {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})  # fmt: skip
    assert status == 413


def test_server_internals_are_not_callable(server):
    """Gradio's startup route would start a second queue loop if anyone could call it again."""
    url, _ = server
    for path in ("/gradio_api/startup-events", "/docs", "/redoc"):
        status, body, _ = _request(url, "GET", path)
        assert status in (403, 404) or body.strip() == b"false", (path, status, body[:80])


def test_upload_route_is_gone_when_uploads_are_off(index_env, tmp_path):
    env = {**index_env, "IPQA_UI_UPLOADS": "0", "GRADIO_TEMP_DIR": str(tmp_path)}
    with running_ui(env) as (url, _proc):
        body, ctype = _multipart(("doc.txt", b"hello"))
        for headers in ({}, {"Origin": url.rstrip("/")}):
            status, _, _ = _request(
                url, "POST", "/gradio_api/upload", body, {"Content-Type": ctype, **headers}
            )
            assert status in (403, 404), status
        assert _files_under(tmp_path) == set()
        status, page, _ = _request(url, "GET", "/config")
        assert status == 200 and b"ipqa-upload" not in page


# ---------------------------------------------------------------- (10) only the server's own host names


def test_foreign_host_header_is_refused_dns_rebinding(server):
    url, _ = server
    port = urlsplit(url).port
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.nip.io:{port}", f"localhost.:{port}",
                 f"127.0.0.1:{port + 1}", f"user@127.0.0.1:{port}"):  # fmt: skip
        for method, path, body in (("GET", "/", None), ("GET", "/config", None),
                                   ("POST", "/gradio_api/call/ask", b'{"data": ["q", "", null]}')):  # fmt: skip
            headers = {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/json"}
            status, _, got = _request(url, method, path, body, headers)
            assert status in (400, 403), (host, path, status)
            assert "access-control-allow-origin" not in got and "access-control-allow-credentials" not in got
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}"):
        status, _, got = _request(url, "GET", "/config", headers={"Host": host, "Origin": f"http://{host}"})
        assert status == 200, host
        assert got.get("access-control-allow-origin") in (None, f"http://{host}")


def test_extra_host_names_are_opt_in(index_env):
    args = ("--allow-host", "ipqa.internal", "--allow-host", "ipqa.proxy:443")
    with running_ui(index_env, args) as (url, _proc):
        port = urlsplit(url).port
        for host, status in ((f"ipqa.internal:{port}", 200), ("ipqa.proxy:443", 200),
                             (f"other.internal:{port}", 400), (f"ipqa.proxy:{port}", 400)):  # fmt: skip
            assert _request(url, "GET", "/config", headers={"Host": host})[0] == status, host


# ---------------------------------------------------------------- (14) clear API errors


def test_api_call_with_one_value_answers(server):
    """POST /gradio_api/call/ask {"data": ["q"]}: the omitted `previous` and `docs` take their
    defaults (Gradio refused the short list, and with show_error off said only {"error": null})."""
    url, _ = server
    event, data = _call_ask(url, ["q"])
    assert event == "complete" and data[0]["refused"] and data[0]["question"] == "q"
    event, data = _call_ask(url, ["How long does Japan's patent office take to examine AI inventions?"])
    assert event == "complete" and not data[0]["refused"] and "6 months" in data[0]["answer"]
    event, data = _call_ask(url, ["How does Japan protect trade secrets?", ""])
    assert event == "complete" and "[1]" in data[0]["answer"]


@pytest.mark.parametrize("question", [5, 2.5, True, ["How does Japan protect trade secrets?"], {"q": "x"}])
def test_api_non_text_question_gets_a_clear_error(server, question):
    url, _ = server
    event, data = _call_ask(url, [question, "", None])
    assert event == "complete" and data == [{"error": "question must be text", "refused": True}]


def test_api_bad_previous_or_docs_get_clear_errors(server):
    url, _ = server
    event, data = _call_ask(url, ["How does Japan protect trade secrets?", 7, None])
    assert event == "complete" and data[0]["refused"] and "previous must be text" in data[0]["error"]
    event, data = _call_ask(url, ["How does Japan protect trade secrets?", "", [3]])
    assert event == "complete" and data[0]["refused"] and "docs must be" in data[0]["error"]
    event, data = _call_ask(
        url, ["How does Japan protect trade secrets?", "", "asia-pacific-digital-ip-report"]
    )
    assert event == "complete" and "[1]" in data[0]["answer"]  # one document by name, as text


# ---------------------------------------------------------------- (4) extractive answers never wait behind the LLM


class _Page:
    """One browser tab's side of the chat, over plain HTTP — what Gradio's page script does: join an
    event (POST /gradio_api/queue/join), read the session's event stream, and run the change
    listeners of the states the server reports changed. `ask` returns each completed step's output."""

    def __init__(self, url: str) -> None:
        self.url = url
        with urllib.request.urlopen(url + "config", timeout=30) as r:
            config = json.load(r)
        self.components = {c["id"]: c for c in config["components"]}
        self.deps = config["dependencies"]
        self.session = uuid.uuid4().hex

    def elem(self, elem_id: str) -> int:
        return next(i for i, c in self.components.items() if c.get("props", {}).get("elem_id") == elem_id)

    def listeners(self, target: int, event: str) -> list[dict]:
        return [d for d in self.deps if [target, event] in d["targets"]]

    def ask(self, question: str) -> list[dict]:
        send, box = self.elem("ipqa-send"), self.elem("ipqa-question")
        todo = [(d, send) for d in self.listeners(send, "click")]
        done: list[dict] = []
        while todo:
            dep, trigger = todo.pop(0)
            data = [question if i == box else [] if self.components[i]["type"] == "dropdown" else None
                    for i in dep["inputs"]]  # fmt: skip
            body = {"data": data, "event_data": None, "fn_index": dep["id"], "trigger_id": trigger,
                    "session_hash": self.session}  # fmt: skip
            status, reply, _ = _request(self.url, "POST", "/gradio_api/queue/join", json.dumps(body).encode(),
                                        {"Content-Type": "application/json"})  # fmt: skip
            assert status == 200, reply
            output = self._completed(json.loads(reply)["event_id"])
            done.append(output)
            for state in output.get("changed_state_ids") or []:
                todo += [(d, state) for d in self.listeners(state, "change")]
        return done

    def _completed(self, event_id: str) -> dict:
        with urllib.request.urlopen(
            f"{self.url}gradio_api/queue/data?session_hash={self.session}", timeout=300
        ) as r:
            for raw in r:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed" and msg.get("event_id") == event_id:
                    assert msg.get("success"), msg
                    return msg["output"]
                assert msg.get("msg") != "unexpected_error", msg
        raise AssertionError("the event stream closed before the event completed")


@pytest.fixture(scope="module")
def slow_llm_ui(index_env):
    """A UI whose language model answers only when the test opens `gate` (it never times out first)."""
    from .fake_llm import FakeLLM

    gate = threading.Event()
    with FakeLLM() as llm:

        def script(request: dict) -> dict:
            gate.wait(timeout=240)
            return {"content": "NOT_IN_REPORT"}

        llm.script = script
        env = {**index_env, "IPQA_LLM_URL": llm.url, "IPQA_LLM_MODEL": "scripted", "IPQA_LLM_TIMEOUT": "280"}
        with running_ui(env) as (url, _proc):
            yield url, llm, gate
        gate.set()


SLOW = [
    "How long does Japan's patent office take to examine AI inventions?",
    "How does Japan protect trade secrets?",
]
REFUSED_FIRST = "What is the capital of France?"  # refused by the extractive step: never reaches the model


def _race(slow_ask, quick_ask, llm, gate) -> dict:
    """Two questions held inside the language model, then one refused before any model call: the
    refused one must complete while the two are still waiting for the model."""
    gate.clear()
    seen = len(llm.requests)
    results: dict[str, object] = {}

    def run(name: str, fn, question: str) -> None:
        try:
            results[name] = fn(question)
        except Exception as exc:  # reported by the asserts below
            results[name] = exc

    slow = [threading.Thread(target=run, args=(f"slow{i}", slow_ask, q)) for i, q in enumerate(SLOW)]
    for t in slow:
        t.start()
    deadline = time.monotonic() + 120  # a hang guard, not a speed bound
    while len(llm.requests) < seen + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(llm.requests) == seen + 2, "both slow questions should be waiting for the model"
    quick = threading.Thread(target=run, args=("quick", quick_ask, REFUSED_FIRST))
    quick.start()
    quick.join(timeout=90)  # the hang guard again: without the fix it waits until the gate opens
    finished_first = not quick.is_alive() and not any(f"slow{i}" in results for i in range(2))
    gate.set()
    quick.join(timeout=120)
    for t in slow:
        t.join(timeout=120)
    assert finished_first, "the refused question waited behind the language model"
    assert not isinstance(results["quick"], Exception), results["quick"]
    assert all(not isinstance(results[f"slow{i}"], Exception) for i in range(2)), results
    assert len(llm.requests) == seen + 2  # the refused question never reached the model
    return results


def test_refused_chat_question_does_not_wait_behind_slow_llm(slow_llm_ui):
    url, llm, gate = slow_llm_ui
    results = _race(lambda q: _Page(url).ask(q), lambda q: _Page(url).ask(q), llm, gate)
    assert "ipqa-refusal" in results["quick"][-1]["data"][0]
    for i in range(2):  # the slow ones then finished with the model's reply (a verified refusal here)
        assert "ipqa-draft" not in results[f"slow{i}"][-1]["data"][0]


def test_refused_api_question_does_not_wait_behind_slow_llm(slow_llm_ui):
    from gradio_client import Client

    url, llm, gate = slow_llm_ui

    def api(q: str) -> dict:
        return Client(url, verbose=False).predict(q, "", api_name="/ask")

    results = _race(api, api, llm, gate)
    assert results["quick"]["refused"] and results["quick"].get("mode") != "llm"
    assert all(results[f"slow{i}"]["mode"] == "llm" for i in range(2))

"""ipqa.webguard: host names, origins and body limits, on the ASGI level (the real-server checks are
in test_ui_security.py)."""

from __future__ import annotations

import asyncio

import pytest

from ipqa.webguard import HostPolicy, WebGuard, split_hostport


def test_split_hostport():
    assert split_hostport("LocalHost:7860") == ("localhost", 7860)
    assert split_hostport("[::1]:7860") == ("[::1]", 7860)
    assert split_hostport("example.org") == ("example.org", None)
    for bad in ("", "a b:1", "user@host:1", "host:99999", "host:-1", "[::1", "host:80:80", "http://x"):
        assert split_hostport(bad) is None, bad


def test_loopback_policy():
    p = HostPolicy.for_server("127.0.0.1", 7860)
    for ok in ("127.0.0.1:7860", "localhost:7860", "LOCALHOST:7860", "[::1]:7860"):
        assert p.allows(ok, 80), ok
    for bad in ("attacker.example:7860", "127.0.0.1:7861", "127.0.0.1", "localhost.:7860", "10.0.0.1:7860"):
        assert not p.allows(bad, 80), bad
    assert p.allows_origin("http://127.0.0.1:7860") and p.allows_origin("http://localhost:7860")
    for bad in ("null", "http://evil.example", "http://127.0.0.1:1", "file://", "http://127.0.0.1:7860/x",
                "http://a@127.0.0.1:7860", "ftp://127.0.0.1:7860"):  # fmt: skip
        assert not p.allows_origin(bad), bad


def test_named_and_wildcard_hosts():
    p = HostPolicy.for_server("ipqa.lan", 80, extra=["Docs.Example", "public.example:443", "[::2]"])
    assert p.allows("ipqa.lan", 80) and p.allows("ipqa.lan:80", 80) and p.allows("docs.example", 80)
    assert p.allows_origin("http://ipqa.lan") and not p.allows_origin("https://ipqa.lan")  # 443 ≠ 80
    assert p.allows("public.example", 443) and p.allows_origin("https://public.example")
    assert not p.allows("public.example:80", 80) and p.allows("[::2]:80", 80)
    assert not p.allows("192.168.1.5:80", 80)
    with pytest.raises(ValueError):
        HostPolicy.for_server("127.0.0.1", 80, extra=["not a host"])
    v6 = HostPolicy.for_server("::1", 7860)
    assert v6.allows("[::1]:7860", 80)
    anywhere = HostPolicy.for_server("0.0.0.0", 7860)
    assert anywhere.allows("192.168.1.5:7860", 80) and anywhere.allows("[fe80::1]:7860", 80)
    assert not anywhere.allows("attacker.example:7860", 80) and not anywhere.allows("192.168.1.5:1", 80)


async def _echo(scope, receive, send):
    body = b""
    while True:
        m = await receive()
        body += m.get("body", b"")
        if not m.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"access-control-allow-origin", b"*"), (b"x-len", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": b"ok"})


def _call(guard, method="POST", path="/x", headers=(), chunks=(b"",)):
    sent: list[dict] = []
    pending = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive():
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(m):
        sent.append(m)

    scope = {"type": "http", "method": method, "path": path, "scheme": "http",
             "headers": [(k.lower().encode(), v.encode()) for k, v in [("host", "127.0.0.1:7860"), *headers]]}  # fmt: skip
    asyncio.run(guard(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


@pytest.fixture()
def guard():
    return WebGuard(_echo, HostPolicy.for_server("127.0.0.1", 7860), max_body=100,
                    body_limits={"/up": 1000}, length_required=["/up"], closed=["/off"])  # fmt: skip


def test_guard_status_codes(guard):
    assert _call(guard, "GET")[0] == 200
    assert _call(guard, "POST", headers=[("origin", "http://evil.example")])[0] == 403
    assert _call(guard, "POST", headers=[("sec-fetch-site", "cross-site")])[0] == 403
    assert _call(guard, "POST", headers=[("origin", "http://127.0.0.1:7860")])[0] == 200
    assert _call(guard, "POST", "//off")[0] == 404
    assert _call(guard, "POST", headers=[("content-length", "101")])[0] == 413
    assert _call(guard, "POST", "/up", headers=[("content-length", "1000")], chunks=(b"a" * 1000,))[0] == 200
    assert _call(guard, "POST", "/up", headers=[("transfer-encoding", "chunked")])[0] == 411
    assert _call(guard, "POST", headers=[("content-length", "x")])[0] == 400
    streamed = _call(guard, "POST", headers=[("transfer-encoding", "chunked")], chunks=(b"a" * 60, b"b" * 60))
    assert streamed[0] == 413


def test_guard_host_and_cors(guard):
    sent: list[dict] = []

    async def send(m):
        sent.append(m)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": "/", "scheme": "http",
             "headers": [(b"host", b"attacker.example:7860"), (b"origin", b"http://attacker.example:7860")]}  # fmt: skip
    asyncio.run(guard(scope, receive, send))
    assert sent[0]["status"] == 400 and not any(
        k.startswith(b"access-control") for k, _ in sent[0]["headers"]
    )
    status, headers = _call(guard, "GET", headers=[("origin", "http://evil.example")])
    assert status == 200 and b"access-control-allow-origin" not in headers  # stripped for strangers
    status, headers = _call(guard, "GET", headers=[("origin", "http://localhost:7860")])
    assert headers[b"access-control-allow-origin"] == b"*"  # own origins: the app decides

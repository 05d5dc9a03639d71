"""ASGI middleware for a web app that serves one machine (or a few named hosts).

`WebGuard` sits in front of the whole app (outermost, so nothing inside can add headers to its
refusals) and, for HTTP and WebSocket requests:

* answers only to the host names the server was started for: a request whose `Host` header names
  any other host gets 400 — a DNS-rebinding page (attacker.example resolving to 127.0.0.1) cannot
  talk to the app;
* refuses state-changing requests (anything but GET/HEAD/OPTIONS) from other web origins with 403:
  an `Origin` header that is present and not one of the server's own origins, or a browser's
  `Sec-Fetch-Site: cross-site`. Requests without an Origin (curl, API clients) are not cross-site
  requests from a browser and pass;
* never lets a response to another origin carry `Access-Control-Allow-*` headers;
* caps request bodies: a declared `Content-Length` over the limit gets 413 before anything is read,
  a body sent without one is counted as it streams (413 when it passes the limit), and paths that
  store what they receive can insist on a declared length (411 otherwise);
* switches paths off entirely (404), e.g. an upload route when uploads are disabled.

Refusals are short text responses that close the connection (an unread body is not drained).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_ADDRESSES = ("", "0.0.0.0", "::")
DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
_HOSTPORT = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$")


def split_hostport(value: str) -> tuple[str, int | None] | None:
    """'LocalHost:7860' → ('localhost', 7860); '[::1]' → ('[::1]', None); None when malformed."""
    m = _HOSTPORT.match(value.strip().lower())
    if not m:
        return None
    port = int(m.group(2)) if m.group(2) else None
    if port is not None and not 0 < port < 65536:
        return None
    return m.group(1), port


def host_name(name: str) -> str:
    """A host as it appears in a Host header: lower case, IPv6 literals in brackets."""
    name = name.strip().lower()
    bare = name.strip("[]")
    try:
        if ipaddress.ip_address(bare).version == 6:
            return f"[{bare}]"
    except ValueError:
        pass
    return name


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class HostPolicy:
    """The (host name, port) pairs a server answers to."""

    hosts: frozenset[tuple[str, int]]
    any_ip_port: int | None = None  # also any IP literal on this port (a server on every interface)

    @classmethod
    def for_server(cls, host: str, port: int, extra: Iterable[str] = ()) -> HostPolicy:
        """Loopback names and the address the server listens on, with its port; and `extra` names
        ('ipqa.lan', or 'ipqa.example.org:443' for a name a proxy serves on another port).

        A server listening on every interface (0.0.0.0 or ::) is reached by this machine's name or
        by any of its addresses, so those are accepted too (on its port). An IP literal cannot be
        rebound: DNS rebinding needs a name the attacker controls."""
        names = set(LOOPBACK_NAMES)
        wildcard = host.strip().strip("[]") in WILDCARD_ADDRESSES
        if wildcard:
            names |= {host_name(socket.gethostname()), host_name(socket.getfqdn())}
        else:
            names.add(host_name(host))
        hosts = {(n, port) for n in names}
        for entry in extra:
            parsed = split_hostport(host_name(entry)) if entry.strip() else None
            if parsed is None:
                if entry.strip():
                    raise ValueError(f"not a host name: {entry!r}")
                continue
            hosts.add((parsed[0], parsed[1] if parsed[1] is not None else port))
        return cls(frozenset(hosts), port if wildcard else None)

    def allows(self, hostport: str, default_port: int) -> bool:
        parsed = split_hostport(hostport)
        if parsed is None:
            return False
        name, port = parsed[0], parsed[1] if parsed[1] is not None else default_port
        return (name, port) in self.hosts or (port == self.any_ip_port and _is_ip_literal(name))

    def allows_origin(self, origin: str) -> bool:
        """Whether a browser's Origin header ('http://127.0.0.1:7860') is one of this server's."""
        scheme, sep, rest = origin.strip().lower().partition("://")
        if not sep or scheme not in ("http", "https") or "/" in rest or "@" in rest:
            return False
        return self.allows(rest, DEFAULT_PORTS[scheme])


class BodyTooLarge(Exception):
    """Raised into the app when a streamed request body passes its limit."""


def _plain(status: int, text: str) -> tuple[Message, Message]:
    body = text.encode()
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


class WebGuard:
    """See the module docstring. `body_limits` and `length_required` and `closed` are path prefixes
    (matched on the decoded path with repeated slashes collapsed); the longest matching prefix in
    `body_limits` sets the limit, otherwise `max_body`."""

    def __init__(
        self,
        app: ASGIApp,
        hosts: HostPolicy,
        *,
        max_body: int = 1_000_000,
        body_limits: Mapping[str, int] | None = None,
        length_required: Iterable[str] = (),
        closed: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.max_body = max_body
        self.body_limits = sorted((body_limits or {}).items(), key=lambda kv: -len(kv[0]))
        self.length_required = tuple(length_required)
        self.closed = tuple(closed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):  # lifespan
            await self.app(scope, receive, send)
            return
        headers: dict[str, list[str]] = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.decode("latin-1").lower(), []).append(v.decode("latin-1"))
        default_port = DEFAULT_PORTS.get(scope.get("scheme", "http"), 80)
        host = headers.get("host", [])
        if len(host) != 1 or not self.hosts.allows(host[0], default_port):
            await self._refuse(
                kind, receive, send, 400, "Unknown host: this server answers only to its own names."
            )
            return
        origins = headers.get("origin", [])
        foreign = any(not self.hosts.allows_origin(o) for o in origins)
        if kind == "websocket":
            if foreign:
                await self._refuse(kind, receive, send, 403, "")
                return
            await self.app(scope, receive, send)
            return
        path = re.sub(r"/{2,}", "/", scope.get("path", "/"))
        if scope["method"] not in SAFE_METHODS and (
            foreign or "cross-site" in headers.get("sec-fetch-site", [])
        ):
            await self._refuse(kind, receive, send, 403, "Cross-origin requests are not accepted.")
            return
        if any(path.startswith(p) for p in self.closed):
            await self._refuse(kind, receive, send, 404, "Not found.")
            return
        limit = next((n for p, n in self.body_limits if path.startswith(p)), self.max_body)
        declared = headers.get("content-length", [])
        if declared:
            if len(set(declared)) != 1 or not declared[0].strip().isdigit():
                await self._refuse(kind, receive, send, 400, "Bad Content-Length.")
                return
            if int(declared[0]) > limit:
                await self._refuse(kind, receive, send, 413, f"Request body larger than {limit} bytes.")
                return
        elif headers.get("transfer-encoding") and any(path.startswith(p) for p in self.length_required):
            await self._refuse(kind, receive, send, 411, "Content-Length required.")
            return
        await self._guarded(scope, receive, send, limit, strip_cors=bool(origins) and foreign)

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, limit: int, strip_cors: bool
    ) -> None:
        seen = 0
        too_large = False
        started = False

        async def counting_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    too_large = True
                    raise BodyTooLarge(f"request body larger than {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if too_large:  # whatever the app makes of the error, the client gets 413
                if message["type"] == "http.response.start" and not started:
                    started = True
                    for m in _plain(413, f"Request body larger than {limit} bytes."):
                        await send(m)
                return
            if message["type"] == "http.response.start":
                started = True
                if strip_cors:
                    message["headers"] = [
                        (k, v)
                        for k, v in message.get("headers", [])
                        if not k.lower().startswith(b"access-control-allow-")
                    ]
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not too_large:
                raise
        if too_large and not started:
            for m in _plain(413, f"Request body larger than {limit} bytes."):
                await send(m)

    @staticmethod
    async def _refuse(kind: str, receive: Receive, send: Send, status: int, text: str) -> None:
        if kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # before accept: the server sends 403
            return
        for m in _plain(status, text):
            await send(m)

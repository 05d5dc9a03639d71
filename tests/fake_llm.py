"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API and replies from a
script, so the real client (LangChain's ChatOpenAI over httpx) is exercised end to end."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any]  # {"content": str} | {"status": int} | {"sleep": s, ...} | {"raw": bytes}


def passages(request: dict) -> list[str]:
    user = request["messages"][-1]["content"]
    block = user.split("<<<PASSAGES", 1)[1].split("PASSAGES>>>", 1)[0]
    return [p.split("\n", 1)[1] for p in re.split(r"\n\n(?=Passage \d+ — )", block.strip())]


def passage_number(request: dict, needle: str) -> int:
    """The [n] of the passage that contains needle (what a faithful model would cite)."""
    for n, text in enumerate(passages(request), 1):
        if needle in text:
            return n
    raise AssertionError(f"no passage contains {needle!r}")


class FakeLLM:
    def __init__(self) -> None:
        self.script: Callable[[dict], Reply] = lambda req: {"content": "NOT_IN_REPORT"}
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self._reply()

            def _reply(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(body)
                reply = outer.script(body)
                if "sleep" in reply:
                    time.sleep(reply["sleep"])
                if "status" in reply:
                    self.send_response(reply["status"])
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    message = reply.get("message", "scripted failure")
                    self.wfile.write(json.dumps({"error": {"message": message}}).encode())
                    return
                if "raw" in reply:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(reply["raw"])
                    return
                content = reply["content"]
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in re.findall(r"\S+\s*", content):
                        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}  # fmt: skip
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                        time.sleep(reply.get("delay", 0))
                    end = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                           "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                    return
                out = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

"""Start ui.py as a real server on a free loopback port (shared by the UI tests and scripts)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_ui(
    env_extra: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    cwd: Path | None = None,
    timeout: float = 120,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """ui.py serving on a free port; `cwd` is where it runs (its default folders are there)."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env_extra or {})}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "ui.py"), "--port", str(port), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    with serving(
        proc,
        "ui.py",
        lambda: _status(url) == 200,
        lambda: proc.stdout.read() if proc.stdout else "",
        timeout=timeout,
    ):
        yield url, proc


def _status(url: str) -> int | None:
    with urllib.request.urlopen(url, timeout=2) as r:
        return r.status


@contextmanager
def serving(proc: subprocess.Popen, name: str, ready: Callable[[], bool], output: Callable[[], str],
            timeout: float = 120) -> Iterator[None]:  # fmt: skip
    """Wait until a server process is `ready` (connection errors count as not yet), then stop it
    on exit; if it dies first, fail with what it printed."""
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited early:\n{output()}")
            try:
                if ready():
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer within {timeout:g} s")
            time.sleep(0.3)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

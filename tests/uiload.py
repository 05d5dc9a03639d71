"""A bounded load generator for the chat UI's server (loopback only): N simulated users asking
questions in a loop for a fixed time. Used by tests/test_ui_security.py (short) and bench/load.py."""

from __future__ import annotations

import statistics
import threading
import time
from pathlib import Path

QUESTIONS = [
    "How long does Japan's patent office take to examine AI inventions?",
    "How does Japan protect trade secrets?",
    "What is the capital of France?",
    "How big is South Korea's data trading market?",
    "PPH",
    "What does Singapore require of fintech companies before a full licence?",
    "japan patnt ofice ai examnation how lnog",
    "Compare Japan and South Korea on dispute resolution.",
]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_load(url: str, users: int, seconds: float, server_pid: int | None = None) -> dict:
    from gradio_client import Client

    assert url.startswith(("http://127.0.0.1:", "http://localhost:")), "load only ever targets loopback"
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    memory: list[float] = []

    def user(n: int) -> None:
        client = Client(url, verbose=False)
        i = n
        while time.monotonic() < deadline:
            q = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            t0 = time.perf_counter()
            try:
                r = client.predict(q, "", api_name="/ask")
                ok = isinstance(r, dict) and "answer" in r
                with lock:
                    latencies.append((time.perf_counter() - t0) * 1000)
                    if not ok:
                        errors.append(f"bad reply: {str(r)[:80]}")
            except Exception as exc:  # counted, reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if server_pid:
            memory.append(rss_mb(server_pid))
        time.sleep(1.0)
    lat = sorted(latencies)
    return {
        "users": users,
        "seconds": seconds,
        "requests": len(lat),
        "errors": errors,
        "p50_ms": statistics.median(lat) if lat else None,
        "p95_ms": lat[int(0.95 * (len(lat) - 1))] if lat else None,
        "rss_mb": memory,
    }

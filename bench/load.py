"""Load on the chat UI: 20 simulated users asking questions for 60 s on loopback (bounded).

Prints requests, errors, p50/p95 latency and the server's memory over the run.
Usage: .venv/bin/python bench/load.py [--users 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.uiload import run_load
from tests.uiserver import running_ui


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    with running_ui() as (url, proc):
        s = run_load(url, args.users, args.seconds, server_pid=proc.pid)
    mem = s["rss_mb"]
    print(f"{s['users']} users for {s['seconds']:.0f} s: {s['requests']} answers "
          f"({s['requests'] / s['seconds']:.1f}/s), {len(s['errors'])} errors")  # fmt: skip
    print(f"latency p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms")
    print(f"server RSS: start {mem[0]:.0f} MB, after 10 s {mem[min(10, len(mem) - 1)]:.0f} MB, "
          f"end {mem[-1]:.0f} MB, max {max(mem):.0f} MB")  # fmt: skip
    for e in s["errors"][:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()

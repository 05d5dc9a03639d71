"""ipqa vs the textbook LangChain pipeline, same questions, one invocation, alternating runs.

Measures, for both: a cold `ask` (a new process per question: wall time and peak RSS), and the
per-question latency in batch mode (model loaded once). Prints a table with the ratios ipqa/textbook.
ipqa's numbers include answering (sentence selection, refusal checks, grounding); the textbook
pipeline only retrieves 4 passages. Usage:  .venv/bin/python bench/bench.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache"
PY = sys.executable
IPQA = [PY, "-m", "ipqa.cli"]
TEXTBOOK = [PY, str(ROOT / "bench" / "textbook.py")]


def run_measured(cmd: list[str], stdin: bytes | None = None) -> tuple[float, float, bytes]:
    """(wall seconds, peak RSS in MB, stdout) of one child process, from its own rusage."""
    import tempfile

    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout:
        fin.write(stdin or b"")
        fin.seek(0)
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise RuntimeError(f"{cmd[:4]} failed with {proc.returncode}")
        fout.seek(0)
        return wall, usage.ru_maxrss / 1024, fout.read()


def questions(n: int, english: bool = True) -> list[str]:
    from ipqa.language import detect

    rows = [json.loads(line) for f in sorted((ROOT / "eval" / "labelled").glob("*.jsonl"))
            for line in f.open(encoding="utf-8") if line.strip()]  # fmt: skip
    qs = [r["question"] for r in rows if "register" in r and (detect(r["question"]) == "en") == english]
    return (qs * (n // len(qs) + 1))[:n]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7, help="cold runs per tool (alternating)")
    ap.add_argument("--batch", type=int, default=200, help="questions in batch mode")
    args = ap.parse_args()
    env_note = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"

    subprocess.run([*IPQA, "build"], check=True, stderr=subprocess.DEVNULL)
    tb_dir = CACHE / "textbook"
    if not (tb_dir / "index.faiss").exists():
        subprocess.run([*TEXTBOOK, "build", str(tb_dir)], check=True, stderr=subprocess.DEVNULL)

    qs = questions(max(args.runs, args.batch))
    cold: dict[str, list[tuple[float, float]]] = {"ipqa": [], "textbook": []}
    for i in range(args.runs):  # alternate, so drift on the machine hits both alike
        q = qs[i]
        w, rss, _ = run_measured([*IPQA, "ask", q])
        cold["ipqa"].append((w, rss))
        w, rss, _ = run_measured([*TEXTBOOK, "ask", str(tb_dir), q])
        cold["textbook"].append((w, rss))

    cjk = questions(args.runs, english=False)  # Chinese, Japanese, Korean: ipqa only
    cold_cjk = [run_measured([*IPQA, "ask", q]) for q in cjk]

    batch_in = ("\n".join(qs[: args.batch]) + "\n").encode()
    _, ipqa_rss_b, out = run_measured([*IPQA, "ask", "--json", "-"], batch_in)
    ipqa_ms = [json.loads(line)["timings_ms"]["total"] for line in out.decode().splitlines()]
    _, tb_rss_b, out = run_measured([*TEXTBOOK, "batch", str(tb_dir)], batch_in)
    tb_ms = [json.loads(line)["ms"] for line in out.decode().splitlines()]

    def cold_stats(name: str) -> tuple[float, float, float, float]:
        walls = [w for w, _ in cold[name]]
        return statistics.median(walls), min(walls), max(walls), max(r for _, r in cold[name])

    ic, tc = cold_stats("ipqa"), cold_stats("textbook")
    rows = [
        ("cold ask, median (s)", ic[0], tc[0]),
        ("cold ask, min (s)", ic[1], tc[1]),
        ("cold ask, max (s)", ic[2], tc[2]),
        ("cold ask, peak RSS (MB)", ic[3], tc[3]),
        ("batch, per question median (ms)", statistics.median(ipqa_ms), statistics.median(tb_ms)),
        ("batch, per question p99 (ms)", pct(ipqa_ms, 0.99), pct(tb_ms, 0.99)),
        ("batch, peak RSS (MB)", ipqa_rss_b, tb_rss_b),
    ]
    print(
        f"Machine: {env_note}; {args.runs} cold runs each (alternating), {args.batch} questions in batch.\n"
    )
    print("| measure | ipqa | textbook LangChain | ipqa / textbook |")
    print("|---|---:|---:|---:|")
    for name, a, b in rows:
        print(f"| {name} | {a:.3g} | {b:.3g} | {a / b:.2f} |")
    walls = [w for w, _, _ in cold_cjk]
    print(
        f"\nCold ask of a question in Chinese, Japanese or Korean (ipqa only, {len(walls)} runs): median "
        f"{statistics.median(walls):.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
        f"{statistics.median(walls) / ic[0]:.2f} × the English cold ask; peak RSS "
        f"{max(r for _, r, _ in cold_cjk):.0f} MB."
    )


if __name__ == "__main__":
    main()

"""Build cost with documents of every format, in one invocation: times and peak memory, as ratios
against building the shipped report alone (the baseline, measured in the same run).

Cases, each a fresh child process (`ipqa build`) so its peak RSS is its own:
  report                the report alone, from nothing                       (baseline)
  report+fixtures       the report and one PDF, DOCX, HTML and Markdown file  (from nothing)
  unchanged             the same corpus again: nothing changed
  one added             one more Markdown file added to it
  500-page PDF          a generated 500-page PDF alone, from nothing

Usage:  .venv/bin/python bench/build_docs.py [--pages 500]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import docfixtures as fx  # noqa: E402

REPORT = ROOT / "corpus" / "asia-pacific-digital-ip-report.txt"


def build(corpus: Path, index: Path) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, last log line) of one `ipqa build` child process."""
    code = (
        "import resource, sys\n"
        "from ipqa.cli import main\n"
        "rc = main(['build'])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, file=sys.stdout)\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "IPQA_CORPUS_DIR": str(corpus), "IPQA_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    wall = time.perf_counter() - t0
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    return wall, float(r.stdout.strip().splitlines()[-1]), lines[-1] if lines else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=500)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "c1").mkdir()
        shutil.copy(REPORT, t / "c1" / REPORT.name)
        rows.append(("report", *build(t / "c1", t / "i1")))
        (t / "c2").mkdir()
        shutil.copy(REPORT, t / "c2" / REPORT.name)
        fx.make_pdf(t / "c2" / "indonesia.pdf")
        fx.make_docx(t / "c2" / "vietnam.docx")
        fx.make_html(t / "c2" / "thailand.html")
        fx.make_markdown(t / "c2" / "malaysia.md")
        rows.append(("report+fixtures", *build(t / "c2", t / "i2")))
        rows.append(("unchanged", *build(t / "c2", t / "i2")))
        (t / "c2" / "extra.md").write_text("# Extra\n\nLaos joined the Madrid Protocol in 2016.\n")
        rows.append(("one added", *build(t / "c2", t / "i2")))
        (t / "c3").mkdir()
        t0 = time.perf_counter()
        fx.make_big_pdf(t / "c3" / "big.pdf", pages=args.pages)
        gen = time.perf_counter() - t0
        size = (t / "c3" / "big.pdf").stat().st_size / 1e6
        rows.append((f"{args.pages}-page PDF", *build(t / "c3", t / "i3")))
    base_t, base_m = rows[0][1], rows[0][2]
    print(f"{'case':18} {'seconds':>8} {'× report':>9} {'peak MB':>8} {'× report':>9}")
    for name, wall, mem, _ in rows:
        print(f"{name:18} {wall:8.1f} {wall / base_t:9.2f} {mem:8.0f} {mem / base_m:9.2f}")
    print(f"\n(the {args.pages}-page PDF, {size:.1f} MB, was generated in {gen:.1f} s, not counted)")
    for name, *_, last in rows:
        print(f"{name}: {last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time to answer in the chat UI, as a person sees it: from clicking Ask to the answer on screen.

Starts ui.py on a free loopback port, opens it in headless Chromium, waits until the page is ready,
asks 20 varied questions one after another and prints the median, min and max (and the first).
Usage: .venv/bin/python bench/ui_latency.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.uiserver import running_ui

QUESTIONS = [
    "How long does Japan's patent office take to examine AI inventions?",
    "How does Japan protect trade secrets?",
    "And Korea?",
    "What is the capital of France?",
    "How big is South Korea's data trading market?",
    "What did Japan revise in its Copyright Law in 2023?",
    "PPH",
    "How many fintech companies have R&D centres in Singapore?",
    "What does Singapore require of fintech companies before a full licence?",
    "Compare Japan and South Korea on dispute resolution.",
    "What is Vietnam's penalty for trade-secret theft?",
    "What share of Singapore's 2023 data breaches came from inadequate protection?",
    "Summarize how South Korea protects AI algorithms and models.",
    "How much did the Digital Innovation 2030 plan invest?",
    "What was seized in Operation Clean Network?",
    "How many IoT device security certifications did Singapore complete in 2023?",
    "What will the RCEP IP chapter implementation rules do?",
    "Which companies lead in 5nm and 3nm chips in Taiwan?",
    "japan patnt ofice ai examnation how lnog",
    "What should enterprises do about trade secret protection?",
]


def main() -> None:
    from playwright.sync_api import sync_playwright

    with running_ui() as (url, _proc), sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
        )
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector(".ipqa-intro")
        page.locator(".ipqa-example").first.wait_for()
        times = []
        for n, q in enumerate(QUESTIONS, 1):
            page.fill("#ipqa-question textarea", q)
            t0 = time.perf_counter()
            page.click("#ipqa-send")
            page.wait_for_selector(f'.ipqa-turn[data-turn="{n}"] .ipqa-a', timeout=60_000)
            times.append((time.perf_counter() - t0) * 1000)
        browser.close()
    print(f"UI time to answer over {len(times)} questions (click → answer rendered):")
    print(f"  first {times[0]:.0f} ms, median {statistics.median(times):.0f} ms, "
          f"min {min(times):.0f} ms, max {max(times):.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()

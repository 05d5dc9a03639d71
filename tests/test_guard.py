"""Standing rules, enforced: no unpickling, no public share links, no server on all interfaces."""

from __future__ import annotations

import re
import subprocess

from .conftest import ROOT

FORBIDDEN = [
    (r"pickle\.loads?\(", "unpickling"),
    (r"allow_dangerous_deserialization", "LangChain's pickle loading"),
    (r"share\s*=\s*True", "a public Gradio share link"),
    (
        r"""(?:server_name|host)\s*[:=]\s*(?:str\s*=\s*)?["']0\.0\.0\.0["']""",
        "a server on all interfaces by default",
    ),
    (r"allow_pickle\s*=\s*True", "numpy pickle loading"),
]


def _sources() -> list[str]:
    out = subprocess.run(["git", "ls-files", "*.py", "*.sh", "scripts/*", ".ci/*"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    return sorted({*out, *untracked} - {"tests/test_guard.py"})


def test_the_source_tree_has_none_of_the_forbidden_patterns():
    hits = []
    for rel in _sources():
        text = (ROOT / rel).read_text(encoding="utf-8", errors="replace")
        for pattern, why in FORBIDDEN:
            for m in re.finditer(pattern, text):
                line = text.count("\n", 0, m.start()) + 1
                hits.append(f"{rel}:{line}: {why}: {m.group(0)}")
    assert hits == []


def test_the_guard_itself_catches_them(tmp_path):
    sample = "x = pickle.load(f)\ndemo.launch(share=True, server_name='0.0.0.0')\n"
    found = {why for pattern, why in FORBIDDEN if re.search(pattern, sample)}
    assert found == {"unpickling", "a public Gradio share link", "a server on all interfaces by default"}

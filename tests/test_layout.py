"""The README's layout names every module, and a long module says at its top why it is long."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "ipqa"


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Layout") :]
    return "\n".join(line for line in section.splitlines() if line.startswith("|"))  # the table


def _modules() -> set[str]:
    files = {p.name for p in SRC.glob("*.py") if p.name != "__init__.py"}
    packages = {f"{p.name}/" for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    return files | packages


def test_the_readme_layout_names_every_module_and_only_those():
    named = set(re.findall(r"`(?:\.\./)?([a-z_]+(?:\.py|/))`", _layout()))
    named.discard("ui.py")  # at the project root
    assert _modules() - named == set(), "modules the README's layout does not name"
    assert named - _modules() == set(), "the README's layout names modules that do not exist"


def test_a_long_module_says_why_at_its_top():
    long_ = [p for p in SRC.rglob("*.py") if len(p.read_text(encoding="utf-8").splitlines()) > 420]
    for p in [*long_, ROOT / "ui.py"]:
        head = "\n".join(p.read_text(encoding="utf-8").splitlines()[:15])
        assert "Why " in head and "long" in head, f"{p.relative_to(ROOT)} is long without saying why"

"""Readers' feedback on answers, kept on this machine as JSON Lines.

The chat UI records a thumbs up, a thumbs down or a "wrong citation" for an answer in
`<folder>/feedback.jsonl`, where `folder` is the data folder, `data/` next to the index folder
(`ipqa.settings.data_folder`, which `ipqa eval`'s report uses too). Nothing is sent anywhere.
One entry per line, appended with a single O_APPEND write, so concurrent writers never
interleave inside a line. `print_feedback` summarises the file (for `ipqa feedback`).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ipqa.settings import data_folder

FILE_NAME = "feedback.jsonl"
RATINGS = ("up", "down", "wrong-citation")
MAX_TEXT = 4000  # characters kept of any one text field
MAX_CITATIONS = 20
_TEXT_FIELDS = ("question", "searched", "answer", "comment")
_CITATION_FIELDS = {"marker": int, "doc": str, "section": str, "start": int, "end": int, "quote": str}


def folder_for(settings: Any) -> Path:
    """The data folder (`data/` beside the index folder): where the UI keeps feedback."""
    return data_folder(Path(settings.index_dir))


def clean(entry: Any) -> dict[str, Any]:
    """A feedback entry reduced to known fields of the right types (ValueError when unusable)."""
    if not isinstance(entry, dict):
        raise ValueError("feedback must be an object")
    rating = entry.get("rating")
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {', '.join(RATINGS)}")
    out: dict[str, Any] = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "rating": rating,
    }
    for key in _TEXT_FIELDS:
        value = entry.get(key)
        if isinstance(value, str) and value:
            out[key] = value[:MAX_TEXT]
    if isinstance(entry.get("refused"), bool):
        out["refused"] = entry["refused"]
    marker = entry.get("marker")
    if isinstance(marker, int) and not isinstance(marker, bool):
        out["marker"] = marker
    citations = entry.get("citations")
    if isinstance(citations, list):
        kept = []
        for c in citations[:MAX_CITATIONS]:
            if not isinstance(c, dict):
                continue
            kept.append(
                {
                    k: (c[k][:MAX_TEXT] if t is str else c[k])
                    for k, t in _CITATION_FIELDS.items()
                    if isinstance(c.get(k), t) and not isinstance(c.get(k), bool)
                }
            )
        out["citations"] = kept
    if rating == "wrong-citation" and "marker" not in out:
        raise ValueError("a wrong-citation report needs the citation's marker")
    return out


def record(folder: str | os.PathLike[str], entry: dict[str, Any]) -> Path:
    """Append `entry` as one JSON line to `<folder>/feedback.jsonl` (created with the folder)."""
    path = Path(folder) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)  # one write: O_APPEND places it whole at the end
    finally:
        os.close(fd)
    return path


def read(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every well-formed entry of the feedback file, oldest first (none when there is no file)."""
    path = Path(folder) / FILE_NAME
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            entries.append(value)
    return entries


def print_feedback(folder: str | os.PathLike[str], as_json: bool = False) -> int:
    """Print the feedback collected in `folder`: counts, then one line per entry (or JSON). Exit code."""
    entries = read(folder)
    if as_json:
        print(json.dumps(entries, ensure_ascii=False, indent=2))
        return 0
    path = Path(folder) / FILE_NAME
    if not entries:
        print(f"No feedback yet ({path}).")
        return 0
    counts = Counter(e.get("rating") for e in entries)
    print(
        f"{len(entries)} feedback entr{'y' if len(entries) == 1 else 'ies'} in {path}: "
        + ", ".join(f"{counts.get(r, 0)} {r}" for r in RATINGS)
    )
    symbol = {"up": "+", "down": "-", "wrong-citation": "!"}
    for e in entries:
        line = f"{symbol.get(e.get('rating'), '?')} {e.get('time', '')[:16]}  {e.get('question', '')}"
        if e.get("rating") == "wrong-citation":
            cited = next((c for c in e.get("citations", []) if c.get("marker") == e.get("marker")), {})
            line += f"  [{e.get('marker')}] {cited.get('section', '')}".rstrip()
        print(line)
    sys.stdout.flush()
    return 0

"""The labelled questions (eval/labelled/*.jsonl) and their fixed train / dev / test split.

The split is a hash of the normalised question, so it never changes when files are reordered or
questions are added, and the same question can never sit in two splits. Training fits on train,
every choice (regularisation, calibration, thresholds) is made on dev, and only the report and the
CI gate read test.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ipqa.model import INTENTS, KINDS

SPLITS = ("train", "dev", "test")
NOT_ANSWERABLE = {"near-miss", "false-premise", "out-of-domain"}
EXTRA_INTENTS = "intents_extra.jsonl"  # intent-only examples (no answer labels)
EXTRA_KINDS = "kinds_extra.jsonl"  # kind-only examples: questions on any subject, no answer labels
UNANSWERED_FILES = (EXTRA_INTENTS, EXTRA_KINDS)  # examples without answer labels


def split_of(question: str) -> str:
    key = " ".join(question.lower().split()).encode("utf-8")
    bucket = int(hashlib.sha256(key).hexdigest()[:8], 16) % 100
    return "train" if bucket < 60 else "dev" if bucket < 80 else "test"


def load_labelled(folder: Path) -> list[dict[str, Any]]:
    """Every labelled question, each with its `split` and `source` (file stem)."""
    items: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.jsonl")):
        if path.name not in UNANSWERED_FILES:
            items += load_labelled_file(path)
    return items


def load_labelled_file(path: Path) -> list[dict[str, Any]]:
    items = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                item = json.loads(line)
                item["split"] = split_of(item["question"])
                item["source"] = path.stem
                items.append(item)
    return items


def load_extra_intents(folder: Path) -> list[dict[str, Any]]:
    return _load_extra(folder / EXTRA_INTENTS)


def load_extra_kinds(folder: Path) -> list[dict[str, Any]]:
    """Questions labelled only with the kind of quantity they ask for. The kind classifier reads a
    question's form, not its subject, so these are about anything but the documents."""
    return _load_extra(folder / EXTRA_KINDS)


def _load_extra(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    for r in rows:
        r["split"] = split_of(r["question"])
    return rows


REGISTERS = ("report everyday typo vague near-miss false-premise out-of-domain injection non-english").split()
# A labelled question has an answer shape; "followup" exists only in the intent-only examples.
QUESTION_INTENTS = tuple(i for i in INTENTS if i != "followup")
KEYS = ("id", "question", "register", "intent", "kind", "answerable", "evidence", "answer_facts")
LANGUAGES = ("en", "zh", "ja", "ko")  # optional key "language"; absent means English


def language_of(item: dict[str, Any]) -> str:
    """The labelled language, else the one its script shows."""
    from ipqa.language import detect

    return item.get("language") or detect(item["question"])


def problems(item: dict[str, Any], sentences: set[str]) -> list[str]:
    """What is wrong with one labelled question (empty when it is well-formed).

    Evidence must be whole document sentences, and every answer fact must stand in the evidence.
    """
    out = [f"missing {k}" for k in KEYS if k not in item]
    if out:
        return out
    if item["register"] not in REGISTERS:
        out.append(f"register {item['register']!r}")
    if item["intent"] not in QUESTION_INTENTS:
        out.append(f"intent {item['intent']!r}")
    if item["kind"] not in KINDS:
        out.append(f"kind {item['kind']!r}")
    if language_of(item) not in LANGUAGES:
        out.append(f"language {item['language']!r}")
    if item["register"] in NOT_ANSWERABLE and item["answerable"]:
        out.append("register says unanswerable but answerable is true")
    if not isinstance(item["question"], str) or not item["question"].strip():
        out.append("empty question")
    for ev in item["evidence"]:
        if ev not in sentences:
            out.append(f"evidence is not a whole document sentence: {ev[:70]!r}")
    if item["answerable"]:
        if not item["evidence"] or not item["answer_facts"]:
            out.append("answerable without evidence or answer_facts")
        joined = " ".join(item["evidence"]).lower()
        for group in item["answer_facts"]:
            if not isinstance(group, list) or not group:
                out.append(f"fact group {group!r} is not a non-empty list")
            elif not all(f.lower() in joined for f in group):
                out.append(f"fact group {group!r}: some alternative is not in the evidence")
    elif item["evidence"] or item["answer_facts"]:
        out.append("unanswerable item with evidence or answer_facts")
    return out

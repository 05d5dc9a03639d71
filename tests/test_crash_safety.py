"""A build killed with SIGKILL at any moment never leaves a mixed or broken index.

The build mechanics are tested on a tiny corpus made here, built by `tests.hashbuild` (the real
`build_index` with a deterministic hashing encoder instead of the neural models), so that each of
the many killed builds takes a fraction of a second. The index starts as the build of corpus A;
every killed build rebuilds it from corpus B (one document changed, one added). After a kill the
index must be exactly A's or exactly B's — told apart because each is stale against the other
corpus — and whole; the next build must clean up after the killed one. One end-to-end test kills
a real build of the real report and compares the answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ipqa import index as ipqa_index
from ipqa.chunking import ChunkerParams
from ipqa.errors import BuildLockedError, IndexError_
from ipqa.index import REQUIRED_FILES, current_generation, load_index
from ipqa.retrieval import Retriever

from .hashbuild import HashEncoder
from .hashbuild import build as hash_build

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ChunkerParams()

# Every fault point of `build_index`, in the order the build reaches them, and which index a kill
# there must leave: A (the previous generation) until CURRENT names the new one, B from then on.
NAMED = {
    "locked": "A",
    "tmp-created": "A",
    "chunks-written": "A",
    "sentences-written": "A",
    "lexicon-written": "A",
    "bm25-written": "A",
    "vectors-written": "A",
    "faiss-written": "A",
    "before-manifest": "A",
    "manifest-written": "A",
    "before-rename": "A",
    "renamed": "A",  # the new generation is in place, but CURRENT still names the old one
    "switched": "B",
    "cleaned": "B",
}
# Kill moments as fractions of a whole build's duration (measured in this module, from the moment
# the child has finished its imports, so the kills fall inside `build_index` itself); denser
# towards the end, where the files are written and fsynced and CURRENT is switched.
TIMED = [0.0, 0.15, 0.3, 0.45, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0]
QUERIES = [
    "How are software patents examined in Brazil?",
    "What penalties apply to trade secret theft in Kenya?",
    "Norway database protection term",
    "Chile customs seizures",
]

DOC_ALPHA_A = """1 Overview
Brazil protects computer programs through its Software Law of 1998. Registration with the national institute is optional but helps as evidence.

2 Patents
The Brazilian patent office examines software-related inventions in about seven years. A fast-track route for green technology cuts this to two years.

3 Penalties
Infringers of software copyright in Brazil face fines and up to four years in prison.
"""
DOC_ALPHA_B = (
    DOC_ALPHA_A
    + """
4 Databases
Norway grants databases a sui generis right that lasts fifteen years from completion. Substantial investment in obtaining the contents is required.
"""
)
DOC_BETA = """# Kenya briefing

## Trade secrets
Kenya protects trade secrets through the common law of confidence. Employees owe a duty of confidentiality during and after employment.

## Penalties
Courts in Nairobi may award damages and grant injunctions against misuse of confidential information.
"""
DOC_GAMMA = """1 Border measures
Chile allows right holders to ask customs to suspend the release of suspected counterfeit goods. Customs may act on its own initiative for registered trademarks.
"""


def _write_corpus(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _state(idx: ipqa_index.LoadedIndex) -> dict:
    """What an index holds and answers: documents, records, vectors, and searches over it."""
    enc = HashEncoder()
    retriever = Retriever(idx)
    searches = {
        q: [(h.chunk.id, round(h.score, 9)) for h in retriever.search(q, enc.encode([q])[0], k=5)]
        for q in QUERIES
    }
    vectors = hashlib.sha256()
    for arr in (idx.sentence_vectors, idx.sentence_vectors_ml):
        vectors.update(np.ascontiguousarray(arr).tobytes())
    return {
        "documents": [
            (d["doc"], d["sha256"], d["sentences"], d["chunks"]) for d in idx.manifest["documents"]
        ],
        "counts": idx.manifest["counts"],
        "texts": idx.doc_texts,
        "chunks": idx.chunks,
        "sentences": idx.sentences,
        "vectors": vectors.hexdigest(),
        "faiss": (idx.faiss_index.ntotal, idx.faiss_ml.ntotal),
        "searches": searches,
    }


def _leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("."))


def _generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))


class World:
    """Corpora A and B, and the state of a clean build of each (checked to differ)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.corpus = {
            "A": _write_corpus(root / "corpus-A", {"alpha.txt": DOC_ALPHA_A, "beta.md": DOC_BETA}),
            "B": _write_corpus(
                root / "corpus-B", {"alpha.txt": DOC_ALPHA_B, "beta.md": DOC_BETA, "gamma.txt": DOC_GAMMA}
            ),
        }
        self.index = {}
        self.state = {}
        for name in ("A", "B"):
            self.index[name] = root / f"index-{name}"
            hash_build(self.corpus[name], self.index[name])
            self.state[name] = _state(load_index(self.index[name], self.corpus[name], PARAMS))

    def fresh_index(self, dst: Path) -> Path:
        """A private copy of A's index for one test to kill builds in."""
        shutil.copytree(self.index["A"], dst)
        return dst

    def which(self, index_dir: Path) -> str:
        """The one corpus ("A" or "B") the index loads against, after checking it is that
        corpus's complete index. Fails if it loads against neither (broken) or both."""
        loads = {}
        for name in ("A", "B"):
            try:
                loads[name] = load_index(index_dir, self.corpus[name], PARAMS)
            except IndexError_ as exc:
                assert "stale" in str(exc), f"index unreadable against corpus {name}: {exc}"
        assert len(loads) == 1, f"the index loads against {sorted(loads) or 'no corpus'}"
        ((name, idx),) = loads.items()
        assert _state(idx) == self.state[name], f"the index claims to be {name}'s but differs from it"
        return name


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    w = World(tmp_path_factory.mktemp("crash"))
    assert w.state["A"] != w.state["B"]
    return w


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("IPQA_FAULT_AT", "HASHBUILD_HOLD")}
    return {**env, "HF_HUB_OFFLINE": "1", **extra}


def _hashbuild_cmd(corpus: Path, index_dir: Path) -> list[str]:
    return [sys.executable, "-m", "tests.hashbuild", str(corpus), str(index_dir)]


def _then_a_clean_build(world: World, index_dir: Path) -> None:
    """The next build takes the lock a killed build held, removes what it left, and leaves one
    generation: B's."""
    hash_build(world.corpus["B"], index_dir)
    assert _leftovers(index_dir) == [".build.lock"]
    assert _generations(index_dir) == [current_generation(index_dir).name]
    assert world.which(index_dir) == "B"


def test_every_fault_point_of_the_build_is_tested():
    src = Path(ipqa_index.__file__).read_text(encoding="utf-8")
    assert re.findall(r'fault_point\("([^"]+)"\)', src) == list(NAMED)


@pytest.mark.parametrize("point", list(NAMED))
def test_kill_at_each_build_step(world, tmp_path, point):
    index_dir = world.fresh_index(tmp_path / "index")
    r = subprocess.run(
        _hashbuild_cmd(world.corpus["B"], index_dir),
        env=_env(IPQA_FAULT_AT=point),
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert r.returncode == -signal.SIGKILL, r.stderr.decode(errors="replace")
    assert world.which(index_dir) == NAMED[point]
    left = _leftovers(index_dir)
    assert set(left) <= {".build.lock"} | {n for n in left if n.startswith(".tmp-gen-")}, left
    assert len(left) <= 2, left  # the lock file and at most this build's temporary folder
    _then_a_clean_build(world, index_dir)


@pytest.fixture(scope="module")
def build_seconds(world, tmp_path_factory) -> float:
    """How long `build_index` takes to rebuild B in a child process: from its `ready` line to its
    `done` line (the mean of two builds)."""
    index_dir = world.fresh_index(tmp_path_factory.mktemp("timing") / "index")
    durations = []
    for _ in range(2):
        proc = subprocess.Popen(
            _hashbuild_cmd(world.corpus["B"], index_dir), env=_env(), cwd=ROOT, stdout=subprocess.PIPE
        )
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        t0 = time.perf_counter()
        for line in proc.stdout:
            if line == b"done\n":
                durations.append(time.perf_counter() - t0)
        assert proc.wait(timeout=120) == 0
        proc.stdout.close()
    assert len(durations) == 2
    return sum(durations) / len(durations)


@pytest.mark.parametrize("fraction", TIMED)
def test_kill_at_arbitrary_moments(world, build_seconds, tmp_path, fraction):
    index_dir = world.fresh_index(tmp_path / "index")
    proc = subprocess.Popen(
        _hashbuild_cmd(world.corpus["B"], index_dir), env=_env(), cwd=ROOT, stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline() == b"ready\n"
        time.sleep(fraction * build_seconds)
        proc.send_signal(signal.SIGKILL)
    finally:
        rc = proc.wait(timeout=120)
        proc.stdout.close()
    assert rc in (0, -signal.SIGKILL)
    outcome = world.which(index_dir)
    assert rc == -signal.SIGKILL or outcome == "B"  # a build that finished left B
    left = _leftovers(index_dir)
    stray = [n for n in left if n != ".build.lock" and not n.startswith((".tmp-gen-", ".CURRENT.tmp-"))]
    assert not stray, left
    _then_a_clean_build(world, index_dir)


def test_a_concurrent_build_is_refused(world, tmp_path):
    """While one build holds the lock (paused inside its embedding), `ipqa build` is refused with
    one line and exit code 2, and a build in this process with BuildLockedError; the first build
    then finishes."""
    index_dir = world.fresh_index(tmp_path / "index")
    hold = tmp_path / "hold"
    hold.mkdir()
    first = subprocess.Popen(
        _hashbuild_cmd(world.corpus["B"], index_dir),
        env=_env(HASHBUILD_HOLD=str(hold)),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not (hold / "holding").exists():
            assert first.poll() is None, first.stderr.read() if first.stderr else b""
            assert time.monotonic() < deadline, "the first build never reached its embedding"
            time.sleep(0.01)
        env = _env(IPQA_CORPUS_DIR=str(world.corpus["B"]), IPQA_INDEX_DIR=str(index_dir))
        second = subprocess.run(
            [sys.executable, "-m", "ipqa.cli", "build", "--force"], env=env, capture_output=True, timeout=120
        )
        assert second.returncode == 2, second.stderr
        assert b"another `ipqa build` is running" in second.stderr and b"Traceback" not in second.stderr
        with pytest.raises(BuildLockedError):
            hash_build(world.corpus["B"], index_dir)
        assert world.which(index_dir) == "A"  # refused builds changed nothing
    finally:
        (hold / "release").touch()
        rc = first.wait(timeout=120)
    assert rc == 0, first.stderr.read() if first.stderr else b""
    assert world.which(index_dir) == "B"
    assert _leftovers(index_dir) == [".build.lock"] and len(_generations(index_dir)) == 1


def test_manifest_lists_every_file_with_its_checksum(world):
    gen = current_generation(world.index["A"])
    m = json.loads((gen / "manifest.json").read_text())
    on_disk = {str(p.relative_to(gen)) for p in gen.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(m["files"]) == on_disk
    assert set(REQUIRED_FILES) <= on_disk
    for name, digest in m["files"].items():
        assert hashlib.sha256((gen / name).read_bytes()).hexdigest() == digest, name


# ---------------------------------------------------------------- end to end, real model

QUESTIONS = [
    "How long does Japan's patent office take to examine AI inventions?",
    "How big is South Korea's data trading market?",
    "What is the capital of France?",
]


def _answers(engine) -> list[dict]:
    out = []
    for q in QUESTIONS:
        a = engine.ask(q).to_json()
        a.pop("timings_ms")
        out.append(a)
    return out


@pytest.mark.slow
def test_a_real_build_killed_with_its_new_generation_in_place_changes_no_answer(engine, settings, tmp_path):
    """The real report, the real models: `ipqa build --force` killed once its new generation is
    renamed into place but before CURRENT is switched; answers stay exactly the baseline's."""
    from ipqa.engine import Engine
    from ipqa.settings import Settings

    expected = _answers(engine)  # the session's index of the report
    index_dir = tmp_path / "index"
    shutil.copytree(settings.index_dir, index_dir)
    s = Settings.load(corpus_dir=settings.corpus_dir, index_dir=index_dir)
    env = _env(IPQA_CORPUS_DIR=str(s.corpus_dir), IPQA_INDEX_DIR=str(index_dir), IPQA_FAULT_AT="renamed")
    r = subprocess.run(
        [sys.executable, "-m", "ipqa.cli", "build", "--force"], env=env, capture_output=True, timeout=600
    )
    assert r.returncode == -signal.SIGKILL, r.stderr.decode(errors="replace")
    assert len(_generations(index_dir)) == 2  # the killed build got as far as its new generation
    assert _answers(Engine(s)) == expected


def test_an_old_generation_half_removed_is_still_ipqas(world, tmp_path, monkeypatch):
    """Removing an old generation can be cut short at any file (a kill): what is left must still
    be marked as ipqa's, so that the next build removes it. (A plain rmtree could take the marker
    first; killed then, it left a folder no build would touch.)"""
    import ipqa.index as ix

    index_dir = world.fresh_index(tmp_path / "index")
    (live,) = _generations(index_dir)
    old = index_dir / "gen-old"  # an earlier generation, not the live one
    shutil.copytree(index_dir / live, old)
    (old / ix.MARKER).write_text("gen-old\n", encoding="utf-8")
    assert ix._is_ours(old)
    real_unlink = Path.unlink
    calls: list[str] = []

    def killed_part_way(self, *args, **kwargs):
        calls.append(self.name)
        if len(calls) > 2:
            raise KeyboardInterrupt  # stands for the kill
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", killed_part_way)
    with pytest.raises(KeyboardInterrupt):
        ix._discard(old)
    monkeypatch.undo()
    left = [p for p in index_dir.iterdir() if p.name.endswith("gen-old")]
    assert left and len(calls) == 3 and all(ix._is_ours(p) for p in left)
    _then_a_clean_build(world, index_dir)

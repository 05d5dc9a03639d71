"""The textbook LangChain RAG retrieval, as a peer to compare against.

RecursiveCharacterTextSplitter(1000, 200) → all-MiniLM-L6-v2 → FAISS (L2, flat) → top 4: what the
LangChain tutorials build. It is reproduced with the same splitter class, the same model and FAISS
directly, so nothing has to be pickled (LangChain's FAISS.load_local would need pickle).
"""

from __future__ import annotations

import numpy as np

from ipqa.corpus import Document
from ipqa.embedding import DIM, Encoder

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4


class TextbookRetriever:
    def __init__(self, docs: list[Document], encoder: Encoder) -> None:
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        self.chunks: list[str] = [c for d in docs for c in splitter.split_text(d.text)]
        self.encoder = encoder
        self.index = faiss.IndexFlatL2(DIM)
        self.index.add(encoder.encode(self.chunks))

    def search(self, question: str, k: int = TOP_K) -> list[str]:
        q = self.encoder.encode([question]).astype(np.float32)
        _, ids = self.index.search(q, k)
        return [self.chunks[i] for i in ids[0] if i >= 0]

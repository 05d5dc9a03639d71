"""The thin LangChain adapter: ipqa's retriever and answer chain as LangChain Runnables.

Only this module imports langchain_core, so the rest of ipqa (and `ipqa ask`) stays free of it,
while anyone composing LangChain pipelines can drop ipqa in:

    from ipqa.lc import IpqaRetriever, answer_chain
    docs = IpqaRetriever(engine=engine).invoke("How long does patent examination take?")
    answer = answer_chain(engine).invoke("How long does patent examination take?")
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from ipqa.contract import Answer
from ipqa.engine import Engine


class IpqaRetriever(BaseRetriever):
    """Hybrid (or dense / BM25) retrieval over the ipqa index, as LangChain Documents."""

    engine: Any  # ipqa.engine.Engine (Any: pydantic need not validate it)
    k: int = 5
    mode: str = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        engine: Engine = self.engine
        hits = engine.search(query, k=self.k, mode=self.mode)
        return [
            Document(
                page_content=h.chunk.text,
                metadata={
                    "doc": h.chunk.doc,
                    "section": h.chunk.section,
                    "chunk_id": h.chunk.id,
                    "start": h.chunk.start,
                    "end": h.chunk.end,
                    "score": h.score,
                    "rank": h.rank,
                },
            )
            for h in hits
        ]


def answer_chain(engine: Engine) -> Runnable[str, Answer]:
    """question → cited `Answer`, the same value `ipqa.ask()` returns."""
    return RunnableLambda(engine.ask, name="ipqa_answer")

"""The word bridge with the real multilingual encoder, on sentences made here."""

from __future__ import annotations

import pytest

from ipqa.crosslingual import WordBridge, pieces, vocabulary
from ipqa.embedding import multilingual_encoder
from ipqa.entities import Gazetteer, build_gazetteer
from ipqa.features import CONTEXT_CHUNKS

SENTENCES = [
    "The patent office granted more patents to foreign applicants this year.",
    "A trademark can be renewed every ten years for a fee.",
    "Trade secrets are protected against misappropriation by former employees.",
    "The football team won the league.",
    "Exporters in Chile pay a customs duty on copper.",
]


def made(min_similarity: float, encode=None) -> WordBridge:
    """A bridge as the engine makes one from an index: the words and vectors a build stores."""
    words = vocabulary(SENTENCES, Gazetteer(build_gazetteer()))
    enc = multilingual_encoder()
    return WordBridge(words, enc.encode(words), encode or enc.encode, min_similarity)


@pytest.fixture(scope="module")
def bridge() -> WordBridge:
    return made(0.6)


def test_the_vocabulary_is_the_documents_words_less_places_stopwords_and_numbers():
    words = vocabulary([*SENTENCES, "Rates rose 12% in 2024 across Chile."], Gazetteer(build_gazetteer()))
    assert {"patent", "trademark", "secrets", "copper", "rates"} <= set(words)
    assert "chile" not in words  # a place, matched by name elsewhere
    assert not {"the", "this", "can", "in"} & set(words)
    assert not any(not w.isalpha() or len(w) < 3 for w in words)
    assert words == sorted(set(words))


def test_pieces_cover_each_cjk_run_and_ignore_latin():
    got = pieces("AI专利 申请")
    assert "专利" in got and "申请" in got
    assert not any("AI" in p for p in got)
    assert "利 申" not in got  # a piece never spans two runs
    assert pieces("How long does a patent last?") == []


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("外国企业的专利申请多吗？", "patent"),
        ("商标多久续展一次？", "trademark"),
        ("영업비밀은 어떻게 보호되나요?", "secrets"),
        ("商標の更新料はいくらですか？", "trademark"),
    ],
)
def test_a_question_in_another_language_finds_the_documents_word(bridge, question, word):
    assert word in bridge.english_words(question)


def test_only_the_documents_words_are_lent_and_never_a_place(bridge):
    vocabulary = {w for s in SENTENCES for w in s.lower().replace(".", "").split()}
    got = bridge.english_words("智利的铜出口要交关税吗？")
    assert got and set(got) <= vocabulary
    assert "chile" not in got
    assert "the" not in bridge.english_words("这个和那个")  # stopwords are never lent


def test_an_english_question_costs_nothing(bridge):
    fresh = made(0.6, encode=lambda texts: (_ for _ in ()).throw(AssertionError("encoded")))
    assert fresh.english_words("What does a trademark cost?") == []


def test_the_similarity_floor_decides(bridge):
    everything, nothing = made(0.0), made(1.0)
    question = "专利申请"
    assert len(everything.english_words(question)) >= len(bridge.english_words(question)) > 0
    assert nothing.english_words(question) == []


def test_the_engine_lends_a_chinese_question_the_reports_words(engine):
    lent = engine.bridge.english_words("韩国对泄露商业秘密的处罚有多重？")
    assert "secrets" in lent or "secret" in lent
    said = {w.lower().strip(".,;:()“”\"'") for s in engine.index.sentences for w in s.text.split()}
    assert set(lent) <= said  # only words the report uses


@pytest.mark.parametrize(
    "question",
    [
        "韩国对泄露商业秘密的处罚有多重？",
        "日本の量子コンピューティングの特許出願はどれくらい増えましたか？",
        "손흥민은 어느 팀에서 뛰나요?",
    ],
)
def test_lent_words_choose_sentences_but_never_decide_whether_to_answer(engine, question):
    _, searched, qvec, _ = engine.prepare(question)
    assert searched == question  # the question as asked is what is searched and decided on
    hits = engine.retriever.search(searched, qvec, k=max(engine.settings.top_k, CONTEXT_CHUNKS))
    unbridged = engine.composer.decide(searched, qvec, hits)
    answer = engine.ask(question)
    assert answer.refused == unbridged.refused
    assert answer.support == round(unbridged.probability, 4)
    if not answer.refused:
        assert answer.citations

"""The grounding checker accepts faithful sentences and rejects each kind of corruption."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ipqa.embedding import query_encoder
from ipqa.grounding import answer_sentences, check_answer

Q1 = "In trade secret protection, Japan has established a complete protection system centered on the “Unfair Competition Prevention Act.”"
Q2 = "The Japan Patent Office established a fast-track examination channel for AI inventions, reducing the examination period to an average of 6 months."


@dataclass(frozen=True)
class C:
    marker: int
    quote: str


CITS = [C(1, Q1), C(2, Q2)]


@pytest.fixture(scope="module")
def enc():
    return query_encoder()


@pytest.mark.parametrize(
    "answer",
    [
        f"{Q1} [1] {Q2[:-1]} [2].",
        "According to the report, the Japan Patent Office cut the examination period for AI inventions to an average of 6 months [2].",
        "The Japan Patent Office established a fast-track examination channel for AI inventions [2].",
    ],
)
def test_faithful_answers_pass(enc, answer):
    verdicts = check_answer(answer, CITS, enc)
    assert verdicts and all(v.supported for v in verdicts), [v.reasons for v in verdicts]


@pytest.mark.parametrize(
    "answer,reason",
    [
        (
            "The Japan Patent Office reduced the examination period for AI inventions to an average of 9 months [2].",
            "figure",
        ),
        (
            "The Korean Intellectual Property Office established a fast-track examination channel for AI inventions [2].",
            "name",
        ),
        (
            "Japan has established a complete protection system centered on the “Trade Secret Protection Act.” [1]",
            "name",
        ),
        (
            "The Japan Patent Office has not established a fast-track examination channel for AI inventions [2].",
            "negation",
        ),
        (f"{Q2[:-1]} [1].", "too little"),  # right sentence, wrong marker
        ("Japan banned foreign AI patents in 2022 [2].", "figure"),  # invented
        ("Japan is a leader in AI patents.", "cites nothing"),
        (f"{Q2[:-1]} [7].", "does not exist"),
    ],
)
def test_corruptions_are_caught(enc, answer, reason):
    (v,) = check_answer(answer, CITS, enc)
    assert not v.supported
    assert any(reason in r for r in v.reasons), v.reasons


def test_markers_after_a_closing_quote_stay_with_their_sentence():
    text = "Japan relies on the “Unfair Competition Prevention Act.” [1] Korea acts fast [2]."
    assert answer_sentences(text) == [
        "Japan relies on the “Unfair Competition Prevention Act.” [1]",
        "Korea acts fast [2].",
    ]


def test_every_extractive_answer_is_grounded(engine):
    for q in [
        "How do Japan and South Korea protect trade secrets?",
        "What is the size of South Korea's data trading market?",
    ]:
        ans = engine.ask(q)
        assert ans.grounding and all(v.supported for v in ans.grounding)
        assert len(ans.grounding) == len(answer_sentences(ans.answer))
        # and the same check, on the same answer with one figure changed, catches it: the verdicts
        # above come from a checker that can say no
        import re

        figure = re.search(r"\d+", ans.answer.split("[")[0]) or re.search(r"\d+", ans.answer)
        assert figure, ans.answer
        changed = ans.answer[: figure.start()] + str(int(figure.group()) + 7) + ans.answer[figure.end() :]
        verdicts = check_answer(changed, ans.citations, engine.encoder)
        assert not all(v.supported for v in verdicts)

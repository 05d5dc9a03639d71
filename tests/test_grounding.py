"""The grounding checker accepts faithful sentences and rejects each kind of corruption."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ipqa.embedding import query_encoder
from ipqa.grounding import answer_sentences, check_answer, check_sentence

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


QUALIFIED = "Brazil's patent office established a fast-track route in 2022, and filings through it exceeded 4,000 a year."


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("Brazil's patent office established a fast-track route in 2022, with at most 4,000 filings a year.",
         "upper bound"),
        ("Brazil's patent office plans to establish a fast-track route, with over 4,000 filings a year.",
         "planned or expected"),
        ("Brazil's patent office must establish a fast-track route for all 4,000 filings a year.", "required"),
        ("All filings at Brazil's patent office went through the fast-track route established in 2022.",
         "all of it"),
        ("Brazil's patent office established its second fast-track route in 2022.", "an order"),
    ],
)  # fmt: skip
def test_a_changed_qualifier_is_caught(claim, why):
    v = check_sentence(f"{claim[:-1]} [1].", [QUALIFIED], None)
    assert not v.supported
    assert any(why in r for r in v.reasons), v.reasons


def test_a_faithful_paraphrase_keeps_its_qualifiers():
    claim = "In 2022 Brazil's patent office set up a fast-track route, and more than 4,000 filings a year went through it [1]."
    v = check_sentence(claim, [QUALIFIED], None)
    assert v.supported, v.reasons


def test_a_plan_stated_as_done_is_caught():
    quote = "Kenya's trade ministry plans to open an IP mediation centre in Nairobi in 2026."
    v = check_sentence(
        "Kenya's trade ministry opened an IP mediation centre in Nairobi in 2026 [1].", [quote], None
    )
    assert not v.supported
    assert any("planned or expected, not done" in r for r in v.reasons)


def test_an_acronym_is_supported_by_its_words_written_out():
    quote = "Norway's intellectual property office publishes artificial intelligence guidelines every year."
    ok = check_sentence("Norway's IP office publishes AI guidelines every year [1].", [quote], None)
    assert ok.supported, ok.reasons
    bad = check_sentence("Norway's IP office publishes ML guidelines every year [1].", [quote], None)
    assert not bad.supported


def test_directions_are_found_in_english_and_in_cjk_questions():
    from ipqa.grounding import directions

    assert directions("Why did the agency scrap its fast track?") == {"stopped"}
    assert directions("Exports fell by half") == {"fell"}
    assert directions("東京地裁が制度を廃止してから、どう変わりましたか？") == {"stopped"}
    assert directions("韩国出口为什么下滑了？") == {"fell"}
    assert directions("한일 정보 공유가 중단된 뒤로 어떻게 하나요?") == {"stopped"}
    assert directions("日本在数据这块有什么规定？") == set()
    assert directions("The office opened a new channel in 2023.") == set()


def test_phrasal_verbs_state_a_direction_and_their_words_alone_do_not():
    from ipqa.grounding import directions

    assert directions("Why has the agency given up on the scheme?") == {"stopped"}
    assert directions("Why did both countries pull out of the agreement?") == {"stopped"}
    assert directions("They scaled back the subsidy.") == {"fell"}
    assert directions("Firms give their staff training and pull data from logs.") == set()

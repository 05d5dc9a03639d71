from __future__ import annotations

from ipqa.text import Speller, answer_type, has_type, numbers, places_named, premise_words, terms, words


def test_numbers_are_canonical():
    assert numbers("over 1,200 firms, six months, 2.8 trillion yen and 35%") >= {"1200", "6", "2.8", "35"}


def test_places():
    assert places_named("How does Japan’s JPO compare with Korea's KIPO?") == (
        {"Japan", "South Korea"},
        set(),
    )
    assert places_named("What is Vietnam's penalty?")[1] == {"vietnam"}


def test_answer_types():
    assert answer_type("How long does the JPO take?") == "duration"
    assert answer_type("What are the trademark fees in Singapore?") == "money"
    assert answer_type("What share of requirements are local?") == "percent"
    assert answer_type("How many SMEs were there?") == "count"
    assert answer_type("Which law applies?") is None
    assert has_type("an average of 6 months", "duration") and not has_type("in 2023", "duration")
    assert has_type("1.5 billion SGD", "money") and not has_type("increased 28% in 2023", "count")


def test_premises_and_terms():
    assert premise_words("Why did Singapore ban AI patents?") == {"stopped": {"ban"}}
    assert terms("examination of patents") == ["examin", "patent"]


def test_speller_maps_typos_to_the_corpus():
    from collections import Counter

    sp = Speller(Counter(words("The Patent Prosecution Highway reduced examination cycles.")))
    assert sp.correct_text("patnt examnation") == "patent examination"
    assert sp.correct_text("zebra") == "zebra"

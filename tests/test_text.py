from __future__ import annotations

from ipqa.text import Speller, numbers, terms, words


def test_numbers_are_canonical():
    assert numbers("over 1,200 firms, six months, 2.8 trillion yen and 35%") >= {"1200", "6", "2.8", "35"}


def test_terms_are_stemmed_content_words():
    assert terms("examination of patents") == ["examin", "patent"]


def test_speller_maps_typos_to_the_corpus():
    from collections import Counter

    sp = Speller(Counter(words("The Patent Prosecution Highway reduced examination cycles.")))
    assert sp.correct_text("patnt examnation") == "patent examination"
    assert sp.correct_text("zebra") == "zebra"

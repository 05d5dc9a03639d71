from __future__ import annotations

from collections import Counter

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


def test_speller_leaves_correct_english_words_alone():
    """A right word the corpus lacks is not a typo of a corpus word one letter away."""
    from collections import Counter

    corpus = Counter(words("Firms keep a fair share of deep markets and sell to themselves."))
    plain = Speller(corpus)
    assert plain.correct_text("fail") == "fair"  # what a corpus-only speller does
    sp = Speller(corpus, known=frozenset({"fail", "kept"}))
    assert sp.correct_text("we fail, they kept") == "we fail, they kept"
    assert sp.correct_text("shar of markts") == "share of markets"


def test_english_vocabulary_comes_from_the_model_package():
    from ipqa.embedding import english_words

    vocab = english_words()
    assert len(vocab) > 15000
    assert {"fail", "keep", "sell", "advice"} <= vocab
    assert not any(w.startswith("##") or not w.isalpha() for w in list(vocab)[:500])


def test_years_said_in_words_become_digits():
    from ipqa.text import spelled_years

    assert spelled_years("in early twenty twenty-four") == "in early 2024"
    assert spelled_years("Twenty-twenty and nineteen ninety-nine") == "2020 and 1999"
    assert spelled_years("two thousand and three, nineteen oh five") == "2003, 1905"
    # counts and durations are not years
    for text in ("twenty five years", "two thousand firms", "twenty-one", "nineteen staff"):
        assert spelled_years(text) == text


def test_speller_leaves_acronyms_alone():
    sp = Speller(Counter(words("The company says the sales of cloud services rose.")))
    assert sp.correct_text("What share goes on SaaS?") == "What share goes on SaaS?"
    assert sp.correct_text("How many CEOs?") == "How many CEOs?"
    assert sp.correct_text("servics and saless") == "services and sales"  # plain typos still fixed
    assert sp.correct_text("SERVICS") == "services"  # a shouted word is no acronym


def test_speller_keeps_forms_of_known_words():
    """An inflected English word is no typo of another corpus word; a typo still gets the corpus's
    spelling, and a form of a corpus word may take the corpus's spelling of the same stem."""
    corpus = Counter(
        words("Customs seized counterfeit faces and holders; MediaTek mediation helps Singapore.")
    )
    known = frozenset({"fake", "folder", "mediate"})
    stems = frozenset(terms(" ".join(corpus)))
    assert Speller(corpus).correct_text("fakes folders") == "faces holders"  # the corpus alone
    sp = Speller(corpus, known, stems)
    assert sp.correct_text("fakes folders") == "fakes folders"
    assert Speller(corpus).correct_text("mediate") == "mediatek"
    assert sp.correct_text("mediate") == "mediate"  # the stem of "mediation" already
    assert sp.correct_text("singapores customs") == "singapore customs"  # the same stem, as written
    assert sp.correct_text("counterfiet") == "counterfeit"  # a typo is still a typo

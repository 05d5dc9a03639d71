"""Acronyms the documents spell out are searched with the documents' phrase beside them."""

from __future__ import annotations

from ipqa.acronyms import Acronyms
from ipqa.text import terms

from .conftest import engine_over

SENTENCES = [
    "Software-as-a-service accounted for 46% of cloud spending in 2024.",
    "Three hydrogen projects reached a final investment decision in 2024.",
    "A final investment decision is expected for two more projects in 2025.",
    "A payment service bank may not lend to its customers.",
    "Each payment service bank must hold capital of 5 billion naira.",
    "Spending on research and development rose by 8 percent.",
    "Our company usually keeps records for five years, and the regulator usually keeps them for ten.",
    "Kenya and South Africa have similar rules.",
    "The Patent Office (PO) publishes applications after 18 months.",
    "In part, the rules follow the European model.",
]


def _places(text: str) -> bool:  # stands in for the gazetteer
    return any(p in text for p in ("Kenya", "South Africa", "UK"))


def _acronyms() -> Acronyms:
    vocabulary = {t.lower() for s in SENTENCES for t in s.replace("(", " ").replace(")", " ").split()}
    return Acronyms(SENTENCES, vocabulary, _places)


def test_an_acronym_the_documents_spell_out_is_searched_with_their_phrase():
    a = _acronyms()
    assert a.expand("What share goes on SaaS?") == "What share goes on SaaS (Software-as-a-service)?"
    assert a.expand("Has any project reached FID yet?") == (
        "Has any project reached FID (final investment decision) yet?"
    )
    assert "(payment service bank)" in a.expand("Can PSBs lend?")  # a plural acronym
    assert "(research and development)" in a.expand("Any tax break for R&D?")  # "&" is "and"


def test_acronyms_the_documents_use_or_cannot_spell_are_left_alone():
    a = _acronyms()
    assert a.expand("When does the PO publish?") == "When does the PO publish?"  # the documents use it
    assert a.expand("Who is the CTO?") == "Who is the CTO?"  # no phrase spells it
    assert a.expand("How are fees set?") == "How are fees set?"  # no acronym at all


def test_chance_phrases_are_not_taken_for_an_acronym():
    a = _acronyms()
    # two letters: "usually keeps" occurs twice, under the three times a two-letter phrase needs;
    # and "UK" names a place, which the gazetteer reads already
    assert a.expand("Is the UK market big?") == "Is the UK market big?"
    assert a.expand("Who sets the UK rules?") == "Who sets the UK rules?"
    # "Kenya and South Africa" spells KSA but names places: a place read into a question changes it
    assert a.expand("How does KSA compare?") == "How does KSA compare?"
    never_a_place = Acronyms(SENTENCES, set(), lambda text: False)
    assert never_a_place.expansion("UK") is None  # twice is not enough for two letters
    # "in part": a phrase does not begin with a function word
    assert a.expand("Is IP covered?") == "Is IP covered?"


def test_an_expansion_adds_the_words_keyword_search_needs():
    assert {"payment", "servic", "bank"} <= set(terms(_acronyms().expand("Can a PSB lend?")))


def test_the_engine_searches_with_the_documents_phrase(tmp_path):
    """A real index and engine: the sentence that spells the acronym out is found and cited."""
    text = (
        "Nigeria payments briefing\n\nLicensing\n\n"
        + " ".join(SENTENCES[3:5])
        + "\n\n"
        + (
            "Fintech firms in Lagos raised 1.2 billion dollars in 2024. Mobile money agents numbered "
            "over one million. The central bank issues licences for switching and processing."
        )
    )
    engine = engine_over(tmp_path, "nigeria.txt", text)
    assert "PSB (payment service bank)" in engine.prepare("Can a PSB give loans to customers?")[1]
    ans = engine.ask("Can a PSB give loans to customers?")
    assert not ans.refused
    assert any("may not lend" in c.quote for c in ans.citations)

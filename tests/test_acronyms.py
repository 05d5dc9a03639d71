"""Acronyms the documents spell out are searched with the documents' phrase beside them."""

from __future__ import annotations

from ipqa.acronyms import Acronyms, spellings, spells
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


def test_a_question_acronym_and_the_phrases_spelling_it_out():
    (term, pattern), *rest = spellings("Did Indonesia's IP office get more filings?")
    assert term == "ip" and not rest
    assert spells(pattern, "The Directorate General of Intellectual Property received 128,400 filings.")
    assert not spells(pattern, "In part, the rules follow the European model.")  # a function word
    assert not spells(pattern, "The office received 128,400 filings.")
    assert spellings("Is IT spending up in the US?") == ()  # common words' spellings: no term
    assert [t for t, _ in spellings("Do SaaS and AI firms file PCT applications?")] == ["saa", "ai", "pct"]


def test_a_sentence_spelling_out_the_questions_acronym_does_not_leave_it_out(tmp_path):
    """A real index: the documents use "IP", one sentence writes it out. A model fitted with
    spelled acronyms does not count the question's "IP" as missing from that sentence; one fitted
    before does. Sentences are ranked on their own words either way."""
    from dataclasses import replace

    from ipqa.features import QUESTION_FEATURES, SENTENCE_COLUMN

    text = (
        "Nigeria trade briefing\n\nFilings\n\n"
        "The Nigerian Intellectual Property Office received 9,000 trademark applications in 2024. "
        "IP courts in Lagos heard 300 cases. Most IP disputes concern trademarks.\n\n"
        "Customs\n\nCustoms officers seized 12,000 counterfeit goods at Apapa port in 2024."
    )
    engine = engine_over(tmp_path, "nigeria.txt", text)
    question = "How many trademark applications did the IP office get in 2024?"
    _, search_q, qvec, _ = engine.prepare(question)
    hits = engine.retriever.search(search_q, qvec, k=8, mode="hybrid")
    f = engine.composer.f
    missing, lex = {}, {}
    for flag in (False, True):
        f.model = replace(f.model, spelled_acronyms=flag)
        _q, cands, X, p, qx = engine.composer.score(search_q, qvec, hits)
        assert "Intellectual Property Office" in cands[int(p.argmax())].sentence.text
        missing[flag] = qx[QUESTION_FEATURES.index("missing_idf_best")]
        lex[flag] = X[:, SENTENCE_COLUMN["lex_sentence"]].tolist()
    assert missing[True] < missing[False]
    assert lex[True] == lex[False]


def test_the_model_file_says_whether_it_was_fitted_with_spelled_acronyms():
    from dataclasses import replace

    from ipqa.model import AnsweringModel, load_model

    shipped = load_model()
    for flag in (False, True):
        assert (
            AnsweringModel.from_json(replace(shipped, spelled_acronyms=flag).to_json()).spelled_acronyms
            is flag
        )
    older = {k: v for k, v in shipped.to_json().items() if k != "spelled_acronyms"}
    assert AnsweringModel.from_json(older).spelled_acronyms is False

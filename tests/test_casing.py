"""Names a question types in lower case are read as the documents write them."""

from __future__ import annotations

from ipqa.casing import Casing

from .conftest import engine_over

SENTENCES = [
    "The Asia-Pacific IP Service Alliance has over 500 member institutions.",
    "Members of the Asia-Pacific IP Service Alliance share patent agency resources.",
    "Singapore passed the Data Protection Act in 2012.",
    "Most firms treat data protection as a compliance cost.",
    "In Korea, the IoT Patent Pool licenses standard-essential patents.",
    "Kolanut Systems won damages against a former distributor.",
    "The court said that Kolanut had registered its software.",
    "Patent examiners in Korea handle AI inventions first.",
]


def _casing() -> Casing:
    return Casing(SENTENCES, ordinary={"patent", "system", "systems", "court", "pool", "in"})


def test_a_name_typed_in_lower_case_is_written_as_the_documents_write_it():
    c = _casing()
    assert (
        c.restore("asia pacific ip service alliance members?") == "Asia-Pacific IP Service Alliance members?"
    )
    assert c.restore("how big is the iot patent pool in korea") == "how big is the IoT Patent Pool in Korea"
    assert (
        c.restore("what did kolanut win?") == "what did Kolanut win?"
    )  # a word the documents only capitalise


def test_what_the_user_capitalised_or_the_documents_write_in_lower_case_is_left_alone():
    c = _casing()
    assert c.restore("Is the PATENT POOL open?") == "Is the PATENT POOL open?"  # capitals the user chose
    assert c.restore("what about data protection act fines") == "what about Data Protection Act fines"
    assert c.restore("is data protection costly?") == "is data protection costly?"  # also in lower case
    assert c.restore("patent examiners?") == "patent examiners?"  # capitalised only to open a sentence
    assert c.restore("in korea?") == "in Korea?"  # "In Korea" is not a name; "Korea" is
    assert c.restore("") == ""


def test_the_engine_reads_a_lower_case_name_as_the_documents_name(tmp_path):
    """A real index and engine: "asia pacific" typed in lower case is the documents' "Asia-Pacific"
    alliance, not the place Asia, and the question is answered from its sentence."""
    text = (
        "Regional IP cooperation briefing\n\n1. Service networks\n\n"
        "Japan has promoted the establishment of the Asia-Pacific IP Service Alliance, which joins "
        "patent agencies, law firms and valuation firms. The Asia-Pacific IP Service Alliance has "
        "over 500 member institutions, with annual service volume above 5 billion USD.\n\n"
        "2. National offices\n\n"
        "The Japan Patent Office examined 240,000 applications in 2023. Korea's patent office cut "
        "its examination time to 10 months. Singapore's office grants patents in about 9 months.\n\n"
        "3. Courts\n\n"
        "Japan's IP High Court hears appeals on patents. Korea created a specialised patent court in "
        "1998. Singapore's High Court has an IP list."
    )
    engine = engine_over(tmp_path, "regional.txt", text)
    question = "how many members does the asia pacific ip service alliance have?"
    assert "Asia-Pacific IP Service Alliance" in engine.prepare(question)[1]
    ans = engine.ask(question)
    assert not ans.refused, ans.answer
    assert any("500 member institutions" in c.quote for c in ans.citations)

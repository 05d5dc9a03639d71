"""Entities found by general means: a gazetteer from maintained data, names, quantities."""

from __future__ import annotations

import pytest

from ipqa.entities import Gazetteer, build_gazetteer, deontic, figures, names, place_covered, years


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer(build_gazetteer())


def _surfaces(gaz, text):
    return [p.surface for p in gaz.places(text)]


def test_places_in_any_case_longest_first(gaz):
    assert _surfaces(gaz, "Is Vietnam's regime stricter than Thailand's?") == ["Vietnam", "Thailand"]
    assert _surfaces(gaz, "data rules singapore") == ["singapore"]
    assert _surfaces(gaz, "North Korea and South Korea") == ["North Korea", "South Korea"]
    assert _surfaces(gaz, "Japanese and Indonesian firms") == ["Japanese", "Indonesian"]


def test_everyday_country_forms(gaz):
    """Acronyms, irregular demonyms and plurals, and a name's distinctive first word."""
    keys = {
        p.surface: p.keys
        for p in gaz.places("The UAE, Emiratis, the Saudis, Saudi law, British and UK firms")
    }
    assert keys["UAE"] == keys["Emiratis"] == frozenset({"country:AE"})
    assert keys["Saudis"] == keys["Saudi"] == frozenset({"country:SA"})
    assert keys["British"] == keys["UK"] == frozenset({"country:GB"})
    # ISO codes and one-word native names are ordinary words; acronyms count only in capitals
    assert gaz.places("Island life: can we uk are the rules the same?") == []
    assert gaz.places("CAN we do it? ARE there rules?") == []


def test_a_name_cut_short_is_a_place_only_when_a_language_names_it(gaz):
    """Thailand gives "Thai" (a language's name); Greenland does not give "green", an ordinary
    word: a question about green bonds or a green light names no place."""
    assert [p.keys for p in gaz.places("Thai law")] == [frozenset({"country:TH"})]
    assert gaz.places("What's the interest rate on the new green bonds?") == []
    assert gaz.places("The Green Hydrogen Action Plan got the green light") == []
    assert _surfaces(gaz, "Greenland and Thailand") == ["Greenland", "Thailand"]


def test_cities_only_when_capitalised(gaz):
    assert _surfaces(gaz, "an office in Ho Chi Minh City") == ["Ho Chi Minh City"]
    assert gaz.places("a large city with a nice beach") == []


def test_coverage_is_by_specificity(gaz):
    mentioned = [p.keys for p in gaz.places("South Korea and Japan; Korean firms")]
    covered = {
        p.surface: place_covered(p, mentioned, gaz) for p in gaz.places("Korea, North Korea, Osaka, Peru")
    }
    assert covered == {"Korea": True, "North Korea": False, "Osaka": True, "Peru": False}


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("a fine of 200 million dong", {"money"}),
        ("a fine of VND 200 million", {"money"}),
        ("exceeding 5 billion Singapore dollars", {"money"}),
        ("US$5m in damages", {"money"}),
        ("reduced to an average of 6 months", {"duration"}),
        ("within 72 hours", {"duration"}),
        ("up 23% in 2023", {"percent", "year"}),
        ("over 1,200 companies", {"count"}),
        ("no figure at all", set()),
    ],
)
def test_quantity_kinds(gaz, text, kinds):
    assert gaz.kinds(text) == kinds


def test_names_years_figures_advice(gaz):
    text = (
        "In 2023 the “Smart Data 2030” plan of the Ministry of Trade and MegaCorp Holdings cost 1,200 units."
    )
    assert {"smart data 2030", "ministry of trade", "megacorp holdings"} <= names(text, gaz)
    assert years(text) == {"2023", "2030"}
    assert "1200" in figures(text) and "2023" not in figures(text)
    assert deontic("Enterprises should register early.") and not deontic("Enterprises registered early.")


def test_figures_touching_cjk_words_are_found_unless_a_cjk_magnitude_scales_them():
    assert figures("沙盒测试只要1个月") == {"1"}
    assert figures("占比90%的企业") == {"90"}
    assert figures("심사 기간을 2년으로") == {"2"}
    assert figures("日本企业2023年拿到了多少件") == set()  # a year, not a figure
    assert figures("基金以5亿美元启动") == set()  # 500 million: not the digits "5" in English
    assert figures("15조 원") == set()


def test_quantities_keep_their_numbers_by_kind(gaz):
    q = gaz.quantities("Over 200 companies joined in 2023, with 800 patents worth US$5m, up 23% in 6 months.")
    assert q["count"] == {"200", "800"}
    assert q["year"] == {"2023"}
    assert q["money"] == {"5"} and q["percent"] == {"23"} and q["duration"] == {"6"}
    assert gaz.kinds("no figure at all") == set() == set(gaz.quantities("no figure at all"))


def test_a_year_after_a_full_width_comma_is_a_year():
    text = "听说专利申请涨得很猛，2023年同比涨了多少？"  # NFKC makes "，" a plain comma
    assert years(text) == {"2023"} and figures(text) == set()
    assert years("1,2023 units") == set()


def test_an_amount_named_by_what_it_is_is_money():
    """Fines and fees are often set in units that are not currencies; a time unit after the number
    keeps it a duration."""
    from ipqa.entities import Gazetteer, build_gazetteer

    g = Gazetteer(build_gazetteer())
    assert g.quantities("Infringement is punished with fines of up to 40,000 units of account.") == {
        "money": frozenset({"40000"})
    }
    assert g.quantities("Damages of 300 penalty units may be awarded.")["money"] == frozenset({"300"})
    assert "money" not in g.quantities("Fees of 3 months apply to late filings.")
    assert "money" not in g.quantities("It is punished with fines or imprisonment of up to 3 years.")
    assert "money" not in g.quantities("The office received 128,400 applications in 2024.")


def test_ordinals_in_words_and_digits():
    from ipqa.entities import ordinals

    assert ordinals("How many projects did the fund approve in its second call?") == {2}
    assert ordinals("In its first call, and again in the 3rd and 21st rounds") == {1, 3, 21}
    assert ordinals("Firstly, a secondary market and 2 calls") == set()


def test_numbers_in_words_are_quantities():
    g = Gazetteer(build_gazetteer())
    assert g.quantities("The licence must be renewed every three years.") == {"duration": frozenset({"3"})}
    assert g.quantities("Eleven facilities were running, up from six last year.")["count"] == {"11", "6"}
    assert g.quantities("a twenty-five-year term") == {"duration": frozenset({"25"})}
    assert g.quantities("valid for one year") == {"duration": frozenset({"1"})}
    # "one" is a pronoun as often as a number
    assert g.quantities("One thing we need to know is which one applies.") == {}


def test_local_currency_symbols_are_money():
    """Symbols as each country's own locales write them (CLDR), not only ISO codes."""
    g = Gazetteer(build_gazetteer())
    assert g.quantities("A plan costs about R 69.99 a month.") == {"money": frozenset({"69.99"})}
    assert g.quantities("grants of up to Rp 2.5 billion") == {"money": frozenset({"2.5"})}
    assert g.quantities("a fee of S/ 1,200") == {"money": frozenset({"1200"})}
    assert g.quantities("KSh 50,000 per class") == {"money": frozenset({"50000"})}  # CLDR writes "Ksh"
    # a letter touching a number is not a currency: a quarter, a group of countries
    assert "money" not in g.quantities("Revenue in Q3 2024 rose at the G20 summit")
    assert "money" not in g.quantities("R&D spending rose 5%")


def test_a_sentence_naming_no_place_keeps_its_documents_place_beside_its_paragraphs(gaz):
    """A paragraph of a brief on one country may list others; the sentence after the list is
    still about the brief's country, and one naming a place is about that place alone."""
    from ipqa.corpus import Sentence
    from ipqa.entities import build_lexicon

    texts = [
        "Most visitors come from Germany, Austria and Poland.",
        "The charter fleet is the largest in the region.",
        "Ports in Italy handled more containers.",
    ]
    sentences = [Sentence("brief.md", "Tourism", 0, 1, t, i, 0, 1) for i, t in enumerate(texts)]
    context = {("brief.md", 1): "Croatia for Technology Investors Tourism"}
    places = [s["places"] for s in build_lexicon(sentences, gaz, context)["sentences"]]
    keys = [{k for ks in p for k in ks} for p in places]
    assert keys[0] == {"country:DE", "country:AT", "country:PL"}
    assert keys[1] == {"country:DE", "country:AT", "country:PL", "country:HR"}
    assert keys[2] == {"country:IT"}


def test_a_city_whose_country_its_document_never_names_is_part_of_a_name(gaz):
    """ "The Paris Convention" in a brief on Kenya names a treaty, not a place the sentence is
    about: neither that sentence nor the next of its paragraph is about Paris. A city whose
    country the document names, or any city in a document naming no country, stays a place; and
    the corpus still mentions Paris, so a question naming it is not outside the documents."""
    from ipqa.corpus import Sentence
    from ipqa.entities import build_lexicon

    def doc(name: str, texts: list[str]) -> list[Sentence]:
        return [Sentence(name, "Patents", 0, 1, t, i, 0, 1) for i, t in enumerate(texts)]

    kenya = doc(
        "kenya.md",
        [
            "Applicants may claim priority under the Paris Convention within 12 months.",
            "The office then examines the application.",
            "Offices of the firm are in Nairobi, and it has joined the Madrid Protocol.",
        ],
    )
    lyon = doc("lyon.md", ["Offices of the firm are in Paris."])
    france = doc("france.md", ["French firms file in Paris."])
    context = {("kenya.md", 1): "Kenya Patents", ("lyon.md", 1): "Patents", ("france.md", 1): "Patents"}
    lex = build_lexicon(kenya + lyon + france, gaz, context)
    rows = lex["sentences"]
    keys = [{k for ks in r["places"] for k in ks} for r in rows]
    own = [{k for ks in r["own_places"] for k in ks} for r in rows]
    paris = next(p["keys"] for p in lex["places"] if p["surface"] == "Paris")
    assert keys[0] == keys[1] == {"country:KE"} and own[0] == set()  # the heading's place only
    assert keys[2] == own[2] and len(own[2]) == 1 and gaz.country_of(next(iter(own[2]))) == "country:KE"
    assert own[3] == set(paris) and set(paris) < own[4]  # no country named at all; France named

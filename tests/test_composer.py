"""The learned answering core on its own: a small corpus made here, the real model and index.

Nothing in this corpus is in the report: the place names, laws and figures are those of other
countries, so these tests show that selection, refusal and each intent's answer shape come from
the documents and the learned model, not from knowledge of one report.
"""

from __future__ import annotations

import pytest

CORPUS = """1.1 Trade Secrets
Vietnam protects trade secrets mainly through its Law on Intellectual Property and the Competition Law. A company whose secrets are stolen in Vietnam can seek an administrative fine of up to 200 million dong against the infringer. Courts in Hanoi handled 41 trade secret cases in 2023.
Indonesia relies on its Trade Secret Law of 2000, which protects confidential business information with economic value. Criminal penalties in Indonesia reach two years in prison.

1.2 Patents
The Vietnamese patent office examines applications in about 18 months on average. Indonesia introduced an accelerated examination route in 2022 that shortens examination to 12 months.

1.3 Recommendations
Companies entering Vietnam should register their trademarks before launching products. Firms should sign confidentiality agreements with every employee who handles source code. It is essential to keep records of when each secret was created and who could access it.

1.4 Outlook
Both countries plan to revise their data protection rules by 2026. Regional cooperation on enforcement is expected to grow.
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from ipqa.building import build
    from ipqa.engine import Engine
    from ipqa.settings import Settings

    root = tmp_path_factory.mktemp("small")
    (root / "corpus").mkdir()
    (root / "corpus" / "briefing.txt").write_text(CORPUS, encoding="utf-8")
    settings = Settings.load(corpus_dir=root / "corpus", index_dir=root / "index")
    build(settings)
    return Engine(settings)


def _quotes(ans):
    return " ".join(c.quote for c in ans.citations)


def test_a_fact_is_answered_with_the_sentence_that_states_it(small):
    ans = small.ask("How long does it take to get a patent examined in Vietnam?")
    assert not ans.refused
    assert "18 months" in ans.citations[0].quote
    for c in ans.citations:
        assert small.index.doc_texts[c.doc][c.start : c.end] == c.quote


def test_places_come_from_the_index(small):
    """Vietnam is covered here (the report would refuse it); Brazil is not mentioned anywhere."""
    ans = small.ask("What fine can a company get in Vietnam for stealing trade secrets?")
    assert not ans.refused and "200 million dong" in _quotes(ans)
    no = small.ask("What are the trade secret penalties in Brazil?")
    assert no.refused and "Brazil" in no.answer
    assert no.answer.startswith("The documents do not answer this question.")


def test_out_of_domain_is_refused_in_plain_words(small):
    ans = small.ask("Can you give me a recipe for banana bread?")
    assert ans.refused and not ans.citations
    assert "The nearest they come is" in ans.answer
    assert "rule" not in ans.answer.lower() and "figure" not in ans.answer.lower()


def test_a_comparison_gives_both_sides(small):
    ans = small.ask("How do Vietnam and Indonesia compare on protecting trade secrets?")
    assert not ans.refused
    q = _quotes(ans)
    assert "Vietnam" in q and "Indonesia" in q


def test_a_comparison_with_an_uncovered_side_says_so(small):
    ans = small.ask("How do Vietnam and Peru compare on protecting trade secrets?")
    assert not ans.refused and "Vietnam" in _quotes(ans)
    assert any("Peru" in n for n in ans.notes)


def test_refusal_of_an_uncovered_place_is_in_plain_words(small):
    ans = small.ask("What are the trade secret penalties in Brazil?")
    assert ans.refused and not ans.citations
    assert "The nearest they come is" in ans.answer
    assert "rule" not in ans.answer.lower() and "figure" not in ans.answer.lower()


def test_a_place_that_only_says_who_asks_is_not_the_question_s_place(small):
    """Users say where they come from before they ask; the documents need not mention it."""
    f = small.composer.f
    q = "We are a software firm from Brazil. What fine can a company get in Vietnam for stealing trade secrets?"
    asked = f.question(q, small.encoder.encode([q])[0])
    assert [p.surface for p in asked.places] == ["Vietnam"] and not asked.uncovered
    ans = small.ask(
        "We are a software firm based in Brazil. How long does patent examination take in Vietnam?"
    )
    assert not ans.refused and "18 months" in _quotes(ans)
    # Asked about, the same place is the question's, and is not covered.
    for q in (
        "We are a software firm. What are the trade secret penalties in Brazil?",
        "What are the trade secret penalties in Brazil? We are a software firm from Vietnam.",
        "Is Brazil's trade secret law stricter than Vietnam's?",
    ):
        asked = f.question(q, small.encoder.encode([q])[0])
        assert "Brazil" in [p.surface for p in asked.uncovered], q


def test_advice_questions_find_the_recommendations(small):
    ans = small.ask("What does the briefing advise companies to do?")
    assert not ans.refused
    assert "should" in _quotes(ans) or "essential" in _quotes(ans)
    assert len(ans.citations) >= 2


def test_numbers_in_words_are_not_figures_to_match(small):
    ans = small.ask("One thing we need to know: how long is examination in Vietnam?")
    assert not ans.refused and "18 months" in _quotes(ans)


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("How many months does patent examination take?", "number"),
        ("Give me the gist of this briefing.", "summary"),
        ("What would you advise a startup to do before expanding there?", "recommendation"),
        ("How do the two countries differ on trade secrets?", "comparison"),
        ("And what about Indonesia?", "followup"),
    ],
)
def test_intent_classifier(small, question, intent):
    qvec = small.encoder.encode([question])[0]
    q = small.composer.f.question(question, qvec)
    assert q.top_intent == intent


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which law protects trade secrets in Indonesia?", "name"),
        ("How much can the fine be?", "money"),
        ("How long does patent examination take?", "duration"),
        ("What do the courts do with trade secret cases?", "none"),
    ],
)
def test_kind_classifier(small, question, kind):
    from ipqa.model import KINDS

    qvec = small.encoder.encode([question])[0]
    q = small.composer.f.question(question, qvec)
    assert KINDS[int(q.kind.argmax())] == kind


def _row(engine, text: str) -> int:
    return next(i for i, s in enumerate(engine.composer.f.sentences) if s.text.startswith(text))


def test_a_sentence_answers_with_a_value_the_question_does_not_already_state(small):
    f = small.composer.f
    ask = "How many of the 41 trade secret cases in Hanoi ended with a fine?"
    q = f.question(ask, small.encoder.encode([ask])[0])
    cases = f.new_kinds(_row(small, "Courts in Hanoi handled 41"), q)
    assert "count" not in cases and "year" in cases  # 41 is the question's own number
    ask = "Which law protects trade secrets in Vietnam?"
    q = f.question(ask, small.encoder.encode([ask])[0])
    assert "name" in f.new_kinds(_row(small, "Vietnam protects trade secrets mainly"), q)
    fine = f.new_kinds(_row(small, "A company whose secrets are stolen"), q)
    assert "name" not in fine and "money" in fine  # it names only Vietnam, which was asked about


def test_a_value_the_question_states_is_checked_against_the_sentence(small):
    """A question that states an amount, share or duration the documents give otherwise has a
    false premise; one that states the documents' own value, or none, does not."""
    f = small.composer.f

    def conflicts(ask, start):
        return f.conflicts(f.question(ask, small.encoder.encode([ask])[0]), _row(small, start))

    prison = "Criminal penalties in Indonesia reach two years"
    fine = "A company whose secrets are stolen"
    exam = "The Vietnamese patent office examines"
    assert conflicts("Why is the Vietnamese examination stuck at 30 months?", exam) == (1.0, 0.0)
    assert conflicts("Is the Vietnamese examination really 18 months?", exam) == (0.0, 0.0)
    assert conflicts("Why is the fine in Vietnam capped at 20 million dong?", fine) == (1.0, 0.0)
    assert conflicts("Is the fine in Vietnam up to 200 million dong?", fine) == (0.0, 0.0)
    assert conflicts("How long can prison terms be in Indonesia?", prison) == (0.0, 0.0)  # states none
    cases = "Courts in Hanoi handled 41"
    assert conflicts("Did Hanoi courts really hear 400 trade secret cases?", cases) == (0.0, 1.0)
    # a kind of value the sentence does not state is not contradicted by it
    assert conflicts("We are a 40-person firm: how long is examination in Vietnam?", exam) == (0.0, 0.0)


def test_list_answers_cover_distinct_points(small):
    """The shape of a list answer, apart from the decision to answer: the current English model puts
    this question just under its threshold (0.46 < 0.48), which the refusal tests cover."""

    from ipqa.answer import Composer

    shape_only = Composer(small.composer.f, small.composer.f.model, threshold=0.0)
    hits = small.search("What steps does the briefing recommend for companies?", k=8)
    _, _, qvec, _ = small.prepare("What steps does the briefing recommend for companies?")
    decision = shape_only.decide("What steps does the briefing recommend for companies?", qvec, hits)
    assert decision.question.top_intent in ("list", "recommendation")
    ans = small.ask("What does the briefing recommend that companies do?")
    assert not ans.refused and len(ans.citations) >= 2
    assert len(decision.chosen) >= 2
    quotes = [c.quote for c in ans.citations]
    assert len(set(quotes)) == len(quotes)


def test_features_do_not_depend_on_the_order_sets_iterate_in(index_env):
    """Set order changes with the hash seed between runs; a feature summed over a set must not,
    or training is not repeatable (it was off by the last bit, which moved tree splits)."""
    import os
    import subprocess
    import sys

    script = (
        "from ipqa.engine import Engine\nfrom ipqa.settings import Settings\n"
        "e = Engine(Settings.load())\n"
        "for text in ('How did Korea protect AI model parameters as trade secrets in 2024?',\n"
        "             'what should firms do first about data compliance and cross-border transfers'):\n"
        "    _, sq, v, _ = e.prepare(text)\n"
        "    q, cands, X, p, qx = e.composer.score(sq, v, e.retriever.search(sq, v, k=8))\n"
        "    print([float(x).hex() for x in qx], [float(x).hex() for x in X.ravel()])\n"
    )
    outs = []
    for seed in ("1", "2"):
        env = {**os.environ, **index_env, "PYTHONHASHSEED": seed, "HF_HUB_OFFLINE": "1"}
        run = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, run.stderr[-2000:]
        outs.append(run.stdout)
    assert outs[0] == outs[1]


def test_words_of_asking_are_not_topics_the_documents_lack(small):
    """A question made of words people ask with ("summarise", "gist") names no topic the documents
    lack; one with a word the documents never use and that is not a word of asking does."""
    f = small.composer.f
    ask = "Give me the gist, summarised for our board"
    qvec = small.encoder.encode([ask])[0]
    q = f.question(ask, qvec, asking=frozenset())
    assert q.unknown_terms == 1.0 and q.n_asking == 0
    q = f.question(ask, qvec, asking=frozenset({"gist", "summaris", "board"}))
    assert q.unknown_terms == 0.0 and q.n_asking == 3 and not q.terms
    missing_best, _, known_share = f._missing(q, [], [])
    assert missing_best == 0.0 and known_share == 1.0
    # a word of asking that the documents do use is still part of the question's topic
    ask = "gist of the penalties in Indonesia"
    q = f.question(ask, small.encoder.encode([ask])[0], asking=frozenset({"gist", "penalti"}))
    assert "penalti" in q.terms and "gist" not in q.terms
    # and the shipped model carries words of asking learned from the labelled questions
    assert f.model.asking_terms


def test_a_place_alone_does_not_make_a_question_on_topic(small):
    """Closeness without the places a question names: the weather in Hanoi is near a sentence
    about Hanoi only through "Hanoi"; a question about its trade secret cases is near through its
    topic too. And the off-topic one is refused."""
    from ipqa.features import SENTENCE_FEATURES

    def closeness(question):
        _, sq, qvec, _ = small.prepare(question)
        q, cands, X, _p, _qx = small.composer.score(sq, qvec, small.retriever.search(sq, qvec, k=8))
        dense = float(X[:, SENTENCE_FEATURES.index("dense")].max())
        return dense, small.composer.f.topic_dense(q, cands, dense)

    weather, weather_topic = closeness("What's the weather like in Hanoi this week?")
    _, cases_topic = closeness("How many trade secret cases did the courts in Hanoi handle?")
    assert weather_topic < weather and weather_topic < 0.2
    assert cases_topic > 0.4
    ans = small.ask("What's the weather like in Hanoi this week?")
    assert ans.refused and not ans.citations


def test_a_sentence_naming_only_other_places_is_marked(small):
    """own_place_conflict reads the places a sentence itself names, not its paragraph's: the
    sentence on Hanoi's courts sits in a paragraph about Vietnam, but only it is about Hanoi."""
    f = small.composer.f

    def own(ask, start):
        return f.own_place_conflict(_row(small, start), f.question(ask, small.encoder.encode([ask])[0]))

    hanoi = "Courts in Hanoi handled 41"
    exam = "The Vietnamese patent office examines"
    assert (
        own("How many trade secret cases did courts in Jakarta hear?", hanoi) == 1.0
    )  # another country's city
    assert (
        own("How many trade secret cases did courts in Ho Chi Minh City hear?", hanoi) == 1.0
    )  # same country
    assert own("How many trade secret cases did courts in Hanoi hear?", hanoi) == 0.0
    assert own("How many trade secret cases did Vietnam's courts hear?", hanoi) == 0.0  # Hanoi is in Vietnam
    assert own("How long is patent examination in Indonesia?", exam) == 1.0  # "Vietnamese" names one
    regional = "Regional cooperation on enforcement"
    assert own("Will enforcement cooperation grow in Indonesia?", regional) == 0.0  # names no place
    assert own("How long does patent examination take?", hanoi) == 0.0  # the question names none


def test_a_sentence_lacking_the_kind_of_value_asked_is_marked(small):
    """kind_missing tells "asks for a count this sentence lacks" from "asks for no value", which
    kind_match alone cannot (it is 0 for both)."""
    from ipqa.features import SENTENCE_FEATURES

    def missing(question):
        _, sq, qvec, _ = small.prepare(question)
        _q, cands, X, _p, _qx = small.composer.score(sq, qvec, small.retriever.search(sq, qvec, k=8))
        col = SENTENCE_FEATURES.index("kind_missing")
        return {
            c.sentence.text.split()[0] + " " + c.sentence.text.split()[1]: X[i, col]
            for i, c in enumerate(cands)
        }

    count = missing("How many trade secret cases did the courts in Hanoi handle?")
    assert count["Courts in"] < 0.2 and count["Vietnam protects"] > 0.8
    assert max(missing("How does Vietnam protect trade secrets?").values()) < 0.2


def test_a_sentence_is_also_read_under_its_title_and_heading(small):
    """context_dense is the question's closeness to the sentence embedded after its document's
    title and its section's headings (at build time, as the engine's encoder reads it); a sentence that names its
    topic only through its heading ("Outlook") comes closer that way."""
    from ipqa.features import SENTENCE_FEATURES

    _, sq, qvec, _ = small.prepare("What is the outlook for data protection rules?")
    _q, cands, X, _p, _qx = small.composer.score(sq, qvec, small.retriever.search(sq, qvec, k=8))
    col, gap = SENTENCE_FEATURES.index("context_dense"), SENTENCE_FEATURES.index("context_gap")
    (i,) = [i for i, c in enumerate(cands) if c.sentence.text.startswith("Both countries plan")]
    s = cands[i].sentence
    title = small.index.title_of(s.doc)
    (sec,) = [sec for sec in small.index.documents[s.doc].sections if sec.id == s.section_id]
    text = f"{title} {sec.part} {sec.heading}: {s.text}"
    assert title in text and "Outlook" in text
    assert X[i, col] == pytest.approx(float(small.encoder.encode([text])[0] @ qvec), abs=1e-5)
    assert X[i, col] > X[i, SENTENCE_FEATURES.index("dense")]
    assert X[:, gap].max() == 0.0 and X[i, gap] == pytest.approx(X[i, col] - X[:, col].max())


def test_tell_me_more_goes_on_beside_what_was_said(small):
    """A continuation is not judged again as a question (the text it searches with joins the
    question to the sentences given, unlike any question): it goes on with other sentences of
    the same section."""
    first = small.ask("How much is the fine for trade secret theft in Vietnam?")
    assert not first.refused and "200 million dong" in _quotes(first)
    more = small.ask("How much is the fine for trade secret theft in Vietnam?", continue_from=first.citations)
    assert not more.refused and more.citations
    assert not {c.quote for c in first.citations} & {c.quote for c in more.citations}
    assert all(c.section == first.citations[0].section for c in more.citations)


def test_a_model_trained_for_other_features_is_refused(small):
    """Weights are read by position: a model file from before a feature was added would answer
    wrongly and silently, so loading it fails with a one-line reason."""
    from dataclasses import replace

    from ipqa.errors import ModelError
    from ipqa.features import Featurizer

    m = small.composer.f.model
    stale = replace(m, question_features=m.question_features[:-1])
    with pytest.raises(ModelError, match=m.question_features[-1] + r".*retrain"):
        Featurizer(small.index, small.gazetteer, stale)
    Featurizer(small.index, small.gazetteer, m)  # the shipped model fits


def test_a_model_fitted_before_a_sentence_feature_was_added_reads_its_own_columns(small):
    """A language group's model file may predate a sentence feature: it is served the columns it
    was fitted on, by name, so the two groups' models need not be refitted together."""
    from dataclasses import replace

    import numpy as np

    from ipqa.answer import Composer
    from ipqa.features import SENTENCE_FEATURES, Featurizer
    from ipqa.model import Linear

    m = small.composer.f.model
    keep = tuple(n for n in SENTENCE_FEATURES if n != "context_dense")[::-1]  # one fewer, reordered
    coef = np.array([[1.0 if n == "dense" else 0.0 for n in keep]])
    older = replace(
        m, sentence_features=keep, sentence=Linear(coef, np.zeros(1), np.zeros(len(keep)), np.ones(len(keep)))
    )
    composer = Composer(Featurizer(small.index, small.gazetteer, older), older)
    _, searched, qvec, _ = small.prepare("How much is the fine for trade secret theft in Vietnam?")
    _, cands, X, p, _ = composer.score(searched, qvec, small.retriever.search(searched, qvec, k=8))
    assert cands and np.allclose(p, 1 / (1 + np.exp(-X[:, SENTENCE_FEATURES.index("dense")])))


def test_sentences_of_one_paragraph_are_quoted_in_the_documents_order(small):
    """However they scored, two quotes from one paragraph read as the paragraph does: the one that
    goes on from the other comes after it."""
    from itertools import pairwise

    where = {(s.doc, s.start): s for s in small.composer.f.sentences}
    same_paragraph = 0
    for question in (
        "How does Vietnam protect trade secrets?",
        "What can a company do in Vietnam when its secrets are stolen?",
        "How fast is patent examination in Indonesia?",
        "What should companies entering Vietnam do?",
        "What does Indonesia's trade secret law protect, and what are the penalties?",
    ):
        cited = [where[(c.doc, c.start)] for c in small.ask(question).citations]
        for a, b in pairwise(cited):
            if (a.doc, a.paragraph) == (b.doc, b.paragraph):
                same_paragraph += 1
                assert a.index < b.index, (question, a.text, b.text)
    assert same_paragraph >= 2  # the order was tested, not only the length


def _continuing(shipped, weight_after: float, above: float):
    """The shipped model with a hand-made continuation: probability 0.5 + weight_after / 2 for
    a neighbour that follows its chosen sentence, 0.5 - weight_after / 2 for one before it."""
    from dataclasses import replace

    import numpy as np

    from ipqa.features import CONTINUATION_FEATURES
    from ipqa.model import Linear

    n = len(CONTINUATION_FEATURES)
    half = float(np.log((1 + weight_after) / (1 - weight_after)))  # logit(0.5 + weight_after / 2)
    coef = np.zeros((1, n))
    coef[0, CONTINUATION_FEATURES.index("after")] = 2 * half
    after = Linear(coef, np.array([-half]), np.zeros(n), np.ones(n))
    return replace(
        shipped, continuation=after, continue_above=above, continuation_features=CONTINUATION_FEATURES
    )


def test_a_chosen_sentence_brings_the_one_that_goes_on_from_it(small):
    """With a continuation model that wants every following sentence (0.9) and no preceding one
    (0.1), each chosen sentence brings the next one of its paragraph (at most one each, two in
    all), read in the documents' order; above what the model gives, nothing is added."""
    from itertools import pairwise

    from ipqa.answer import Composer

    f = small.composer.f
    shipped = f.model
    question = "How long does it take to get a patent examined in Vietnam?"
    _, search_q, qvec, _ = small.prepare(question)
    hits = small.search(question, k=8)
    composer = Composer(f, shipped, threshold=0.0)

    def chosen_with(model):
        f.model = model
        try:
            return [c for c, _ in composer.decide(search_q, qvec, hits).chosen]
        finally:
            f.model = shipped

    plain = chosen_with(shipped)
    assert chosen_with(_continuing(shipped, 0.8, above=0.95)) == plain
    longer = chosen_with(_continuing(shipped, 0.8, above=0.85))
    added = [c for c in longer if c not in plain]
    assert 1 <= len(added) <= 2 and all(c in longer for c in plain)
    rows = {c.row for c in longer}
    for c in added:  # each follows a chosen sentence of its own paragraph
        before = f.sentences[c.row - 1]
        assert c.row - 1 in rows and (before.doc, before.paragraph) == (c.sentence.doc, c.sentence.paragraph)
    same = [(a, b) for a, b in pairwise(longer) if a.sentence.paragraph == b.sentence.paragraph]
    assert same and all(a.row < b.row for a, b in same)

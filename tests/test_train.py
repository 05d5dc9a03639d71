"""The training script's choices (eval/train.py): out-of-fold scoring and the refusal threshold."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "eval"))
import train as T


class _Seen:
    """A "model" that gives 1.0 for rows it was fitted on and 0.0 for others."""

    def __init__(self, X):
        self.rows = {tuple(r) for r in X}

    def proba(self, X):
        seen = np.array([tuple(r) in self.rows for r in X], dtype=float)
        return np.stack([1 - seen, seen], axis=1)


def test_out_of_fold_classes_never_score_a_row_with_a_model_fitted_on_it():
    X = np.arange(40, dtype=float).reshape(20, 2)  # 15 labelled rows, then 5 extra ones
    y = ["a", "b"] * 10
    fitted_with_extra = []

    def fit(Xf, yf):
        fitted_with_extra.append(all(tuple(r) in {tuple(x) for x in Xf} for r in X[15:]))
        return _Seen(Xf)

    p = T.out_of_fold_classes(X, y, 15, fit)
    assert p.shape == (15, 2)
    assert (p[:, 1] == 0.0).all()  # no labelled row was seen by the model that scored it
    assert all(fitted_with_extra) and len(fitted_with_extra) == 5


def test_an_other_documents_questions_share_one_fold_and_the_reports_are_spread():
    """Out of fold means a document no model in the fit saw: every question about one other
    document is held out together; the report's questions go round the folds one by one."""
    from types import SimpleNamespace

    def row(source, other):
        return SimpleNamespace(item={"source": source, "other_document": other})

    rows = [row("h1", False) for _ in range(10)]
    rows += [row(name, True) for name in ("kenya", "brazil", "poland") for _ in range(7)]
    fold = T.fold_ids(rows)
    assert sorted(set(fold[:10])) == list(range(T.FOLDS))
    for name in ("kenya", "brazil", "poland"):
        assert len({fold[i] for i, r in enumerate(rows) if r.item["source"] == name}) == 1
    assert len({fold[i] for i in range(10, len(rows), 7)}) == 3  # three documents, three folds


def test_threshold_refuses_most_unanswerable_within_the_false_refusal_target():
    rng = np.random.default_rng(0)
    answerable = np.r_[np.ones(200, bool), np.zeros(100, bool)]
    prob = np.where(answerable, rng.beta(5, 2, 300), rng.beta(2, 5, 300))
    t = T.choose_threshold(prob, answerable, 0.05)
    refused = prob < t
    assert refused[answerable].mean() <= 0.05
    # one step higher would pass the target or refuse no more unanswerable questions
    higher = prob < t + 0.01
    assert higher[answerable].mean() > 0.05 or higher[~answerable].mean() == refused[~answerable].mean()
    assert refused[~answerable].mean() > 0.5


def test_english_answerability_is_fitted_without_other_languages():
    """Other-language questions must not move the English model: relabelling them leaves the
    English model's probabilities unchanged, while the model fitted on every language moves."""
    rng = np.random.default_rng(1)
    n_tr, n_dv, d = 300, 120, len(T.QUESTION_FEATURES)
    Q_tr, Q_dv = rng.normal(size=(n_tr, d)), rng.normal(size=(n_dv, d))
    other_tr = np.arange(n_tr) % 3 == 0
    other_dv = np.arange(n_dv) % 3 == 0
    a_tr = (Q_tr[:, 0] + rng.normal(scale=0.5, size=n_tr) > 0).astype(int)
    a_dv = (Q_dv[:, 0] + rng.normal(scale=0.5, size=n_dv) > 0).astype(int)
    o_tr, o_dv = (Q_tr[:, 1] > -1.0).astype(int), (Q_dv[:, 1] > -1.0).astype(int)  # in the domain
    flipped = np.where(other_tr, 1 - a_tr, a_tr)
    fits = {}
    for name, labels in (("original", a_tr), ("flipped", flipped)):
        fold = np.arange(n_tr) % T.FOLDS
        en = T.fit_answerability(Q_tr, labels, o_tr, Q_dv, a_dv, o_dv, ~other_tr, ~other_dv, fold)
        every = T.fit_answerability(
            Q_tr, labels, o_tr, Q_dv, a_dv, o_dv, np.ones(n_tr, bool), np.ones(n_dv, bool), fold
        )
        fits[name] = (en, every)
    assert np.allclose(fits["original"][0].calibrated_dv, fits["flipped"][0].calibrated_dv)
    assert not np.allclose(fits["original"][1].calibrated_dv, fits["flipped"][1].calibrated_dv)
    # train rows it was fitted on are scored out of fold: probabilities, not copies of the labels
    # (rows further from every sentence than the closeness floor get exactly 0, by design)
    en = fits["original"][0]
    near = Q_tr[:, T.QUESTION_FEATURES.index("dense_max")] >= en.dense_floor
    assert near.mean() > 0.9
    assert ((en.calibrated_tr[near] > 0) & (en.calibrated_tr[near] < 1)).all()
    assert (en.calibrated_tr[~near] == 0).all()


def test_words_of_asking_are_learned_from_answerable_questions_only():
    """A word the documents lack is a word of asking when answerable questions use it and
    unanswerable ones seldom do; a word mostly in unanswerable questions never is."""
    df = {"patent": 5, "secret": 3}

    def ex(q, answerable):
        return T.Example({"search_q": q, "answerable": answerable}, np.zeros(1))

    rows = [ex("gist of patent rules", True), ex("the gist on secrets", True), ex("patent gist", True)]
    rows += [ex("recipe for patent cake", False), ex("recipe secrets", False), ex("recipe gist", True)]
    rows += [ex("a recipe we like", True), ex("recipe", True)]
    learned = T.learn_asking_terms(rows, df)
    assert "gist" in learned  # 4 answerable, no unanswerable
    assert "recipe" not in learned  # 3 answerable but 2 of 5 unanswerable
    assert "patent" not in learned  # the documents use it: never a word of asking
    assert T.learn_asking_terms(rows[:2], df) == frozenset()  # too few questions to learn from


def test_a_question_further_from_every_sentence_than_any_answerable_one_is_refused():
    """The closeness floor: the least close answerable training question sets it, so it costs no
    false refusal on train; a question below it gets probability 0 whatever else it shows."""
    from dataclasses import replace

    from ipqa.features import QUESTION_FEATURES
    from ipqa.model import load_model

    rng = np.random.default_rng(0)
    n = 300
    Q = rng.uniform(0.0, 1.0, size=(n, len(QUESTION_FEATURES)))
    dense, broad = QUESTION_FEATURES.index("dense_max"), QUESTION_FEATURES.index("intent_broad")
    Q[:, dense] = rng.uniform(0.3, 0.9, size=n)
    a = (rng.uniform(size=n) < 0.6).astype(int)
    Q[a == 0, dense] -= 0.25  # unanswerable questions sit lower
    Q[:, broad] = 0.0
    Q[:5, broad], Q[:5, dense], a[:5] = 0.9, 0.01, 1  # summaries: answerable, far from every sentence
    o = np.ones(n, dtype=int)
    half = np.arange(n) < n // 2
    fit = T.fit_answerability(Q[half], a[half], o[half], Q[~half], a[~half], o[~half],
                              np.ones(half.sum(), bool), np.ones((~half).sum(), bool),
                              np.arange(half.sum()) % T.FOLDS)  # fmt: skip
    # the summaries neither set the floor nor meet it
    assert fit.dense_floor == Q[5:][half[5:]][a[5:][half[5:]] == 1, dense].min() > 0.01
    below = Q[~half][:, dense] < fit.dense_floor
    assert below.any() and (fit.calibrated_dv[below] == 0.0).all()
    assert (fit.calibrated_dv[~below] > 0.0).all()
    assert (fit.calibrated_tr[:5] > 0.0).all()

    model = replace(load_model(), dense_floor=0.5)
    x = np.full(len(QUESTION_FEATURES), 0.4)
    x[dense] = 0.5
    assert model.answer_probability(x) > 0.0
    x[dense] = 0.49
    assert model.answer_probability(x) == 0.0
    x[broad] = 0.5  # as likely a summary, list or advice as not: the floor does not apply
    assert model.answer_probability(x) > 0.0


def test_other_documents_trained_on_are_the_other_and_read_blind_documents_less_the_held_out(tmp_path):
    """Held-out documents measure transfer, so they are never trained on; a blind set on the report
    (no document folder beside it) is not another document; every source brings its questions."""
    sources = T.other_documents()
    assert not set(T.HELD_OUT) & set(sources)
    assert not any(name.startswith("report") for name in sources)
    assert {p.parent.name for p in sources.values()} == {"other_documents", *T.BLIND_READ}
    items, corpus = T.with_other_documents([], sources)
    assert {it["source"] for it in items} == set(sources)
    assert all(it["other_document"] for it in items)
    assert len(list(corpus.iterdir())) == len(sources) + 1  # and the report
    assert T.with_other_documents([], {}) == ([], None)


def test_the_closeness_floor_comes_from_the_groups_own_answerable_questions():
    """Unanswerable questions further from every sentence than the group's answerable ones, which
    the probability does not tell apart, are refused by the floor, within the false refusals."""
    rng = np.random.default_rng(3)
    n_a, n_u = 400, 100
    a = np.r_[np.ones(n_a), np.zeros(n_u)].astype(int)
    p = np.r_[rng.uniform(0.3, 1.0, n_a), rng.uniform(0.3, 1.0, n_u)]  # no help from p
    far = np.r_[rng.uniform(0.2, 0.6, n_a), rng.uniform(0.0, 0.15, n_u)]
    fit = SimpleNamespace(dense_floor=0.0, calibrated_tr=p, calibrated_dv=p[:0])
    sel = np.ones(len(a), dtype=bool)
    floor, t, p_tr, _ = T.choose_floor(fit, far, far[:0], a, a[:0], sel, sel[:0], 0.05)
    assert 0.15 < floor <= far[a == 1].min()
    assert (p_tr[a == 0] < t).mean() == 1.0 and (p_tr[a == 1] < t).mean() <= 0.05
    # broad answerable questions (summaries) further still neither lower the floor nor meet it
    broad = np.r_[np.zeros(n_a + n_u), np.ones(20)]
    far_b, a_b, p_b = np.r_[far, np.full(20, 0.01)], np.r_[a, np.ones(20, int)], np.r_[p, np.full(20, 0.9)]
    fit = SimpleNamespace(dense_floor=0.0, calibrated_tr=p_b, calibrated_dv=p_b[:0])
    sel = np.ones(len(a_b), dtype=bool)
    floor_b, t_b, p_tr, _ = T.choose_floor(
        fit, far_b, far_b[:0], a_b, a_b[:0], sel, sel[:0], 0.05, broad, broad[:0]
    )
    assert 0.15 < floor_b <= far[a == 1].min() and (p_tr[-20:] >= t_b).all()


def test_columns_after_the_question_features_are_read_by_the_linear_member_only():
    """The question's embedding follows the named features: the answerable model's linear member
    learns from it, its trees (whose splits are kept readable by name) never split on it."""
    rng = np.random.default_rng(5)
    d = len(T.QUESTION_FEATURES)
    n_tr, n_dv, extra = 400, 200, 16
    Q_tr, Q_dv = rng.normal(size=(n_tr, d + extra)), rng.normal(size=(n_dv, d + extra))
    dense = T.QUESTION_FEATURES.index("dense_max")
    Q_tr[:, dense], Q_dv[:, dense] = 0.6, 0.6
    a_tr, a_dv = (
        (Q_tr[:, d + 3] > 0).astype(int),
        (Q_dv[:, d + 3] > 0).astype(int),
    )  # only an extra column tells
    o_tr, o_dv = np.ones(n_tr, int), np.ones(n_dv, int)
    fold = np.arange(n_tr) % T.FOLDS
    fit = T.fit_answerability(
        Q_tr, a_tr, o_tr, Q_dv, a_dv, o_dv, np.ones(n_tr, bool), np.ones(n_dv, bool), fold
    )
    linear, trees = fit.answerable.members
    assert linear.coef.shape[1] == d + extra
    assert max(int(f.max()) for f in trees.feature) < d
    p = fit.calibrated_dv
    assert p[a_dv == 1].mean() > p[a_dv == 0].mean() + 0.2


def test_the_answer_or_refuse_inputs_are_written_row_for_row(tmp_path):
    """--matrices: features, both embeddings, folds and each row's labels, train rows then dev rows,
    as .npy and JSON lines (no pickle), so that the refusal stage can be refitted without featurising."""
    import json

    def ex(question, source, other, answerable):
        item = {"question": question, "source": source, "other_document": other, "register": "everyday",
                "answerable": answerable, "language": "en"}  # fmt: skip
        return SimpleNamespace(item=item)

    ex_tr = [ex("a?", "h1", False, True), ex("b?", "kenya", True, False), ex("c?", "kenya", True, True)]
    ex_dv = [ex("d?", "h2", False, False)]
    n = len(T.QUESTION_FEATURES)
    Q = np.arange(4 * n, dtype=float).reshape(4, n)
    embedded = {False: np.ones((4, 3)), True: np.zeros((4, 5))}
    T.save_matrices(tmp_path, ex_tr, ex_dv, Q[:3], Q[3:], embedded, np.array([0, 1, 1]))
    assert np.array_equal(np.load(tmp_path / "questions.npy"), Q)
    assert np.load(tmp_path / "embedding_english.npy").shape == (4, 3)
    assert np.load(tmp_path / "embedding_multilingual.npy").shape == (4, 5)
    assert np.load(tmp_path / "fold.npy").tolist() == [0, 1, 1, -1]  # dev rows are in no fold
    rows = [json.loads(line) for line in (tmp_path / "rows.jsonl").read_text("utf-8").splitlines()]
    assert [(r["question"], r["split"], r["corpus"], r["answerable"]) for r in rows] == [
        ("a?", "train", "report", True),
        ("b?", "train", "kenya", False),
        ("c?", "train", "kenya", True),
        ("d?", "dev", "report", False),
    ]
    assert json.loads((tmp_path / "columns.json").read_text("utf-8")) == list(T.QUESTION_FEATURES)


def _item(id_, question, split, register="near-miss", **kw):
    return {"id": id_, "question": question, "split": split, "register": register, "source": "doc", **kw}


def _twin(twin_of, question):
    return {"id": f"tw-{twin_of}", "twin_of": twin_of, "question": question, "register": "everyday",
            "intent": "number", "kind": "count", "answerable": True, "evidence": ["X."], "answer_facts": [["X"]]}  # fmt: skip


def test_a_twin_joins_its_near_miss_in_train_with_its_document(tmp_path):
    import json

    items = [_item("a", "How many in 2020?", "train", other_document=True),
             _item("b", "How many in Peru?", "train")]  # fmt: skip
    rows = [
        _twin("a", "How many in 2024?"),
        _twin("gone", "How many there?"),
        _twin("b", "how many in 2020? "),
    ]
    (tmp_path / "doc.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = T.with_twins(items, tmp_path, log=lambda _m: None)
    added = out[len(items) :]
    # the one whose near miss is not trained on, and the one already asked, are left out
    assert [t["question"] for t in added] == ["How many in 2024?"]
    assert added[0]["split"] == "train" and added[0]["source"] == "doc" and added[0]["other_document"]


def test_a_twin_of_a_dev_or_test_question_stops_training(tmp_path):
    import json

    import pytest

    for split in ("dev", "test"):
        items = [_item("a", "How many in 2020?", split)]
        (tmp_path / "doc.jsonl").write_text(
            json.dumps(_twin("a", "How many in 2024?")) + "\n", encoding="utf-8"
        )
        with pytest.raises(SystemExit, match=split):
            T.with_twins(items, tmp_path, log=lambda _m: None)


def test_the_reports_questions_are_asked_of_the_report_alone_and_the_documents_of_all_together():
    """As they are served: `ipqa eval` and the report's blind sets ask the report alone, so its
    questions are featurised against it (ENGINES "report"); a document's stay among all."""
    items = [_item("a", "Q1?", "train", source="h1"), _item("b", "Q2?", "dev", other_document=True)]
    out = T.report_alone(items, {"doc": ROOT})
    assert [it.get("corpus") for it in out] == ["report", None]
    assert "corpus" not in items[0]  # the caller's items are left as they were
    engine, report = _Preparing(), _Preparing()
    T.ENGINES["report"] = report
    try:
        built = T.build_examples(engine, out)
    finally:
        del T.ENGINES["report"]
    assert built[0].engine is report and built[1].engine is engine


class _Preparing:
    """An engine that only prepares questions, for build_examples."""

    def prepare(self, question):
        return question, question, np.zeros(3), False


def test_each_documents_questions_are_asked_of_the_report_with_the_documents_of_its_own_folder(tmp_path):
    """As a blind read serves them (score_blind.py): a document's questions are featurised against
    the report and the documents written beside it, not against every document trained on."""
    for folder, names in (("readA", ("fiji", "peru")), ("readB", ("oman",))):
        for name in names:
            (tmp_path / folder / name).mkdir(parents=True)
            (tmp_path / folder / name / f"{name}.md").write_text(f"# {name}\n\nA line.\n")
    sources = {
        n: tmp_path / f / n for f, ns in (("readA", ("fiji", "peru")), ("readB", ("oman",))) for n in ns
    }
    items = [
        _item("a", "Q1?", "train", source="fiji", other_document=True),
        _item("b", "Q2?", "dev", source="oman", other_document=True),
        _item("c", "Q3?", "train", source="h1", corpus="report"),
    ]
    seen: dict[str, list[str]] = {}

    def build(name, files):
        seen[name] = sorted(f.name for f in files)
        return _Preparing()

    try:
        out = T.as_served(items, sources, build=build)
        assert [it["corpus"] for it in out] == ["served:readA", "served:readB", "report"]
        report = sorted(f.name for f in (ROOT / "corpus").iterdir())
        assert seen == {"served:readA": sorted([*report, "fiji.md", "peru.md"]),
                        "served:readB": sorted([*report, "oman.md"])}  # fmt: skip
        built = T.build_examples(_Preparing(), out)
        assert built[0].engine is T.ENGINES["served:readA"] and built[1].engine is T.ENGINES["served:readB"]
    finally:
        for name in seen:
            T.ENGINES.pop(name, None)

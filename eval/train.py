"""Train the answering model (src/ipqa/answering_model.json) from eval/labelled/*.jsonl and the
other documents' questions (eval/other_documents/, but those held out: HELD_OUT, and the new
documents of blind sets already read: BLIND_READ).

    .venv/bin/python eval/train.py

Fits on the train split and chooses model settings on dev (regularisation, calibration). The
refusal threshold and how many sentences to keep are chosen on dev pooled with train questions
scored out of fold (by models fitted without them): both rest on a few questions at the margin,
which dev alone holds too few of. Never reads the test split. Deterministic: the same data gives
the same file. Needs scikit-learn (a dev dependency); answering does not.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ipqa.embedding import DIM, multilingual_encoder  # noqa: E402
from ipqa.features import (  # noqa: E402
    CONTEXT_CHUNKS,
    CONTINUATION_FEATURES,
    MONOTONE,
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    SENTENCE_MONOTONE,
    Candidate,
    Question,
)
from ipqa.index import atomic_write_bytes  # noqa: E402
from ipqa.labels import (  # noqa: E402
    language_of,
    load_extra_intents,
    load_extra_kinds,
    load_labelled,
    load_labelled_file,
)
from ipqa.model import (  # noqa: E402
    BROAD_INTENT,
    CROSS_MODEL_FILE,
    INTENTS,
    KINDS,
    MODEL_FILE,
    NGRAM_BUCKETS,
    AnsweringModel,
    Blend,
    Linear,
    Trees,
    below_floor,
    english_embedding,
)
from ipqa.text import terms  # noqa: E402

# The answerable model's linear member reads the question's English embedding too (model.py).
ANSWER_EMBEDDING = True
# False refusals allowed when choosing the refusal threshold (train out of fold and dev). English is
# held to 0.05 on test and on blind sets; a test or blind set of ~160 answerable questions measures a
# rate of 0.05 only to about ±0.017 (one standard error), so the target sits that far under the
# bound. Other languages cannot meet both their targets (refusal 0.75, false refusals 0.05) yet: at
# 0.05 they refuse about half of what they should, at 0.15 three in four (the curve is in the
# training log). 0.10 misses both by about as much, and stays within their CI bound (0.22).
TARGET_FALSE_REFUSALS = {False: 0.033, True: 0.10}  # key: other languages
# The threshold actually chosen decides the most questions rightly (train out of fold and dev)
# within these false refusals: English the bound itself. Most refused at 0.033 let the other
# documents' answerable questions, refused five times as often as the report's, set a threshold
# at which the report's were almost never refused (eval/TEST_READS.md, candidates 73 and 74).
# Other languages: 0.05 too, their own target (eval/thresholds.toml). The earlier 0.10 predates
# their CI bound of 0.08; counting handled questions, the threshold went to that cap (candidate
# 77: dev false refusals 0.106).
MAX_FALSE_REFUSALS = {False: 0.05, True: 0.05}
# A word of asking must be in this many answerable train questions, and be in unanswerable ones at
# most this share of the time (the share of unanswerable questions among all is about 0.35).
ASKING_MIN, ASKING_MAX_UNANSWERABLE = 3, 0.2
FOLDS = 5  # cross-fitting folds over train questions (fold_ids)
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# When a chosen sentence's neighbour joins the answer (1.01: never). Down to 0.05: the zh/ja/ko
# model's dev best was 0.07, below the 0.3 where the grid once stopped (eval/TEST_READS.md, 50).
CONTINUE_GRID = (1.01, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15, 0.1, 0.07, 0.05)
WORD_WEIGHTS = (1.0, 2.0, 4.0, 8.0)  # the question's hashed words beside its embedding


@dataclass
class Example:
    item: dict
    qvec: np.ndarray
    q: Question | None = None
    cands: list[Candidate] | None = None
    X: np.ndarray | None = None
    y: np.ndarray | None = None  # 1 where the candidate is gold evidence
    engine: Any = None  # the index the question is asked against (see report_alone, --alone)


# Engines other than the main one, by corpus name: with --alone, an other document's questions are
# asked against that document alone or against all documents together (by a hash of the question),
# so that training sees corpora of different sizes.
ENGINES: dict[str, Any] = {}
# The closeness floor (AnsweringModel.dense_floor): this share of the answerable training questions
# lies below it. 0 (the least close answerable question) costs no false refusal on train. Each
# language group then chooses a higher floor from FLOOR_QUANTILES of its own answerable questions
# (train out of fold and dev): the one that refuses the most unanswerable questions once the
# threshold is chosen again for the same false refusals. Questions in other languages are compared
# with the documents by another encoder, whose cosines lie lower and closer together than the
# English one's, and their out-of-domain questions come closer to the documents than English ones.
DENSE_FLOOR_QUANTILE = 0.0
FLOOR_QUANTILES = (0.0, 0.005, 0.01, 0.02, 0.05)
DENSE_COLUMN = QUESTION_FEATURES.index("dense_max")  # what the floor reads
BROAD_COLUMN = QUESTION_FEATURES.index("intent_broad")  # a broad question is exempt (model.below_floor)


def narrow(Q: np.ndarray) -> np.ndarray:
    """The rows the closeness floor applies to (model.below_floor): not broad questions."""
    return Q[:, BROAD_COLUMN] < BROAD_INTENT


# No separate out-of-domain model (its features stay in the one answerable model, fitted on every
# question): trained on the report and six other documents, it raised the answer-or-refuse AUC on
# four documents it never saw from 0.742 to 0.780. --domain-model brings the gate back.
NO_DOMAIN = True
# Other documents never trained on, so that transfer to unseen documents can be measured
# (eval/score_documents.py --only NAME).
HELD_OUT = ("vietnam", "gulf", "india", "australia", "chile", "nigeria")
# Blind sets already read (eval/blind/README.md) are no longer blind: their new documents, each
# with its questions in everyday words, are trained on like the other documents. Their sets on
# the report are not (the report's questions are eval/labelled/, split once by a hash).
BLIND_READ = tuple(f"read{n}" for n in (*range(9, 29), 30))
# Answerable twins of the train split's near misses (eval/twins/README.md): each asks its near miss's
# question with the one detail changed that the document does state, so that the form in which
# writers ask near misses does not by itself predict a refusal. Train only, never dev or test.
TWINS = ROOT / "eval" / "twins"


def fit_linear(X: np.ndarray, y: np.ndarray, C: float, classes: tuple[str, ...] = (), balanced=False,
               raw_from: int | None = None, raw_weight: float = 1.0) -> Linear:  # fmt: skip
    """Logistic regression on standardised inputs; columns from `raw_from` on (0/1 word features)
    are left as they are, so that a rare word does not get a huge standardised value, but
    multiplied by `raw_weight` (how much the penalty lets words count beside the embedding)."""
    from sklearn.linear_model import LogisticRegression

    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    if raw_from is not None:
        mean[raw_from:], scale[raw_from:] = 0.0, 1.0 / raw_weight
    clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced" if balanced else None)
    clf.fit((X - mean) / scale, y)
    return Linear(clf.coef_.copy(), clf.intercept_.copy(), mean, scale, classes)


# What tells an off-topic question from one about the documents: how close the documents come to
# it at all, and how much of its wording they have; and whether it asks for a summary or advice,
# which "summarise this document" does in words no sentence of it is close to.
DOMAIN_FEATURES = ("dense_max", "best_dense", "lex_max", "heading_max", "known_share", "unknown_terms",
                   "uncovered_places", "any_unknown_name", "intent_summary", "intent_recommendation")  # fmt: skip


def _always(n: int) -> Linear:
    """A placeholder domain model that says "in domain" (probability ≈ 1) before one is trained."""
    return Linear(np.zeros((1, n)), np.array([30.0]), np.zeros(n), np.ones(n))


def fit_linear_signed(X: np.ndarray, y: np.ndarray, C: float, signs: list[int]) -> Linear:
    """A balanced logistic regression whose weights keep the signs known beforehand (`signs`:
    +1, -1, or 0 for free): features that come out with the wrong sign (collinear ones do) are
    dropped one at a time, the most wrong first, and the model refitted."""
    keep = np.ones(X.shape[1], dtype=bool)
    while True:
        m = fit_linear(X[:, keep], y, C, balanced=True)
        w = np.zeros(X.shape[1])
        w[keep] = m.coef[0]
        wrong = [
            (abs(w[j]), j) for j in range(X.shape[1]) if keep[j] and signs[j] and np.sign(w[j]) == -signs[j]
        ]
        if not wrong:
            break
        keep[max(wrong)[1]] = False
    mean = np.zeros(X.shape[1])
    scale = np.ones(X.shape[1])
    mean[keep], scale[keep] = m.mean, m.scale
    return Linear(w.reshape(1, -1), m.intercept, mean, scale)


def fit_trees(
    X: np.ndarray, y: np.ndarray, depth: int, n_trees: int, balanced: bool = True, monotone=None
) -> Trees:
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        learning_rate=0.05, max_depth=depth, max_iter=n_trees, min_samples_leaf=10, l2_regularization=1.0,
        class_weight="balanced" if balanced else None, early_stopping=False, random_state=0,
        monotonic_cst=monotone,
    )  # fmt: skip
    clf.fit(X, y)
    trees = [p[0].nodes for p in clf._predictors]
    return Trees(
        float(np.ravel(clf._baseline_prediction)[0]),
        tuple(t["feature_idx"].astype(np.int64) for t in trees),
        tuple(t["num_threshold"].astype(np.float64) for t in trees),
        tuple(t["left"].astype(np.int64) for t in trees),
        tuple(t["right"].astype(np.int64) for t in trees),
        tuple(t["value"].astype(np.float64) for t in trees),
        tuple(t["is_leaf"].astype(bool) for t in trees),
    )


# ---------------------------------------------------------------- the pipeline pieces


def build_examples(engine, items: list[dict]) -> list[Example]:
    out = []
    for item in items:
        eng = ENGINES.get(item.get("corpus", ""), engine)
        _, search_q, qvec, _ = eng.prepare(item["question"])
        ex = Example(item, qvec, engine=eng)
        ex.item = {**item, "search_q": search_q}
        out.append(ex)
    return out


def learn_asking_terms(examples: list[Example], vocabulary: Collection[str]) -> frozenset[str]:
    """The words people ask with that the documents do not use: each is in at least
    ASKING_MIN answerable questions, and at most ASKING_MAX_UNANSWERABLE of the questions with
    it are unanswerable ("summarise", "gist", "firm"; not "recipe" or a year)."""
    answerable: Counter[str] = Counter()
    unanswerable: Counter[str] = Counter()
    for ex in examples:
        unknown = {t for t in terms(ex.item["search_q"]) if t not in vocabulary}
        (answerable if ex.item["answerable"] else unanswerable).update(unknown)
    return frozenset(
        t
        for t, n in answerable.items()
        if n >= ASKING_MIN and unanswerable[t] <= ASKING_MAX_UNANSWERABLE * (n + unanswerable[t])
    )


def featurize(engine, examples: list[Example], intents=None, kinds=None, asking=None) -> None:
    """Candidates and their features; `intents`, `kinds` and `asking`, when given, replace the
    classifiers' probabilities and the model's asking words (row per example)."""
    for i, ex in enumerate(examples):
        f = ex.engine.composer.f
        hits = ex.engine.retriever.search(ex.item["search_q"], ex.qvec, k=CONTEXT_CHUNKS)
        ex.q = f.question(ex.item["search_q"], ex.qvec, None if asking is None else asking[i])
        if intents is not None:
            ex.q = replace(ex.q, intent=intents[i], kind=kinds[i])
        ex.cands = f.candidates(ex.q, ex.qvec, hits)
        ex.X = f.sentence_matrix(ex.q, ex.qvec, ex.cands)
        gold = set(ex.item.get("evidence", ()))
        ex.y = np.array([c.sentence.text in gold for c in ex.cands], dtype=int)


def question_rows(engine, examples: list[Example], sentence: Linear, p_override=None) -> np.ndarray:
    rows = []
    for i, ex in enumerate(examples):
        p = p_override[i] if p_override is not None else sentence.proba(ex.X)
        rows.append(ex.engine.composer.f.question_vector(ex.q, ex.cands, ex.X, p))
    return np.array(rows)


def first_gold_rank(examples: list[Example], sentence: Linear) -> float:
    """Mean reciprocal rank of the first gold sentence among the candidates (answerable only)."""
    rr = []
    for ex in examples:
        if not ex.item["answerable"] or not ex.y.any():
            continue
        p = sentence.proba(ex.X)
        order = np.argsort(-p, kind="stable")
        rank = next(r for r, i in enumerate(order, 1) if ex.y[i])
        rr.append(1.0 / rank)
    return float(np.mean(rr)) if rr else 0.0


def continuation_rows(examples: list[Example], probs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(features, label) of each neighbour in its paragraph of a question's two best sentences
    (as the sentence model ranks them): is the neighbour an answer sentence too? Answerable
    questions only: a refused question adds nothing."""
    rows, labels = [], []
    for ex, p in zip(examples, probs, strict=True):
        if not ex.item["answerable"] or not ex.y.any() or not len(ex.cands):
            continue
        f = ex.engine.composer.f
        anchors = [int(i) for i in np.argsort(-p, kind="stable")[:2]]
        pairs = f.neighbours(ex.cands, anchors)
        if pairs:
            rows.append(f.continuation_matrix(ex.q, ex.cands, ex.X, p, pairs, anchors))
            labels += [int(ex.y[b]) for _, b in pairs]
    return np.vstack(rows), np.array(labels)


def logloss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose_threshold(prob: np.ndarray, answerable: np.ndarray, target: float, handled=False) -> float:
    """The threshold that refuses the most unanswerable questions (`handled`: decides the most
    questions rightly) while refusing at most `target` of the answerable ones (middle of the best
    plateau)."""
    best: list[float] = []
    best_score = -1.0
    for t in np.round(np.arange(0.02, 0.96, 0.01), 2):
        refused = prob < t
        frr = refused[answerable].mean() if answerable.any() else 0.0
        if frr > target:
            continue
        score = refused[~answerable].mean() if (~answerable).any() else 0.0
        if handled:
            score = float((refused != answerable).mean())
        if score > best_score + 1e-9:
            best, best_score = [float(t)], score
        elif abs(score - best_score) <= 1e-9:
            best.append(float(t))
    return best[len(best) // 2] if best else 0.02


def use_model(engine, model: AnsweringModel) -> None:
    """Answer every question, whatever its language, with the model being trained."""
    for eng in {id(e): e for e in (engine, *ENGINES.values())}.values():
        eng.composer.f.model = eng.composer.f.cross_model = model


def selection_score(engine, scored: list[tuple[Example, np.ndarray]], model: AnsweringModel) -> float:
    """Objective for the sentence-count settings over (question, its candidates' probabilities):
    facts found + half the citation precision."""
    use_model(engine, model)
    scores = []
    for ex, p in scored:
        if not ex.item["answerable"] or not ex.cands:
            continue
        chosen = ex.engine.composer.select(ex.q, ex.cands, p, ex.X)
        text = " ".join(c.sentence.text for c, _ in chosen).lower()
        facts = all(any(a.lower() in text for a in g) for g in ex.item["answer_facts"])
        gold = set(ex.item["evidence"])
        precision = sum(c.sentence.text in gold for c, _ in chosen) / len(chosen)
        scores.append(float(facts) + 0.5 * precision)
    return float(np.mean(scores))


# ---------------------------------------------------------------- training


def train(
    engine,
    items: list[dict],
    extra: list[dict],
    log=print,
    extra_kinds: list[dict] = (),
    dump: str | None = None,
    matrices: str | None = None,
) -> dict[bool, AnsweringModel]:
    """Two answering models: the English one (key False) and one for questions in other languages
    (key True). They share the intent, kind and sentence models, fitted on every labelled language.
    The answer-or-refuse models are the English questions' own for English; for other languages,
    too few to stand alone, they are fitted on every language. Each group's refusal threshold and
    sentence counts come from its own questions."""
    # Sorted by question, so that the model does not depend on file order (cross-fitting folds).
    items = sorted(
        (it for it in items if it["split"] in ("train", "dev")),
        key=lambda it: it["question"],
    )
    tr = [it for it in items if it["split"] == "train"]
    dv = [it for it in items if it["split"] == "dev"]
    log(f"train {len(tr)} questions, dev {len(dv)} (test is not read)")
    ex_tr, ex_dv = build_examples(engine, tr), build_examples(engine, dv)

    # 1. intent and kind, from the question's embedding
    extra_tr = [e for e in extra if e["split"] == "train"]
    extra_dv = [e for e in extra if e["split"] == "dev"]

    def vecs(rows):
        return np.array([engine.composer.f.form_input(ex.item["search_q"], ex.qvec) for ex in rows])

    def extra_vecs(rows):
        """As a question is read when answering: corrected, and a CJK one without an English vector."""
        if not rows:
            return np.zeros((0, DIM + NGRAM_BUCKETS))
        return np.array([engine.composer.f.form_input(*engine.prepare(e["question"])[1:3]) for e in rows])

    # Intent is learned from the report's labelled questions and the intent-only examples: the
    # other documents' questions are nearly all facts and numbers, and would drown the rare
    # intents (a follow-up, "what does it advise"). So would the twins of near misses (eval/twins/).
    own_tr = [ex for ex in ex_tr if not ex.item.get("other_document") and not ex.item.get("twin_of")]
    own_dv = [ex for ex in ex_dv if not ex.item.get("other_document")]
    Xi_tr = np.vstack([vecs(own_tr), extra_vecs(extra_tr)])
    yi_tr = [ex.item["intent"] for ex in own_tr] + [e["intent"] for e in extra_tr]
    Xi_dv = np.vstack([vecs(own_dv), extra_vecs(extra_dv)])
    yi_dv = [ex.item["intent"] for ex in own_dv] + [e["intent"] for e in extra_dv]
    # Chosen by log-loss, as kind is: its probabilities are features (how much a sentence's advice
    # counts, how many sentences to keep), so an overconfident wrong intent costs more than a
    # hesitant one. (Chosen by accuracy it took C = 10 and called "What does the briefing advise
    # companies to do?" a list question with probability 0.95.)
    yi_dv_idx = np.array([INTENTS.index(y) for y in yi_dv])
    intent, intent_ll, intent_c = None, 9e9, None
    for C, g in itertools.product(C_GRID, WORD_WEIGHTS):
        m = fit_linear(Xi_tr, np.array(yi_tr), C, raw_from=DIM, raw_weight=g)
        m = replace(m, classes=tuple(INTENTS))
        m = _reorder(m, yi_tr, INTENTS)
        P = m.proba(Xi_dv)
        ll = float(-np.mean(np.log(np.clip(P[np.arange(len(yi_dv_idx)), yi_dv_idx], 1e-9, 1.0))))
        if ll < intent_ll - 1e-9:
            intent, intent_ll, intent_c = m, ll, (C, g)
    intent_acc = float(np.mean(intent.proba(Xi_dv).argmax(1) == yi_dv_idx))
    log(f"intent: dev accuracy {intent_acc:.3f}, log-loss {intent_ll:.3f} (C, word weight = {intent_c})")

    kinds_tr = [e for e in extra_kinds if e["split"] == "train"]
    Xk_tr = np.vstack([vecs(ex_tr), extra_vecs(kinds_tr)])
    yk_tr = [ex.item["kind"] for ex in ex_tr] + [e["kind"] for e in kinds_tr]
    # Chosen on the labelled dev questions alone, by log-loss: its probabilities are features.
    Xk_dv = vecs(ex_dv)
    yk_dv = np.array([KINDS.index(ex.item["kind"]) for ex in ex_dv])
    kind, kind_ll, kind_c = None, 9e9, None
    for C, g in itertools.product(C_GRID, WORD_WEIGHTS):
        m = _reorder(fit_linear(Xk_tr, np.array(yk_tr), C, raw_from=DIM, raw_weight=g), yk_tr, KINDS)
        P = m.proba(Xk_dv)
        ll = float(-np.mean(np.log(np.clip(P[np.arange(len(yk_dv)), yk_dv], 1e-9, 1.0))))
        if ll < kind_ll - 1e-9:
            kind, kind_ll, kind_c = m, ll, (C, g)
    kind_acc = float(np.mean(kind.proba(Xk_dv).argmax(1) == yk_dv))
    log(f"kind: dev accuracy {kind_acc:.3f}, log-loss {kind_ll:.3f} (C, word weight = {kind_c}; "
        f"{len(kinds_tr)} kind-only examples)")  # fmt: skip

    # 2. features need the intent and kind models; the rest starts neutral
    n_s, n_q = len(SENTENCE_FEATURES), len(QUESTION_FEATURES)
    neutral = Linear(np.zeros((1, n_s)), np.zeros(1), np.zeros(n_s), np.ones(n_s))
    neutral_q = Linear(np.zeros((1, n_q)), np.zeros(1), np.zeros(n_q), np.ones(n_q))
    vocabulary = engine.composer.f.vocabulary
    asking = learn_asking_terms(ex_tr, vocabulary)
    log(f"asking words: {len(asking)} ({', '.join(sorted(asking)[:30])} …)")
    model = AnsweringModel(intent, kind, neutral, neutral_q, _always(len(DOMAIN_FEATURES)), DOMAIN_FEATURES,
                           (1.0, 0.0), 0.5, 0.6, 0.3, 0.1, SENTENCE_FEATURES, QUESTION_FEATURES, {},
                           asking_terms=asking, spelled_acronyms=True)  # fmt: skip
    use_model(engine, model)
    # A train question's own intent and kind probabilities would come from classifiers fitted on it,
    # surer than on any new question: the models fitted on them would trust them too much. So
    # train questions get them from classifiers fitted without their fold.
    n_tr = len(ex_tr)
    fold = fold_ids(ex_tr)
    own_oof = out_of_fold_classes(
        Xi_tr,
        yi_tr,
        len(own_tr),
        lambda X, y: _reorder(
            fit_linear(X, np.array(y), intent_c[0], raw_from=DIM, raw_weight=intent_c[1]), y, INTENTS
        ),
    )
    # the other documents' questions were not fitted on: the intent model's own probabilities
    own_row = {id(ex): i for i, ex in enumerate(own_tr)}
    intents_tr = np.array(
        [own_oof[own_row[id(ex)]] if id(ex) in own_row else intent.proba(vecs([ex]))[0] for ex in ex_tr]
    )
    kinds_tr_p = out_of_fold_classes(
        Xk_tr, yk_tr, n_tr, lambda X, y: _reorder(fit_linear(X, np.array(y), kind_c[0], raw_from=DIM,
                                                              raw_weight=kind_c[1]), y, KINDS),
        fold=fold,
    )  # fmt: skip
    # Words of asking, learned the same way: a train question's come from the other folds.
    asking_folds = [
        learn_asking_terms([ex for j, ex in enumerate(ex_tr) if fold[j] != k], vocabulary)
        for k in range(FOLDS)
    ]
    featurize(engine, ex_tr, intents_tr, kinds_tr_p, [asking_folds[k] for k in fold])
    featurize(engine, ex_dv)

    # 3. the sentence model: which candidates answer the question
    # Questions the documents nearly answer teach it too: none of their candidates is an answer,
    # however close, so a sentence on the topic that lacks what was asked scores low.
    ranked = [ex for ex in ex_tr if ex.item["answerable"] and ex.y.any()]
    ranked += [ex for ex in ex_tr if ex.item["register"] in ("near-miss", "false-premise") and len(ex.X)]
    # Trees keep the directions known beforehand: without them, a few rows can teach that sharing
    # more of the question's words, or stating the kind of value asked for, makes a worse answer.
    # Only the lexical and entity features are constrained (features.SENTENCE_MONOTONE): with the
    # dense ones too, English dev fact accuracy fell from 0.861 to 0.850 and the answer-or-refuse
    # AUC (train out of fold and dev) from 0.895 to 0.893; with none, a sentence that shares more of
    # the question's words and states the value asked for can rank under one that does neither.
    sentence_signs = [SENTENCE_MONOTONE.get(n, 0) for n in SENTENCE_FEATURES]
    Xs = np.vstack([ex.X for ex in ranked])
    ys = np.concatenate([ex.y for ex in ranked])
    sentence, best_mrr, sent_c = None, -1.0, None
    for C in C_GRID:
        m = fit_linear(Xs, ys, C)
        mrr = first_gold_rank(ex_dv, m)
        if mrr > best_mrr:
            sentence, best_mrr, sent_c = m, mrr, C
    for depth in (3, 4):
        for n_trees in (100, 200):
            m = fit_trees(Xs, ys, depth, n_trees, balanced=False, monotone=sentence_signs)
            mrr = first_gold_rank(ex_dv, m)
            if mrr > best_mrr:
                sentence, best_mrr, sent_c = m, mrr, (depth, n_trees)
    log(f"sentence: dev MRR of the first gold sentence {best_mrr:.3f} (C={sent_c}); "
        f"{len(ys)} training rows, {int(ys.sum())} gold")  # fmt: skip

    # 4. the answerability model, on sentence probabilities cross-fitted over train questions
    p_cross: list[np.ndarray | None] = [None] * len(ex_tr)
    for k in range(FOLDS):
        fit_rows = [ex for i, ex in enumerate(ex_tr) if fold[i] != k and ex in ranked]
        Xf, yf = np.vstack([e.X for e in fit_rows]), np.concatenate([e.y for e in fit_rows])
        m = (
            fit_trees(Xf, yf, *sent_c, balanced=False, monotone=sentence_signs)
            if isinstance(sent_c, tuple)
            else fit_linear(Xf, yf, sent_c)
        )
        for i, ex in enumerate(ex_tr):
            if fold[i] == k:
                p_cross[i] = m.proba(ex.X)
    # 4a. whether a chosen sentence's neighbour in its paragraph joins it (answer.continuations):
    # fitted on train questions with their out-of-fold sentence probabilities, chosen on dev
    Xc_tr, yc_tr = continuation_rows(ex_tr, p_cross)
    Xc_dv, yc_dv = continuation_rows(ex_dv, [sentence.proba(ex.X) for ex in ex_dv])
    continuation, cont_ll, cont_c = None, 9e9, None
    for C in C_GRID:
        m = fit_linear(Xc_tr, yc_tr, C)
        ll = logloss(m.proba(Xc_dv), yc_dv)
        if ll < cont_ll:
            continuation, cont_ll, cont_c = m, ll, C
    log(f"continuation: {len(yc_tr)} training pairs, {int(yc_tr.sum())} both answer sentences; "
        f"dev log-loss {cont_ll:.3f} (C={cont_c}; {len(yc_dv)} pairs, {yc_dv.mean():.3f} positive)")  # fmt: skip
    Q_tr = question_rows(engine, ex_tr, sentence, p_cross)
    a_tr = np.array([ex.item["answerable"] for ex in ex_tr], dtype=int)
    Q_dv = question_rows(engine, ex_dv, sentence)
    # The answerable models' linear members read the question's embedding too, after the named
    # features: the English model the English encoder's; the model for other languages, fitted on
    # every language, the multilingual encoder's (the vector a zh, ja or ko question is searched
    # with), so that English questions teach it how a question asks in one space for all.
    every = ex_tr + ex_dv
    embedded = {cross: np.zeros((len(every), 0)) for cross in (False, True)}
    if ANSWER_EMBEDDING:
        embedded[False] = np.array([english_embedding(ex.qvec) for ex in every])
        embedded[True] = (
            multilingual_encoder().encode([ex.item["search_q"] for ex in every]).astype(np.float64)
        )
    a_dv = np.array([ex.item["answerable"] for ex in ex_dv], dtype=int)
    lang_tr = np.array([language_of(ex.item) != "en" for ex in ex_tr])
    lang_dv = np.array([language_of(ex.item) != "en" for ex in ex_dv])
    twin_tr = np.array([bool(ex.item.get("twin_of")) for ex in ex_tr])
    other_tr = np.array([bool(ex.item.get("other_document")) for ex in ex_tr])
    other_dv = np.array([bool(ex.item.get("other_document")) for ex in ex_dv])
    log(f"answer-or-refuse rows: train {len(ex_tr)}, of which other documents' {int(other_tr.sum())}, "
        f"twins {int(twin_tr.sum())}, zh/ja/ko {int(lang_tr.sum())}")  # fmt: skip
    o_tr = np.array([ex.item["register"] != "out-of-domain" for ex in ex_tr], dtype=int)
    o_dv = np.array([ex.item["register"] != "out-of-domain" for ex in ex_dv], dtype=int)
    if matrices:  # what the answer-or-refuse models are fitted on, to try their fitting in seconds
        save_matrices(Path(matrices), ex_tr, ex_dv, Q_tr, Q_dv, embedded, fold)
    fits: dict[bool, AnswerabilityFit] = {}
    for cross in (False, True):
        # English questions get a model of their own: the lexical features mean more for them,
        # and mixing in other languages blurs that. Other languages have too few questions for a
        # model of their own, so theirs is fitted and chosen on every question (English included).
        # The twins balance the English writers' near-miss forms; in the model fitted on every
        # language they would only add English answerable questions. The other documents'
        # questions, all English, are as many as the report's in all languages (2,011 and 1,964
        # train): the model for other languages learns from the report's questions alone, in
        # every language, the questions its own are like (eval/TEST_READS.md, candidates 77 and 78).
        use_tr = (~twin_tr & ~other_tr) if cross else ~lang_tr
        choose_dv = ~other_dv if cross else ~lang_dv
        e_tr, e_dv = embedded[cross][: len(ex_tr)], embedded[cross][len(ex_tr) :]
        fits[cross] = fit_answerability(
            np.hstack([Q_tr, e_tr]), a_tr, o_tr, np.hstack([Q_dv, e_dv]), a_dv, o_dv, use_tr, choose_dv, fold
        )
        name = "other languages" if cross else "English"
        log(f"{name}: domain dev log-loss {fits[cross].domain_ll:.3f}; answerable: {fits[cross].about}")
    sweights = (
        dict(zip(SENTENCE_FEATURES, sentence.coef[0].round(3).tolist(), strict=True))
        if isinstance(sentence, Linear)
        else tree_importance(sentence, SENTENCE_FEATURES)
    )
    if dump:  # every question's calibrated probability, to read the model's errors (no test)
        rows = [
            {"split": split, "question": ex.item["question"], "register": ex.item["register"],
             "intent": ex.item["intent"], "answerable": bool(ex.item["answerable"]), "p": round(float(pr), 4)}
            for split, exs, ps, langs in (
                ("train (out of fold)", ex_tr, None, lang_tr), ("dev", ex_dv, None, lang_dv))
            for ex, pr in zip(exs, _own_group(fits, langs, split == "dev"), strict=True)
        ]  # fmt: skip
        Path(dump).write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    models = {}
    for cross in (False, True):
        # 6. per language group: the refusal threshold, then how many sentences to keep
        name = "other languages" if cross else "English"
        fit = fits[cross]
        sel = lang_dv == cross
        # Twins are written to balance a form, not drawn as users ask: the threshold and the
        # selection settings are chosen on the other questions only.
        sel_tr = (lang_tr == cross) & ~twin_tr
        dense_floor, threshold, calibrated_tr, calibrated = choose_floor(
            fit,
            Q_tr[:, DENSE_COLUMN],
            Q_dv[:, DENSE_COLUMN],
            a_tr,
            a_dv,
            sel_tr,
            sel,
            MAX_FALSE_REFUSALS[cross],
            Q_tr[:, BROAD_COLUMN],
            Q_dv[:, BROAD_COLUMN],
        )
        log(f"{name}: closeness floor {dense_floor:.3f} (from {fit.dense_floor:.3f})")
        refused = calibrated < threshold
        refused_tr = calibrated_tr < threshold
        pooled_p = np.concatenate([calibrated_tr[sel_tr], calibrated[sel]])
        pooled_a = np.concatenate([a_tr[sel_tr], a_dv[sel]]).astype(bool)
        curve = ", ".join(
            f"{(pooled_p[~pooled_a] < t).mean():.2f} at {(pooled_p[pooled_a] < t).mean():.3f}"
            for t in (choose_threshold(pooled_p, pooled_a, target) for target in (0.02, 0.05, 0.1, 0.15, 0.2))
        )
        log(f"{name}: unanswerable refused at false refusals (train out of fold and dev): {curve}")
        log(f"{name}: threshold {threshold:.2f}: train (out of fold) refuses "
            f"{refused_tr[sel_tr & (a_tr == 0)].mean():.3f} of unanswerable, "
            f"{refused_tr[sel_tr & (a_tr == 1)].mean():.3f} of answerable")  # fmt: skip
        log(f"{name}: threshold {threshold:.2f}: dev refuses {refused[sel & (a_dv == 0)].mean():.3f} of "
            f"unanswerable, {refused[sel & (a_dv == 1)].mean():.3f} of answerable ({int(sel.sum())} questions)")  # fmt: skip
        # Settings chosen on few questions fit their noise: train questions (with sentence
        # probabilities from models that did not see them) are pooled with dev here too.
        scored = [(ex, p_cross[i]) for i, ex in enumerate(ex_tr) if sel_tr[i]]
        scored += [(ex, sentence.proba(ex.X)) for ex, s in zip(ex_dv, sel, strict=True) if s]
        base = replace(model, sentence=sentence, domain=fit.domain, answerable=fit.answerable,
                       platt=fit.platt, threshold=threshold, dense_floor=dense_floor,
                       answer_embedding=embedded[cross].shape[1])  # fmt: skip
        best = (-1.0, base)
        for extra_ratio in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01):
            for broad_ratio in (0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
                for floor in (0.02, 0.05, 0.1, 0.2, 0.3):
                    cand = replace(
                        base, extra_ratio=extra_ratio, broad_ratio=broad_ratio, sentence_floor=floor
                    )
                    score = selection_score(engine, scored, cand)
                    if score > best[0] + 1e-9:
                        best = (score, cand)
        chosen = best[1]
        # The continuation threshold on dev alone: the continuation model saw the train questions.
        on_dev = [(ex, sentence.proba(ex.X)) for ex, s in zip(ex_dv, sel, strict=True) if s]
        options = [replace(chosen, continuation=continuation, continue_above=t,
                           continuation_features=CONTINUATION_FEATURES)
                   for t in CONTINUE_GRID]  # fmt: skip
        scores = [selection_score(engine, on_dev, m) for m in options]
        chosen = options[int(np.argmax(scores))]  # the first best: 1.01 (none) unless one beats it
        log(f"{name}: continuation above {chosen.continue_above} (dev score "
            f"{max(scores):.3f}, without {scores[0]:.3f})")  # fmt: skip
        log(f"{name}: selection extra_ratio {chosen.extra_ratio}, broad_ratio {chosen.broad_ratio}, "
            f"floor {chosen.sentence_floor} (train out of fold and dev: score {best[0]:.3f})")  # fmt: skip
        info = {
            "serves": name,
            "train_questions": len(tr),
            "dev_questions": len(dv),
            "answerability_fitted_on": "every language" if cross else "English questions",
            "dev_questions_for_threshold_and_selection": int(sel.sum()),
            "intent_extra_examples": len(extra_tr),
            "kind_extra_examples": len(kinds_tr),
            "chosen_C": {
                "intent": intent_c,
                "kind": kind_c,
                "sentence": sent_c,
                "answerable": fit.about,
                "continuation": cont_c,
            },
            "dev": {
                "intent_accuracy": round(intent_acc, 4),
                "kind_accuracy": round(kind_acc, 4),
                "sentence_mrr": round(best_mrr, 4),
                "answerable_logloss": round(fit.answerable_ll, 4),
                "refusal_rate_unanswerable": round(float(refused[sel & (a_dv == 0)].mean()), 4),
                "refusal_rate_answerable": round(float(refused[sel & (a_dv == 1)].mean()), 4),
            },
            "standardised_weights": {"answerable": fit.weights, "sentence": sweights},
        }
        models[cross] = replace(chosen, info=info)
    return models


@dataclass(frozen=True)
class AnswerabilityFit:
    """One language group's domain and answerable models, calibrated, with the probabilities they
    give every dev question and (out of fold) every train question."""

    domain: Linear
    answerable: Blend
    platt: tuple[float, float]
    calibrated_dv: np.ndarray
    calibrated_tr: np.ndarray
    domain_ll: float
    answerable_ll: float
    about: str
    weights: dict
    dense_floor: float


def save_matrices(out: Path, ex_tr, ex_dv, Q_tr, Q_dv, embedded, fold) -> None:
    """The answer-or-refuse models' inputs as .npy (rows: train, then dev) and each row's question,
    split, language, register, corpus and labels as JSON lines (rows.jsonl), for experiments on
    that stage alone (thresholds, regularisation, grouped validation) without featurising again."""

    def save(name: str, array: np.ndarray) -> None:
        buf = io.BytesIO()
        np.save(buf, array)
        atomic_write_bytes(out / name, buf.getvalue())

    out.mkdir(parents=True, exist_ok=True)
    save("questions.npy", np.vstack([Q_tr, Q_dv]))
    for cross, name in ((False, "english"), (True, "multilingual")):
        save(f"embedding_{name}.npy", embedded[cross])
    save("fold.npy", np.concatenate([fold, np.full(len(ex_dv), -1)]))
    rows = [
        {"split": split, "question": ex.item["question"], "language": language_of(ex.item),
         "register": ex.item["register"], "corpus": ex.item["source"] if ex.item.get("other_document") else "report",
         "answerable": bool(ex.item["answerable"])}
        for split, exs in (("train", ex_tr), ("dev", ex_dv)) for ex in exs
    ]  # fmt: skip
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    atomic_write_bytes(out / "rows.jsonl", text.encode("utf-8"))
    atomic_write_bytes(out / "columns.json", json.dumps(list(QUESTION_FEATURES)).encode("utf-8"))


def fit_answerability(Q_tr, a_tr, o_tr, Q_dv, a_dv, o_dv, use_tr, choose_dv, fold) -> AnswerabilityFit:
    """Fit on the train rows `use_tr`; choose regularisation and calibrate on the dev rows
    `choose_dv` (the group the model serves). Train rows outside `use_tr` are scored by the full
    model, rows inside it out of fold."""
    d_idx = [QUESTION_FEATURES.index(n) for n in DOMAIN_FEATURES]
    d_signs = [MONOTONE.get(n, 0) for n in DOMAIN_FEATURES]
    nq = len(QUESTION_FEATURES)  # the trees read these; the linear member every column
    signs = [MONOTONE.get(n, 0) for n in QUESTION_FEATURES] + [0] * (Q_tr.shape[1] - nq)
    Qt, at, ot = Q_tr[use_tr], a_tr[use_tr], o_tr[use_tr]
    Qd, ad, od = Q_dv[choose_dv], a_dv[choose_dv], o_dv[choose_dv]
    # in the documents' domain at all? (out-of-domain questions against all others)
    domain, domain_ll, dom_c = None, 9e9, None
    for C in [] if NO_DOMAIN else C_GRID:
        m = fit_linear_signed(Qt[:, d_idx], ot, C, d_signs)
        ll = logloss(m.proba(Qd[:, d_idx]), od)
        if ll < domain_ll:
            domain, domain_ll, dom_c = m, ll, C
    # answerable, among in-domain questions: a sign-constrained linear model and monotone trees
    it, idv = ot == 1, od == 1
    if NO_DOMAIN:  # one model for every question, out-of-domain ones included
        domain, domain_ll = _always(len(d_idx)), 0.0
        it, idv = np.ones(len(ot), dtype=bool), np.ones(len(od), dtype=bool)
    linear, best_lin, lin_c = None, 9e9, None
    for C in C_GRID:
        m = fit_linear_signed(Qt[it], at[it], C, signs)
        ll = logloss(m.proba(Qd[idv]), ad[idv])
        if ll < best_lin:
            linear, best_lin, lin_c = m, ll, C
    trees, best_trees, trees_c = None, 9e9, None
    for depth in (2, 3):
        for n_trees in (50, 100, 200):
            m = fit_trees(Qt[it][:, :nq], at[it], depth, n_trees, monotone=signs[:nq])
            ll = logloss(m.proba(Qd[idv]), ad[idv])
            if ll < best_trees:
                trees, best_trees, trees_c = m, ll, (depth, n_trees)
    answerable = Blend((linear, trees))
    # Refused outright: questions further from every sentence than nearly every answerable one.
    dense = DENSE_COLUMN
    floor = float(np.quantile(Qt[(at == 1) & narrow(Qt), dense], DENSE_FLOOR_QUANTILE))
    print(
        "closeness of answerable questions (not broad), quantiles 0/0.1/1/5%: "
        + " ".join(f"{v:.3f}" for v in np.quantile(Qt[(at == 1) & narrow(Qt), dense], [0, 0.001, 0.01, 0.05]))
    )

    def raw(Q):
        return np.array([domain.proba(q[d_idx])[0] * answerable.proba(q)[0] for q in Q])

    raw_dv = raw(Q_dv)
    answerable_ll = logloss(raw_dv[choose_dv], ad)
    near = ~below_floor(
        Q_dv[choose_dv, dense], Q_dv[choose_dv, BROAD_COLUMN], floor
    )  # calibrated on what the floor lets through
    # Platt calibration on the group's dev questions
    from sklearn.linear_model import LogisticRegression

    def logit(r):
        r = np.clip(r, 1e-6, 1 - 1e-6)
        return np.log(r / (1 - r))

    fit = LogisticRegression(C=1e6, max_iter=1000).fit(
        logit(raw_dv[choose_dv][near]).reshape(-1, 1), ad[near]
    )
    platt = (float(fit.coef_[0, 0]), float(fit.intercept_[0]))

    def calibrate(r, Q):
        below = below_floor(Q[:, dense], Q[:, BROAD_COLUMN], floor)
        return np.where(below, 0.0, 1 / (1 + np.exp(-(platt[0] * logit(r) + platt[1]))))

    raw_tr = raw(Q_tr)
    raw_tr[use_tr] = out_of_fold(Qt, ot, at, d_idx, d_signs, dom_c, signs, lin_c, trees_c, fold[use_tr])
    weights = {
        "linear": dict(zip(QUESTION_FEATURES, linear.coef[0][:nq].round(3).tolist(), strict=True)),
        "trees_split_share": tree_importance(trees, QUESTION_FEATURES),
        "domain_linear": dict(zip(DOMAIN_FEATURES, domain.coef[0].round(3).tolist(), strict=True)),
    }
    about = (f"blend of linear C={lin_c} (dev {best_lin:.3f}) and trees {trees_c} (dev {best_trees:.3f}); "
             f"domain C={dom_c}; closeness floor {floor:.3f}")  # fmt: skip
    return AnswerabilityFit(domain, answerable, platt, calibrate(raw_dv, Q_dv), calibrate(raw_tr, Q_tr), domain_ll,
                            answerable_ll, about, weights, floor)  # fmt: skip


def choose_floor(fit, d_tr, d_dv, a_tr, a_dv, sel_tr, sel_dv, target, b_tr=None, b_dv=None):
    """The closeness floor for one language group, from FLOOR_QUANTILES of its own answerable
    questions that are not broad (`b_*`: intent_broad; None: none is), train out of fold pooled
    with dev, with the threshold chosen again at `target` false refusals for each: the floor
    that decides the most questions rightly (the lowest on a tie). Returns the floor, the
    threshold and both splits' probabilities under the floor."""
    b_tr = np.zeros(len(d_tr)) if b_tr is None else b_tr
    b_dv = np.zeros(len(d_dv)) if b_dv is None else b_dv
    d = np.concatenate([d_tr[sel_tr], d_dv[sel_dv]])
    b = np.concatenate([b_tr[sel_tr], b_dv[sel_dv]])
    p = np.concatenate([fit.calibrated_tr[sel_tr], fit.calibrated_dv[sel_dv]])
    a = np.concatenate([a_tr[sel_tr], a_dv[sel_dv]]).astype(bool)
    best = None
    for q in FLOOR_QUANTILES:
        floor = max(fit.dense_floor, float(np.quantile(d[a & (b < BROAD_INTENT)], q)))
        pf = np.where(below_floor(d, b, floor), 0.0, p)
        t = choose_threshold(pf, a, target, handled=True)
        if q and (pf[a] < t).mean() > target:  # the floor alone refuses too many answerable questions
            continue
        refused = float(((pf < t) != a).mean())  # decided rightly
        if best is None or refused > best[0] + 1e-9:
            best = (refused, floor, t)
    _, floor, t = best
    return (
        floor,
        t,
        np.where(below_floor(d_tr, b_tr, floor), 0.0, fit.calibrated_tr),
        np.where(below_floor(d_dv, b_dv, floor), 0.0, fit.calibrated_dv),
    )


def _own_group(fits: dict[bool, AnswerabilityFit], langs: np.ndarray, dev: bool) -> np.ndarray:
    """Each question's probability from the model of its own language group."""
    en = fits[False].calibrated_dv if dev else fits[False].calibrated_tr
    other = fits[True].calibrated_dv if dev else fits[True].calibrated_tr
    return np.where(langs, other, en)


def out_of_fold_classes(
    X: np.ndarray, y: list[str], n: int, fit, fold: np.ndarray | None = None
) -> np.ndarray:
    """Class probabilities of the first n rows (the labelled questions), each from a classifier
    fitted without its fold; the rows after n (extra examples) are always fitted on."""
    out = None
    fold = np.arange(n) % FOLDS if fold is None else fold
    for k in range(FOLDS):
        keep = np.concatenate([fold != k, np.ones(len(X) - n, dtype=bool)])
        m = fit(X[keep], [y[j] for j in np.flatnonzero(keep)])
        held = np.flatnonzero(fold == k)
        p = m.proba(X[held])
        if out is None:
            out = np.zeros((n, p.shape[1]))
        out[held] = p
    return out


def out_of_fold(Q_tr, o_tr, a_tr, d_idx, d_signs, dom_c, signs, lin_c, trees_c, fold) -> np.ndarray:
    """Raw answer probabilities of the train questions, each from domain and answerable models
    fitted (with the settings chosen on dev) on the other folds."""
    raw = np.zeros(len(Q_tr))
    for k in range(FOLDS):
        fit, held = fold != k, fold == k
        if NO_DOMAIN:
            domain, ind = _always(len(d_idx)), fit
        else:
            domain = fit_linear_signed(Q_tr[fit][:, d_idx], o_tr[fit], dom_c, d_signs)
            ind = fit & (o_tr == 1)
        answerable = Blend((
            fit_linear_signed(Q_tr[ind], a_tr[ind], lin_c, signs),
            fit_trees(Q_tr[ind][:, : len(QUESTION_FEATURES)], a_tr[ind], *trees_c,
                      monotone=signs[: len(QUESTION_FEATURES)]),
        ))  # fmt: skip
        raw[held] = domain.proba(Q_tr[held][:, d_idx]) * answerable.proba(Q_tr[held])
    return raw


def fold_ids(rows: list) -> np.ndarray:
    """Cross-fitting folds. A question about another document takes its document's fold, so that
    "out of fold" means a document no model in the fit has seen, as a user's added document is,
    and the answer model learns from sentence probabilities as they are on such a document. With
    per-question folds a model had seen four fifths of the document's questions. (English dev:
    unanswerable refused 0.539 -> 0.581 at false refusals 0.033 -> 0.030; read 9's four sets,
    handled 232 -> 234 of 370.) The report's questions, the one document every user has, are
    spread over the folds one by one."""
    docs = sorted({r.item["source"] for r in rows if r.item.get("other_document")})
    doc_fold = {d: i % FOLDS for i, d in enumerate(docs)}
    return np.array(
        [
            doc_fold[r.item["source"]] if r.item.get("other_document") else i % FOLDS
            for i, r in enumerate(rows)
        ]
    )


def tree_importance(t: Trees, names: tuple[str, ...]) -> dict[str, float]:
    """How often each feature is split on, as a share of all splits (a rough importance)."""
    counts = np.zeros(len(names))
    for f, leaf in zip(t.feature, t.leaf, strict=True):
        for i in f[~leaf]:
            counts[i] += 1
    counts /= counts.sum() or 1.0
    return {n: round(float(c), 3) for n, c in sorted(zip(names, counts, strict=True), key=lambda x: -x[1])}


def _reorder(m: Linear, labels, order: tuple[str, ...]) -> Linear:
    """Rows in the fixed class order (classes never seen get a very low score)."""
    seen = sorted(set(labels))
    coef = np.zeros((len(order), m.coef.shape[1]))
    intercept = np.full(len(order), -30.0)
    if len(seen) == 2 and m.coef.shape[0] == 1:  # binary: sklearn keeps one row
        rows = {seen[0]: (-m.coef[0] / 2, -m.intercept[0] / 2), seen[1]: (m.coef[0] / 2, m.intercept[0] / 2)}
    else:
        rows = {c: (m.coef[i], m.intercept[i]) for i, c in enumerate(seen)}
    for j, c in enumerate(order):
        if c in rows:
            coef[j], intercept[j] = rows[c]
    return Linear(coef, intercept, m.mean, m.scale, tuple(order))


def make_engine(model: AnsweringModel | None = None, corpus_dir: Path | None = None):
    from ipqa.engine import Engine
    from ipqa.settings import Settings

    settings = Settings.load()
    if corpus_dir is not None:  # the documents together, indexed once beside them
        from ipqa.building import build

        settings = Settings.load(corpus_dir=corpus_dir, index_dir=corpus_dir.parent / "index")
        build(settings, lambda _: None)
    if model is None:  # a placeholder until the first model is trained
        n_s, n_q, d = len(SENTENCE_FEATURES), len(QUESTION_FEATURES), DIM
        z = Linear(np.zeros((1, n_s)), np.zeros(1), np.zeros(n_s), np.ones(n_s))
        zq = Linear(np.zeros((1, n_q)), np.zeros(1), np.zeros(n_q), np.ones(n_q))
        d += NGRAM_BUCKETS
        zi = Linear(np.zeros((len(INTENTS), d)), np.zeros(len(INTENTS)), np.zeros(d), np.ones(d), INTENTS)
        zk = Linear(np.zeros((len(KINDS), d)), np.zeros(len(KINDS)), np.zeros(d), np.ones(d), KINDS)
        model = AnsweringModel(zi, zk, z, zq, _always(len(DOMAIN_FEATURES)), DOMAIN_FEATURES, (1.0, 0.0),
                               0.5, 0.6, 0.3, 0.1, SENTENCE_FEATURES, QUESTION_FEATURES, {})  # fmt: skip
    return Engine(settings, model=model)


def other_documents(folders=None, hold_out=HELD_OUT) -> dict[str, Path]:
    """NAME → the folder of each other document trained on: eval/other_documents and the blind
    reads in BLIND_READ by default, less those held out. A NAME.jsonl without a NAME/ beside it (a
    blind set on the report) is not another document."""
    if folders is None:
        folders = [ROOT / "eval" / "other_documents", *(ROOT / "eval" / "blind" / r for r in BLIND_READ)]
    out: dict[str, Path] = {}
    for folder in map(Path, folders):
        for q in sorted(folder.glob("*.jsonl")):
            if q.with_suffix("").is_dir() and q.stem not in hold_out:
                # two documents on one country ("kenya" in other_documents and in read 24) are both kept
                out[q.stem if q.stem not in out else f"{q.stem}@{folder.name}"] = q.with_suffix("")
    return out


def with_other_documents(items: list[dict], sources: dict[str, Path]) -> tuple[list[dict], Path | None]:
    """The report's items with the other documents' questions added, and a corpus folder holding
    the report and those documents together (None: no other documents, the report alone)."""
    if not sources:
        return items, None
    import shutil
    import tempfile

    corpus_dir = Path(tempfile.mkdtemp(prefix="ipqa-train-")) / "corpus"
    shutil.copytree(ROOT / "corpus", corpus_dir)
    items = list(items)
    for name, docs in sources.items():
        for doc in sorted(docs.iterdir()):
            shutil.copy(doc, corpus_dir / doc.name)
        items += [
            dict(it, other_document=True, source=name)
            for it in load_labelled_file(docs.with_suffix(".jsonl"))
        ]
    return items, corpus_dir


def engine_alone(name: str, docs: Path) -> Any:
    """An engine over one corpus alone, built in a temporary copy of it."""
    return engine_of_files(f"alone-{name}", sorted(docs.iterdir()))


def report_alone(items: list[dict], sources: dict[str, Path]) -> list[dict]:
    """The items with the report's questions marked to be asked of the report alone (ENGINES
    "report"), as `ipqa eval`, the report's blind sets and a user with the report ask them. Asked
    among the forty other documents, their probabilities were not the ones a shipped threshold
    meets: for zh, ja and ko dev questions they correlated 0.86 with the served ones, and a
    threshold chosen for 10% false refusals refused 4% (eval/TEST_READS.md, candidate 75). The
    other documents' questions are asked as served (as_served), or with --pooled-documents of
    every document together."""
    return [it if it["source"] in sources else dict(it, corpus="report") for it in items]


def served_groups(sources: dict[str, Path]) -> dict[str, list[Path]]:
    """The other documents by the folder they were written in (eval/other_documents, one blind
    read): each folder's documents are served together, beside the report (score_blind.py)."""
    groups: dict[str, list[Path]] = {}
    for docs in sources.values():
        groups.setdefault(docs.parent.name, []).append(docs)
    return groups


def as_served(items: list[dict], sources: dict[str, Path], build=None) -> list[dict]:
    """The items with each other document's questions marked to be asked of the report and the
    documents of its own folder (ENGINES "served:FOLDER"), the corpus a blind read or a user with a
    few added documents asks them of. Asked among every document trained on, their retrieval, word
    weights and closeness were not the served ones, and the threshold chosen on them fell as
    documents were added (eval/TEST_READS.md, candidate 87). `build(name, files)`: an engine over
    those files (default: a temporary index of them)."""
    build = build or engine_of_files
    route: dict[str, str] = {}
    for folder, members in served_groups(sources).items():
        name = f"served:{folder}"
        files = [*sorted((ROOT / "corpus").iterdir()), *(f for d in members for f in sorted(d.iterdir()))]
        ENGINES[name] = build(name, files)
        route.update({n: name for n, d in sources.items() if d in members})
    return [dict(it, corpus=route[it["source"]]) if it["source"] in route else it for it in items]


def engine_of_files(name: str, files: list[Path]) -> Any:
    """An engine over these files, indexed in a temporary folder."""
    import shutil
    import tempfile

    corpus = Path(tempfile.mkdtemp(prefix=f"ipqa-{name.replace(':', '-')}-")) / "corpus"
    corpus.mkdir(parents=True)
    for f in files:
        shutil.copy(f, corpus / f.name)
    return make_engine(corpus_dir=corpus)


def with_twins(items: list[dict], folder: Path = TWINS, log=print) -> list[dict]:
    """The items with the twins of those among them added: a twin takes its near miss's document
    and split (train; a twin of any other split is an error: nothing tunes on dev or reads test).
    A twin whose near miss is not trained on (a document held out or not read) is left out, and so
    is one whose question is already a labelled question."""
    by_id = {it["id"]: it for it in items}
    asked = {" ".join(it["question"].lower().split()) for it in items}
    out, left = list(items), 0
    for path in sorted(folder.glob("*.jsonl")):
        for twin in load_labelled_file(path):
            near = by_id.get(twin["twin_of"])
            if near is None or " ".join(twin["question"].lower().split()) in asked:
                left += 1
                continue
            if near["split"] != "train" or near["register"] != "near-miss":
                raise SystemExit(
                    f"{path}: {twin['id']}: a twin of a {near['split']} {near['register']} question"
                )
            out.append(
                dict(
                    twin,
                    split="train",
                    source=near["source"],
                    other_document=near.get("other_document", False),
                )
            )
    log(f"twins: {len(out) - len(items)} added, {left} left out")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labelled", default=str(ROOT / "eval" / "labelled"))
    ap.add_argument(
        "--dump", help="write each train (out of fold) and dev question's probability here (JSONL)"
    )
    ap.add_argument(
        "--matrices",
        help="write the answer-or-refuse models' inputs to this folder (.npy and JSON lines, no test rows)",
    )
    ap.add_argument(
        "--other-documents",
        action="append",
        help="a folder of other documents (NAME/document) with their labelled questions (NAME.jsonl): "
        "trained on beside the report, so that the model does not learn one document's habits "
        "(default: eval/other_documents and the blind reads in BLIND_READ)",
    )
    ap.add_argument(
        "--hold-out",
        action="append",
        help=f"a NAME under --other-documents to leave out (default: {', '.join(HELD_OUT)})",
    )
    ap.add_argument("--report-only", action="store_true", help="train on the report's questions alone")
    ap.add_argument("--no-twins", action="store_true", help="leave out the near misses' twins (eval/twins/)")
    ap.add_argument(
        "--domain-model",
        action="store_true",
        help="the earlier design: a separate out-of-domain model gating the answerable one",
    )
    ap.add_argument(
        "--alone",
        action="store_true",
        help="ask half of each document's questions (by a hash) against that document alone",
    )
    ap.add_argument(
        "--together",
        action="store_true",
        help="ask the report's questions against every document together (the earlier design)",
    )
    ap.add_argument(
        "--pooled-documents",
        action="store_true",
        help="ask the other documents' questions of every document together (the earlier design), "
        "not of the report with the documents of their own folder",
    )
    ap.add_argument(
        "--english-only",
        action="store_true",
        help="write the English model alone, leaving the one for other languages as it is (each reads "
        "its own sentence features by name, so the two need not be refitted together)",
    )
    args = ap.parse_args()
    global NO_DOMAIN
    NO_DOMAIN = not args.domain_model
    sources = {} if args.report_only else other_documents(args.other_documents, args.hold_out or HELD_OUT)
    folder = Path(args.labelled)
    items, corpus_dir = with_other_documents(load_labelled(folder), sources)
    if not args.no_twins:
        items = with_twins(items)
    if args.alone and corpus_dir is not None:
        import hashlib

        for name, docs in ({"report": ROOT / "corpus"} | sources).items():
            ENGINES[name] = engine_alone(name, docs)
        for it in items:
            name = it["source"] if it["source"] in sources else "report"
            if hashlib.sha1(("alone:" + it["question"]).encode()).digest()[0] % 2 == 0:
                it["corpus"] = name
    elif corpus_dir is not None and not args.together:
        ENGINES["report"] = engine_alone("report", ROOT / "corpus")
        items = report_alone(items, sources)
        if not args.pooled_documents:
            items = as_served(items, sources)
    engine = make_engine(corpus_dir=corpus_dir)
    models = train(
        engine,
        items,
        load_extra_intents(folder),
        extra_kinds=load_extra_kinds(folder),
        dump=args.dump,
        matrices=args.matrices,
    )
    for cross, out in ((False, MODEL_FILE), (True, CROSS_MODEL_FILE)):
        if cross and args.english_only:
            print(f"left {out} as it was (--english-only)")
            continue
        models[cross].save(out)
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

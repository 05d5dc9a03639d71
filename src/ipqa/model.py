"""The learned answering model: six small models, stored as JSON and run in NumPy.

- intent: what shape of answer a question wants (fact, number, list, …), from its embedding;
- kind: what kind of quantity it asks for (money, duration, …, or none), from its embedding;
- sentence: the probability that a candidate sentence answers the question (features.py);
- domain: the probability that a question is about what the documents are about at all (a few
  closeness features; trained on out-of-domain questions against all others);
- answerable: the probability that the documents answer an in-domain question (near misses and
  false premises are the negatives). Their product is Platt-calibrated, and the refusal threshold
  is chosen on the dev split (eval/train.py);
- continuation: the probability that a chosen sentence's neighbour in its paragraph belongs in
  the answer too (features.CONTINUATION_FEATURES; answer.Composer.continuations).

`eval/train.py` fits them with scikit-learn on the train split and writes `answering_model.json`;
answering needs neither scikit-learn nor pickle.
"""

from __future__ import annotations

import itertools
import json
import re
import zlib
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("answering_model.json")  # for questions in English
# For questions in other languages: its answerability fitted on every labelled language (they have
# too few questions of their own), its threshold chosen on the non-English questions. The English
# model's answerability is fitted on English questions alone, so adding others never moves it.
CROSS_MODEL_FILE = Path(__file__).with_name("answering_model_cross.json")
FORMAT = 2
NGRAM_BUCKETS = 1024  # hashed word unigrams and bigrams of the question, beside its embedding

INTENTS = ("fact", "number", "list", "comparison", "summary", "recommendation", "yesno", "followup")
KINDS = ("none", "duration", "money", "percent", "count", "year", "name")


_GRAM = re.compile(r"[a-z0-9]+|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
EMBED_DIM = 384  # the English embedding's width; a question in another language leaves it empty


def english_embedding(qvec: np.ndarray | None) -> np.ndarray:
    """The question's English embedding, or zeros for a question embedded in another space."""
    return embedding_of_width(qvec, EMBED_DIM)


def embedding_of_width(qvec: np.ndarray | None, width: int) -> np.ndarray:
    """The question's embedding if it has this encoder's width, else zeros: a vector of another
    space must not be read as one of this space."""
    if qvec is None or len(qvec) != width:
        return np.zeros(width)
    return np.asarray(qvec, dtype=np.float64)


def question_input(text: str, qvec: np.ndarray) -> np.ndarray:
    """What the intent and kind classifiers read: the question's English embedding and its hashed
    word unigrams and bigrams (so that "how long" or "what fine" can be learned, not listed). In
    CJK scripts each character is a unit ("多久", "何年", "얼마" are bigrams), and
    the embedding part stays zero: the multilingual vector lives in another space."""
    words = _GRAM.findall(text.lower())
    grams = np.zeros(NGRAM_BUCKETS)
    for g in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
        grams[zlib.crc32(g.encode("utf-8")) % NGRAM_BUCKETS] = 1.0
    return np.concatenate([english_embedding(qvec), grams])


@dataclass(frozen=True)
class Linear:
    """A (multinomial) logistic regression with its input standardisation."""

    coef: np.ndarray  # (classes, features); one row for a binary model
    intercept: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    classes: tuple[str, ...] = ()

    def proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities for each row of x (a binary model gives P(positive))."""
        x = np.atleast_2d(x)
        z = np.clip(((x - self.mean) / self.scale) @ self.coef.T + self.intercept, -50.0, 50.0)
        if self.coef.shape[0] == 1:
            return 1.0 / (1.0 + np.exp(-z[:, 0]))
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def to_json(self) -> dict:
        return {
            "coef": self.coef.round(6).tolist(),
            "intercept": self.intercept.round(6).tolist(),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "classes": list(self.classes),
        }

    @classmethod
    def from_json(cls, d: dict) -> Linear:
        scale = np.asarray(d["scale"], dtype=np.float64)
        return cls(
            np.asarray(d["coef"], dtype=np.float64),
            np.asarray(d["intercept"], dtype=np.float64),
            np.asarray(d["mean"], dtype=np.float64),
            np.where(scale > 0, scale, 1.0),
            tuple(d.get("classes", ())),
        )


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted trees (binary): P = sigmoid(baseline + sum of one leaf value per tree).

    Exported from scikit-learn's HistGradientBoostingClassifier as plain arrays: a sample goes
    left at a node when its feature is at most the node's threshold.
    """

    baseline: float
    feature: tuple[np.ndarray, ...]
    threshold: tuple[np.ndarray, ...]
    left: tuple[np.ndarray, ...]
    right: tuple[np.ndarray, ...]
    value: tuple[np.ndarray, ...]
    leaf: tuple[np.ndarray, ...]

    @cached_property
    def _packed(self) -> tuple[np.ndarray, ...]:
        """All trees' nodes in one set of arrays (children offset to their tree's place), so that
        every row walks down every tree at once: one step per level, not per tree and level."""
        offsets = np.cumsum([0, *(len(f) for f in self.feature)])
        return (
            offsets[:-1],
            np.concatenate(self.feature),
            np.concatenate(self.threshold),
            np.concatenate([lft + o for lft, o in zip(self.left, offsets[:-1], strict=True)]),
            np.concatenate([r + o for r, o in zip(self.right, offsets[:-1], strict=True)]),
            np.concatenate(self.value),
            np.concatenate(self.leaf),
        )

    def proba(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(x)
        roots, feature, threshold, left, right, value, leaf = self._packed
        node = np.broadcast_to(roots, (len(x), len(roots))).copy()  # (row, tree)
        rows = np.arange(len(x))[:, None]
        inner = ~leaf[node]
        while inner.any():  # every row steps down every tree one level at a time
            step = np.where(x[rows, feature[node]] <= threshold[node], left[node], right[node])
            node = np.where(inner, step, node)
            inner = ~leaf[node]
        leaves = value[node]
        out = np.full(len(x), self.baseline)
        for j in range(leaves.shape[1]):  # tree by tree, as the sum was always made
            out += leaves[:, j]
        return 1.0 / (1.0 + np.exp(-out))

    def to_json(self) -> dict:
        return {
            "type": "trees",
            "baseline": self.baseline,
            "trees": [
                {
                    "feature": f.tolist(),
                    "threshold": t.tolist(),
                    "left": lft.tolist(),
                    "right": r.tolist(),
                    "value": v.tolist(),
                    "leaf": lf.astype(int).tolist(),
                }
                for f, t, lft, r, v, lf in zip(
                    self.feature, self.threshold, self.left, self.right, self.value, self.leaf, strict=True
                )
            ],
        }

    @classmethod
    def from_json(cls, d: dict) -> Trees:
        ts = d["trees"]
        return cls(
            float(d["baseline"]),
            tuple(np.asarray(t["feature"], dtype=np.int64) for t in ts),
            tuple(np.asarray(t["threshold"], dtype=np.float64) for t in ts),
            tuple(np.asarray(t["left"], dtype=np.int64) for t in ts),
            tuple(np.asarray(t["right"], dtype=np.int64) for t in ts),
            tuple(np.asarray(t["value"], dtype=np.float64) for t in ts),
            tuple(np.asarray(t["leaf"], dtype=bool) for t in ts),
        )


@dataclass(frozen=True)
class Blend:
    """The mean log-odds of several binary models: trees find interactions, a linear model keeps
    extrapolating sensibly where the trees saw no data (a question far from every sentence)."""

    members: tuple[Linear | Trees, ...]

    def proba(self, x: np.ndarray) -> np.ndarray:
        logits = []
        for m in self.members:
            p = np.clip(m.proba(x), 1e-9, 1 - 1e-9)
            logits.append(np.log(p / (1 - p)))
        return 1.0 / (1.0 + np.exp(-np.mean(logits, axis=0)))

    def to_json(self) -> dict:
        return {"type": "blend", "members": [m.to_json() for m in self.members]}

    @classmethod
    def from_json(cls, d: dict) -> Blend:
        return cls(tuple(_classifier_from_json(m) for m in d["members"]))


def _embedding_width(value: bool | int) -> int:
    """Files written before the other languages' model read an embedding say `true` for the English
    encoder's width."""
    if isinstance(value, bool):
        return EMBED_DIM if value else 0
    return int(value)


def _classifier_from_json(d: dict) -> Linear | Trees | Blend:
    if d.get("type") == "blend":
        return Blend.from_json(d)
    return Trees.from_json(d) if d.get("type") == "trees" else Linear.from_json(d)


# A broad question (a summary, a list, advice) is answered from a document as a whole, never from
# one close sentence: summaries are the least close answerable questions there are (in zh, ja and
# ko they set the closeness floor under most out-of-domain questions). So the floor neither comes
# from nor applies to a question whose intent_broad is at least this (eval/TEST_READS.md, 76).
BROAD_INTENT = 0.5


def below_floor(dense, broad, floor):
    """Refused outright: further from every sentence than the floor, and not a broad question
    (scalars or arrays)."""
    return (dense < floor) & (broad < BROAD_INTENT)


@dataclass(frozen=True)
class AnsweringModel:
    intent: Linear
    kind: Linear
    sentence: Linear | Trees
    answerable: Linear | Trees | Blend
    domain: Linear
    domain_features: tuple[str, ...]  # the question features the domain model reads
    platt: tuple[float, float]  # calibrated P = sigmoid(a * logit(p) + b)
    threshold: float  # answer when the calibrated probability is at least this
    extra_ratio: float  # a further sentence is kept when its probability ≥ ratio × the best one's
    broad_ratio: float  # the same ratio for lists, summaries and advice
    sentence_floor: float  # and at least this
    sentence_features: tuple[str, ...]
    question_features: tuple[str, ...]
    info: dict  # how it was trained (data sizes, scores); for the report, not used to answer
    # Words people use in asking ("summarise", "gist", "firm") that the documents need not contain:
    # learned from the labelled questions (eval/train.py), they do not count as topics the
    # documents lack when a question uses them.
    asking_terms: frozenset[str] = frozenset()
    # A question further from every sentence than this (the cosine of its nearest one) is refused
    # whatever the other features say: learned as a low quantile of the answerable training
    # questions' closeness, because a learned model has seen too few questions that far out to
    # know that nothing there is answered (an off-topic question on a twelve-sentence corpus).
    dense_floor: float = 0.0
    # The answerable model's linear member also reads the question's embedding (after the question
    # features; its trees read the features alone): how a question asks tells much of whether a
    # document states it ("in what year exactly", "the tenth-year fee"). The value is the width of
    # the embedding read, 0 for none: the English model reads the English encoder's (384), the
    # model for other languages the multilingual encoder's (512), the vector they are searched with.
    answer_embedding: int = 0
    # Whether a chosen sentence's neighbour in its paragraph joins the answer (features.py,
    # CONTINUATION_FEATURES): None in a model trained without it.
    continuation: Linear | None = None
    continue_above: float = 1.01  # the neighbour joins when its probability is at least this
    continuation_features: tuple[str, ...] = ()
    # Whether a sentence that spells out a question's acronym has its term ("Intellectual Property"
    # for "IP"): features.Question.spelled. False in a model fitted before it, which reads the terms
    # as they were then.
    spelled_acronyms: bool = False

    def answer_probability(self, x: np.ndarray, qvec: np.ndarray | None = None) -> float:
        dense, broad = (x[self.question_features.index(n)] for n in ("dense_max", "intent_broad"))
        if below_floor(dense, broad, self.dense_floor):
            return 0.0
        if self.answer_embedding:
            x = np.concatenate([x, embedding_of_width(qvec, self.answer_embedding)])
        idx = [self.question_features.index(n) for n in self.domain_features]
        p = float(self.domain.proba(x[idx])[0] * self.answerable.proba(x)[0])
        p = float(np.clip(p, 1e-6, 1 - 1e-6))
        a, b = self.platt
        return float(1.0 / (1.0 + np.exp(-(a * np.log(p / (1 - p)) + b))))

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "intent": self.intent.to_json(),
            "kind": self.kind.to_json(),
            "sentence": self.sentence.to_json(),
            "answerable": self.answerable.to_json(),
            "domain": self.domain.to_json(),
            "domain_features": list(self.domain_features),
            "platt": list(self.platt),
            "threshold": self.threshold,
            "extra_ratio": self.extra_ratio,
            "broad_ratio": self.broad_ratio,
            "sentence_floor": self.sentence_floor,
            "sentence_features": list(self.sentence_features),
            "question_features": list(self.question_features),
            "info": self.info,
            "asking_terms": sorted(self.asking_terms),
            "dense_floor": self.dense_floor,
            "answer_embedding": self.answer_embedding,
            "spelled_acronyms": self.spelled_acronyms,
            **(
                {
                    "continuation": self.continuation.to_json(),
                    "continue_above": self.continue_above,
                    "continuation_features": list(self.continuation_features),
                }
                if self.continuation is not None
                else {}
            ),
        }

    @classmethod
    def from_json(cls, d: dict) -> AnsweringModel:
        if d.get("format") != FORMAT:
            raise ValueError(f"answering model format {d.get('format')!r}, expected {FORMAT}")
        return cls(
            Linear.from_json(d["intent"]),
            Linear.from_json(d["kind"]),
            _classifier_from_json(d["sentence"]),
            _classifier_from_json(d["answerable"]),
            Linear.from_json(d["domain"]),
            tuple(d["domain_features"]),
            (float(d["platt"][0]), float(d["platt"][1])),
            float(d["threshold"]),
            float(d["extra_ratio"]),
            float(d["broad_ratio"]),
            float(d["sentence_floor"]),
            tuple(d["sentence_features"]),
            tuple(d["question_features"]),
            d.get("info", {}),
            frozenset(d.get("asking_terms", ())),
            float(d.get("dense_floor", 0.0)),
            _embedding_width(d.get("answer_embedding", 0)),
            Linear.from_json(d["continuation"]) if "continuation" in d else None,
            float(d.get("continue_above", 1.01)),
            tuple(d.get("continuation_features", ())),
            bool(d.get("spelled_acronyms", False)),
        )

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1), encoding="utf-8")
        tmp.replace(path)


@cache
def load_model(path: Path = MODEL_FILE) -> AnsweringModel:
    return AnsweringModel.from_json(json.loads(path.read_text(encoding="utf-8")))

"""The triage text classifier: TF-IDF of word and character n-grams, a linear SVM, calibrated.

Plain scikit-learn, no Django: `tierline assist evaluate`, the bench and the app's training all
build it here. Nothing is downloaded; a model is a fitted pipeline, saved with joblib.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

# What the model reads of a ticket: longer texts are cut (a pasted log says nothing more
# about the category, and costs time at every prediction).
MAX_CHARS = 5000
MIN_EXAMPLES_PER_LABEL = 2
_TAGS = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")


class TrainingError(ValueError):
    """The examples can't train a model (too few, one label, a label with one example)."""


def clean_text(text: str) -> str:
    """Lower-case, tags and runs of white space gone, cut to MAX_CHARS: the same for all doors."""
    text = _TAGS.sub(" ", text or "")
    return _SPACE.sub(" ", text).strip().lower()[:MAX_CHARS]


# The SVM's C, chosen by 3-fold cross-validation on the training part of the shared data set
# only (bench/assist.py --tune-c; never on its held-out part): 0.15: 0.8558, 0.3: 0.8568,
# 0.5: 0.8558, 1.0: 0.8543.
SVM_C = 0.3
# The weight of the character n-grams against the words (each part is L2-normalised first),
# chosen the same way (bench/assist.py --tune-c 0.3,0.5 --tune-chars 0.3,0.5,0.7,1): at C 0.3,
# 1.0: 0.8568, 0.7: 0.8589, 0.5: 0.8595, 0.3: 0.8590. Words carry the topic; character
# n-grams add word forms and typos, and at full weight they drown the words' evidence.
CHARS_WEIGHT = 0.5


def build_pipeline(
    *, folds: int = 3, c: float = SVM_C, chars_weight: float = CHARS_WEIGHT
) -> Pipeline:
    """Word 1-2-grams and character 4-grams within words (word forms, typos: "printr"), the
    latter weighted `chars_weight`, a linear SVM, sigmoid-calibrated so a prediction has a
    probability.

    The SVM is fitted once on every training example; the sigmoids on its cross-validated
    scores (`folds` folds, `ensemble=False`). The default (`ensemble=True`) keeps `folds`
    SVMs each fitted on (folds-1)/folds of the examples and averages them: every model then
    sees a third less data.

    Measured on the shared data set (bench/assist.py, 30,616 to train): character 3-5-grams
    cost three times the CPU of words alone for the same accuracy (0.868); one size of
    character n-grams, capped at 50,000, keeps typo tolerance for 1.6 times the CPU. Word
    1-3-grams, no class weights, SGD (modified Huber) did no better in cross-validation.
    """
    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(4, 4),
                    min_df=3,
                    sublinear_tf=True,
                    max_features=50_000,
                ),
            ),
        ],
        transformer_weights={"words": 1.0, "chars": chars_weight},
    )
    svm = LinearSVC(C=c, class_weight="balanced")
    return Pipeline(
        [
            ("features", features),
            ("model", CalibratedClassifierCV(svm, cv=folds, method="sigmoid", ensemble=False)),
        ]
    )


def check_labels(labels: Sequence[str]) -> Counter[str]:
    """Refuse what can't be trained, naming why; return the count per label."""
    counts = Counter(labels)
    if not labels:
        raise TrainingError("There are no examples to train on.")
    if len(counts) < 2:
        raise TrainingError(
            f"Every example has the same label (“{next(iter(counts))}”): there is nothing to learn."
        )
    single = sorted(label for label, n in counts.items() if n < MIN_EXAMPLES_PER_LABEL)
    if single:
        names = ", ".join(f"“{label}”" for label in single[:10])
        raise TrainingError(
            f"These labels have only one example, too few to learn and to test: {names}. "
            "Add examples, merge them into another label, or leave those rows out."
        )
    return counts


def train(texts: Sequence[str], labels: Sequence[str]) -> Pipeline:
    """Fit a pipeline on `texts` (raw) and `labels`; refuses (TrainingError) what can't be trained."""
    if len(texts) != len(labels):
        raise TrainingError("There must be one label per text.")
    counts = check_labels(labels)
    pipeline = build_pipeline(folds=max(2, min(3, min(counts.values()))))
    cleaned = [clean_text(t) for t in texts]
    pipeline.fit(cleaned, list(labels))
    return pipeline


def train_compiled(texts: Sequence[str], labels: Sequence[str]) -> CompiledTriage | Pipeline:
    """`train`, then the fast copy for one ticket at a time (checked on the training texts)."""
    pipeline = train(texts, labels)
    return compile_pipeline(pipeline, [clean_text(t) for t in texts[:50]])


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float  # the calibrated probability of `label`, 0..1


class CompiledTriage:
    """A fitted pipeline as plain arrays, for one ticket at a time.

    scikit-learn validates its input at every step, and a calibrated 8-class model is 24
    calibrators: 30-80 ms for one text, nearly all of it checks. The same arithmetic on the
    vocabularies and weights takes well under a millisecond: counts of the analyzers' n-grams,
    (1 + log tf) x idf, L2 per vectorizer times its weight; per fold, the SVM's scores, each class's sigmoid
    `1 / (1 + exp(a s + b))`, normalised; the folds averaged. `compile_pipeline` checks it
    against the pipeline on sample texts and refuses to return a copy that differs.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        union = pipeline.named_steps["features"]
        calibrated = pipeline.named_steps["model"]
        self.classes_ = np.asarray(calibrated.classes_)
        self.parts = []
        offset = 0
        weights_by_part = union.transformer_weights or {}
        for name, vectorizer in union.transformer_list:
            weight = float(weights_by_part.get(name, 1.0))
            self.parts.append(
                (
                    vectorizer.build_analyzer(),
                    vectorizer.vocabulary_,
                    vectorizer.idf_,
                    offset,
                    weight,
                )
            )
            offset += len(vectorizer.vocabulary_)
        binary = len(self.classes_) == 2
        weights, biases, slopes, intercepts = [], [], [], []
        for fold in calibrated.calibrated_classifiers_:
            coef = np.atleast_2d(fold.estimator.coef_)
            weights.append(coef.T)
            biases.append(np.atleast_1d(fold.estimator.intercept_))
            slopes.append([c.a_ for c in fold.calibrators])
            intercepts.append([c.b_ for c in fold.calibrators])
        self.weights = np.hstack(weights)  # features x (folds x scores)
        self.biases = np.concatenate(biases)
        self.slopes = np.asarray(slopes, dtype=float)  # folds x scores
        self.intercepts = np.asarray(intercepts, dtype=float)
        self.folds, self.binary = len(weights), binary

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        indices: list[int] = []
        values: list[float] = []
        for analyzer, vocabulary, idf, offset, weight in self.parts:
            counts = Counter(g for g in analyzer(text) if g in vocabulary)
            if not counts:
                continue
            columns = np.fromiter((vocabulary[g] for g in counts), dtype=np.int64)
            tf = np.fromiter(counts.values(), dtype=float)
            weighted = (1.0 + np.log(tf)) * idf[columns]
            weighted *= weight / np.sqrt(weighted @ weighted)
            indices.extend(columns + offset)
            values.extend(weighted)
        return np.asarray(indices, dtype=np.int64), np.asarray(values, dtype=float)

    def predict_proba_one(self, text: str) -> np.ndarray:
        indices, values = self._vector(text)
        scores = (values @ self.weights[indices] if len(indices) else 0.0) + self.biases
        scores = scores.reshape(self.folds, -1)
        calibrated = 1.0 / (1.0 + np.exp(self.slopes * scores + self.intercepts))
        if self.binary:
            proba = np.hstack([1.0 - calibrated, calibrated])
        else:
            total = calibrated.sum(axis=1, keepdims=True)
            uniform = np.full_like(calibrated, 1.0 / calibrated.shape[1])
            proba = np.divide(calibrated, total, out=uniform, where=total != 0)
        return proba.mean(axis=0)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return np.vstack([self.predict_proba_one(t) for t in texts])


def compile_pipeline(pipeline: Pipeline, samples: Sequence[str]) -> CompiledTriage | Pipeline:
    """The fast copy of `pipeline`, if it gives the same probabilities on `samples` (cleaned
    texts); else the pipeline itself (a newer scikit-learn that computes differently)."""
    try:
        compiled = CompiledTriage(pipeline)
        samples = list(samples)[:50] or ["printer"]
        same = np.allclose(
            compiled.predict_proba(samples), pipeline.predict_proba(samples), atol=1e-6
        )
    except (AttributeError, TypeError, ValueError):
        return pipeline
    return compiled if same else pipeline


def predict(model: Pipeline | CompiledTriage, texts: Sequence[str]) -> list[Prediction]:
    """The most probable label of each text and its probability."""
    if not texts:
        return []
    probabilities = model.predict_proba([clean_text(t) for t in texts])
    classes = model.classes_
    best = probabilities.argmax(axis=1)
    return [
        Prediction(label=str(classes[i]), confidence=float(row[i]))
        for i, row in zip(best, probabilities, strict=True)
    ]

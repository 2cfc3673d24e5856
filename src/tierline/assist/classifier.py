"""The triage text classifier: TF-IDF of word and character n-grams, a linear SVM, calibrated.

Plain scikit-learn, no Django: `tierline assist evaluate`, the bench and the app's training all
build it here. Nothing is downloaded; a model is a fitted pipeline, saved with joblib.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

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


def build_pipeline(*, folds: int = 3) -> Pipeline:
    """Word 1-2-grams and character 4-grams within words (word forms, typos: "printr"), a
    linear SVM, sigmoid-calibrated by `folds`-fold cross-validation so a prediction has a
    probability.

    Measured on the shared data set (bench/assist.py, 30,616 to train): character 3-5-grams
    cost three times the CPU of words alone for the same accuracy (0.868); one size of
    character n-grams, capped at 50,000, keeps typo tolerance for 1.6 times the CPU.
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
        ]
    )
    svm = LinearSVC(C=0.5, class_weight="balanced")
    return Pipeline(
        [
            ("features", features),
            ("model", CalibratedClassifierCV(svm, cv=folds, method="sigmoid")),
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
    pipeline.fit([clean_text(t) for t in texts], list(labels))
    return pipeline


@dataclass(frozen=True)
class Prediction:
    label: str
    confidence: float  # the calibrated probability of `label`, 0..1


def predict(pipeline: Pipeline, texts: Sequence[str]) -> list[Prediction]:
    """The most probable label of each text and its probability."""
    if not texts:
        return []
    probabilities = pipeline.predict_proba([clean_text(t) for t in texts])
    classes = pipeline.classes_
    best = probabilities.argmax(axis=1)
    return [
        Prediction(label=str(classes[i]), confidence=float(row[i]))
        for i, row in zip(best, probabilities, strict=True)
    ]

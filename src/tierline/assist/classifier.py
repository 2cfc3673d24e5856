"""The triage classifier: a ticket's words and its meaning, each read by its own model, blended.

- **Words:** TF-IDF of word and character n-grams, a linear SVM, calibrated (`train`).
- **Meaning:** MiniLM's vector of the ticket's first word pieces (`embedding.triage_vectors`,
  computed by the caller) through a small neural network, one hidden layer (`train_head`).
- **Blended** (`Blend`): (1 - MEANING_WEIGHT) x the words' probabilities + MEANING_WEIGHT x the
  meaning's. Without a vector (the embedding model not installed), the words alone decide.

Plain scikit-learn and NumPy, no Django: `tierline assist evaluate`, the bench and the app's
training all build it here. Nothing is downloaded; a model is saved with joblib.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

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


def train_compiled(
    texts: Sequence[str], labels: Sequence[str], vectors: np.ndarray | None = None
) -> Model:
    """`train`, then the fast copy for one ticket at a time (checked on the training texts);
    with `vectors` (one per text, `embedding.triage_vectors`), blended with `train_head`'s."""
    pipeline = train(texts, labels)
    words = compile_pipeline(pipeline, [clean_text(t) for t in texts[:50]])
    if vectors is None:
        return words
    return Blend(words=words, meaning=train_head(vectors, labels))


# --- the meaning: a small network on the ticket's MiniLM vector ------------------------------

# How much the meaning counts in the blend, chosen by 10-fold cross-validation on the shared
# data set (bench/assist.py --folds 10): for each fold, the best weight on the other nine was
# 0.3 (of 0 to 0.6 by 0.05); pooled 0.8761 against 0.8693 for the words alone. The network:
# one hidden layer of 512 (ReLU), Adam at 1e-3, batches of 128, L2 1e-4, a fixed 15 passes.
MEANING_WEIGHT = 0.3
HIDDEN = 512
EPOCHS = 15
SEED = 11


class MeaningHead:
    """A fitted MLPClassifier as its arrays: the forward pass for one ticket, without
    scikit-learn's checks (which cost more than the arithmetic)."""

    def __init__(self, network: MLPClassifier) -> None:
        self.classes_ = np.asarray(network.classes_)
        (self.w1, self.w2), (self.b1, self.b2) = network.coefs_, network.intercepts_

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        hidden = np.maximum(vectors @ self.w1 + self.b1, 0.0)
        scores = hidden @ self.w2 + self.b2
        if len(self.classes_) == 2:  # one logistic output: the second class's probability
            second = 1.0 / (1.0 + np.exp(-scores))
            return np.hstack([1.0 - second, second])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


def vectors_of(texts: Sequence[str]) -> np.ndarray:
    """The meaning's input for raw `texts`: `embedding.triage_vectors` of the cleaned texts
    (n x 384). Raises `embedding.ModelMissing` without the model or ONNX Runtime."""
    from tierline.assist import embedding

    return embedding.triage_vectors([clean_text(t) for t in texts])


def train_head(vectors: np.ndarray, labels: Sequence[str]) -> MeaningHead:
    """The network on `vectors` (n x 384, float32) for `labels`; the same every run."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(labels):
        raise TrainingError("There must be one vector per label.")
    check_labels(labels)
    network = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        alpha=1e-4,
        batch_size=128,
        learning_rate_init=1e-3,
        max_iter=EPOCHS,
        random_state=SEED,
    )
    # One BLAS thread: as fast here (7.7 s for 30,616 tickets) as two, for half the CPU (the
    # two spin against each other, and against the web workers on a shared machine).
    with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"):
        # A fixed number of passes on purpose (see EPOCHS): "not converged" is expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        network.fit(vectors, list(labels))
    return MeaningHead(network)


class Blend:
    """The words' model and the meaning's, blended (see the module's docstring)."""

    def __init__(
        self,
        *,
        words: CompiledTriage | Pipeline,
        meaning: MeaningHead,
        weight: float = MEANING_WEIGHT,
    ) -> None:
        if list(words.classes_) != list(meaning.classes_):
            raise TrainingError("The two models learned different labels.")
        self.words, self.meaning, self.weight = words, meaning, weight
        self.classes_ = np.asarray(words.classes_)

    def predict_proba(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """`texts` cleaned (`clean_text`); `vectors` one per text, or None: the words alone."""
        words = self.words.predict_proba(texts)
        if vectors is None:
            return words
        meaning = self.meaning.predict_proba(np.asarray(vectors, dtype=np.float32))
        return (1.0 - self.weight) * words + self.weight * meaning


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


def describe(*, meaning: bool) -> str:
    """What the model reads, in words: `evaluate` and the bench print it."""
    if not meaning:
        return "words alone (TF-IDF, linear SVM)"
    from tierline.assist import embedding

    return (
        f"words (TF-IDF, linear SVM) and meaning ({embedding.TRIAGE_VECTOR}, a network of "
        f"{HIDDEN}), blended {1 - MEANING_WEIGHT:.2f}/{MEANING_WEIGHT:.2f}"
    )


# What `train_compiled` returns and `predict` reads.
Model = CompiledTriage | Pipeline | Blend


def predict(
    model: Model, texts: Sequence[str], vectors: np.ndarray | None = None
) -> list[Prediction]:
    """The most probable label of each text and its probability; a `Blend` reads `vectors`
    too (one per text: `embedding.triage_vectors`), or the words alone without them."""
    if not texts:
        return []
    cleaned = [clean_text(t) for t in texts]
    if isinstance(model, Blend):
        probabilities = model.predict_proba(cleaned, vectors)
    else:
        probabilities = model.predict_proba(cleaned)
    classes = model.classes_
    best = probabilities.argmax(axis=1)
    return [
        Prediction(label=str(classes[i]), confidence=float(row[i]))
        for i, row in zip(best, probabilities, strict=True)
    ]

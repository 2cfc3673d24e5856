"""`tierline assist evaluate`: train on the older part of a CSV, test on the newer, report.

No Django: a CSV in, a report out. The split is by a date column (oldest 80% train), by a
column of `train`/`test` values, or, with neither, stratified 80/20 with a fixed seed. The model
is the app's: words and meaning blended (`classifier`), or the words alone (`meaning=False`, or
the embedding model not installed). The meaning's vectors are computed first and timed on their
own: the app computes each ticket's as it arrives and keeps it, so its training reads them.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.metrics import precision_recall_fscore_support as prfs
from sklearn.model_selection import train_test_split

from tierline.assist import classifier

TEST_SHARE = 0.2
SEED = 11
WORST_CLASSES = 4


class EvaluationError(ValueError):
    """Input `evaluate` can't use; the message says what to fix."""


@dataclass
class Report:
    split: str
    train_size: int
    test_size: int
    train_seconds: float
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class: list[tuple[str, float, float, float, int]]  # label, precision, recall, F1, support
    worst: list[str]
    confusion: list[list[int]] = field(default_factory=list)  # rows: true worst, cols: predicted
    model: str = "words"
    embed_seconds: float = 0.0  # computing the meaning's vectors, train and test parts

    def lines(self) -> list[str]:
        out = [
            f"Split: {self.split}; {self.train_size} to train, {self.test_size} to test; "
            f"trained in {self.train_seconds:.1f} s",
            f"Model: {self.model}"
            + (
                f" (the vectors of both parts computed in {self.embed_seconds:.1f} s before)"
                if self.embed_seconds
                else ""
            ),
            f"Accuracy     {self.accuracy:.4f}",
            f"Macro-F1     {self.macro_f1:.4f}",
            f"Weighted-F1  {self.weighted_f1:.4f}",
            "",
            f"{'class':<32} {'precision':>9} {'recall':>7} {'F1':>7} {'support':>8}",
        ]
        for label, p, r, f, n in self.per_class:
            out.append(f"{label[:32]:<32} {p:>9.3f} {r:>7.3f} {f:>7.3f} {n:>8}")
        out += ["", "Confusion among the worst classes by F1 (rows: true, columns: predicted):"]
        width = max(8, *(min(len(w), 16) for w in self.worst)) + 1
        out.append(" " * 17 + "".join(f"{w[:16]:>{width}}" for w in self.worst))
        for label, row in zip(self.worst, self.confusion, strict=True):
            out.append(f"{label[:16]:<17}" + "".join(f"{n:>{width}}" for n in row))
        return out


def read_csv(
    path: Path, *, text_cols: Sequence[str], label_col: str, extra: Sequence[str]
) -> list[dict[str, str]]:
    """The rows of `path`, refusing a missing file, an empty one and missing columns."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise EvaluationError(f"Can't read {path}: {exc.strerror or exc}.") from exc
    with handle:
        try:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            if not header:
                raise EvaluationError(f"{path} is empty: no header row, no rows.")
            wanted = [*text_cols, label_col, *extra]
            missing = [c for c in wanted if c not in header]
            if missing:
                raise EvaluationError(
                    f"{path} has no column {', '.join(f'“{c}”' for c in missing)}; "
                    f"its columns are {', '.join(f'“{c}”' for c in header)}."
                )
            rows = list(reader)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise EvaluationError(f"{path} is not a UTF-8 CSV file: {exc}.") from exc
    if not rows:
        raise EvaluationError(f"{path} has a header but no rows.")
    return rows


def _parse_date(value: str) -> datetime:
    value = value.strip()
    for parse in (datetime.fromisoformat, lambda v: datetime.strptime(v, "%d/%m/%Y %H:%M")):
        try:
            found = parse(value)
            return found.replace(tzinfo=None)
        except ValueError:
            continue
    raise ValueError(value)


def split_rows(
    rows: list[dict[str, str]],
    *,
    label_col: str,
    date_col: str | None,
    split_col: str | None,
) -> tuple[list[dict[str, str]], list[dict[str, str]], str]:
    """(train, test, how): by date (oldest first), by a train/test column, else stratified."""
    if split_col:
        values = {r[split_col].strip().lower() for r in rows}
        unknown = sorted(values - {"train", "test"})
        if unknown:
            raise EvaluationError(
                f"Column “{split_col}” must hold only “train” or “test”; it also holds "
                f"{', '.join(f'“{v}”' for v in unknown[:5])}."
            )
        train = [r for r in rows if r[split_col].strip().lower() == "train"]
        test = [r for r in rows if r[split_col].strip().lower() == "test"]
        if not train or not test:
            raise EvaluationError(f"Column “{split_col}” needs both “train” and “test” rows.")
        return train, test, f"by column “{split_col}”"
    if date_col:
        dated = []
        for number, row in enumerate(rows, start=2):
            try:
                dated.append((_parse_date(row[date_col]), row))
            except ValueError:
                raise EvaluationError(
                    f"Line {number}: “{row[date_col][:40]}” in column “{date_col}” is not a "
                    "date (use ISO 8601, e.g. 2024-03-01 or 2024-03-01T09:30)."
                ) from None
        dated.sort(key=lambda pair: pair[0])
        cut = round(len(dated) * (1 - TEST_SHARE))
        if cut < 1 or cut >= len(dated):
            raise EvaluationError(
                "Too few rows to keep an older part to train and a newer to test."
            )
        return (
            [r for _, r in dated[:cut]],
            [r for _, r in dated[cut:]],
            f"by “{date_col}”: older {1 - TEST_SHARE:.0%} train, newer {TEST_SHARE:.0%} test",
        )
    labels = [r[label_col] for r in rows]
    try:
        train, test = train_test_split(
            rows, test_size=TEST_SHARE, stratify=labels, random_state=SEED
        )
    except ValueError as exc:
        raise EvaluationError(f"Can't split the rows 80/20 by label: {exc}") from exc
    return train, test, f"stratified {1 - TEST_SHARE:.0%}/{TEST_SHARE:.0%} (no date column)"


def evaluate(
    path: Path,
    *,
    text_cols: Sequence[str],
    label_col: str,
    date_col: str | None = None,
    split_col: str | None = None,
    meaning: bool = True,
) -> Report:
    """Train on one part of the CSV and measure on the other (`meaning`: the blend of words and
    meaning, when the embedding model is installed; else the words alone)."""
    extra = [c for c in (date_col, split_col) if c]
    rows = read_csv(path, text_cols=text_cols, label_col=label_col, extra=extra)
    rows = [r for r in rows if (r[label_col] or "").strip()]
    if not rows:
        raise EvaluationError(f"Every row's “{label_col}” is empty.")
    for r in rows:
        r[label_col] = r[label_col].strip()
    try:
        classifier.check_labels([r[label_col] for r in rows])
    except classifier.TrainingError as exc:
        raise EvaluationError(str(exc)) from exc
    train_rows, test_rows, how = split_rows(
        rows, label_col=label_col, date_col=date_col, split_col=split_col
    )

    def text(r: dict[str, str]) -> str:
        return " ".join(r[c] or "" for c in text_cols)

    train_texts = [text(r) for r in train_rows]
    test_texts = [text(r) for r in test_rows]
    train_vectors = test_vectors = None
    described, embed_seconds = classifier.describe(meaning=False), 0.0
    if meaning:
        from tierline.assist import embedding

        started = time.perf_counter()
        try:
            train_vectors = classifier.vectors_of(train_texts)
            test_vectors = classifier.vectors_of(test_texts)
        except embedding.ModelMissing as exc:
            described = f"words alone ({exc})"
        else:
            embed_seconds = time.perf_counter() - started
            described = classifier.describe(meaning=True)
    started = time.perf_counter()
    try:
        model = classifier.train_compiled(
            train_texts, [r[label_col] for r in train_rows], train_vectors
        )
    except classifier.TrainingError as exc:
        raise EvaluationError(f"The training part can't be used: {exc}") from exc
    except ValueError as exc:  # e.g. every text empty: no vocabulary
        raise EvaluationError(f"Can't train on these texts: {exc}") from exc
    seconds = time.perf_counter() - started
    truth = [r[label_col] for r in test_rows]
    predicted = [p.label for p in classifier.predict(model, test_texts, test_vectors)]
    result = report(truth, predicted, split=how, train_size=len(train_rows), seconds=seconds)
    result.model, result.embed_seconds = described, embed_seconds
    return result


def report(
    truth: Sequence[str], predicted: Sequence[str], *, split: str, train_size: int, seconds: float
) -> Report:
    labels = sorted(set(truth) | set(predicted))
    precision, recall, f1, support = prfs(truth, predicted, labels=labels, zero_division=0)
    per_class = [
        (label, float(p), float(r), float(f), int(n))
        for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
    ]
    seen = [row for row in per_class if row[4] > 0] or per_class
    worst = [row[0] for row in sorted(seen, key=lambda row: (row[3], row[0]))[:WORST_CLASSES]]
    matrix = confusion_matrix(truth, predicted, labels=worst)
    return Report(
        split=split,
        train_size=train_size,
        test_size=len(truth),
        train_seconds=seconds,
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        weighted_f1=float(
            f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0)
        ),
        per_class=per_class,
        worst=worst,
        confusion=np.asarray(matrix).tolist(),
    )

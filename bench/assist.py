"""Auto-triage on the shared ticket data set: training time, held-out accuracy, inference p95.

    .venv/bin/python bench/assist.py /work/shared/data/tickets/it_tickets_topic_train.csv

Trains the classifier `tierline.assist` uses on 80% of the file (stratified: the set has no
date column) and reports accuracy and macro-F1 on the other 20%, the training time (wall and
CPU), and the time to triage one ticket (one text through the fitted pipeline, as the desk's
after-commit task does) at p50 and p95 over `--samples` held-out tickets, and peak memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from tierline.assist import classifier

# The published figures on this data set (PROVENANCE.md of the shared data).
PUBLISHED = [
    ("DistilBERT, 20% test (Lunalykaya/IT-Service-Ticket-Classification)", 0.8725),
    ('TF-IDF + linear SVM, "about 85%" (akhileshvciet-dot/FUTURE_ML_02)', 0.85),
]


def tune_c(texts: list[str], labels: list[str], values: list[float]) -> int:
    """The SVM alone (no calibration) at each C, 3-fold stratified cross-validation on the
    training part. The features are fitted once on the whole training part (their idf sees the
    validation folds' words, not their labels): cheaper, and the same for every C."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    features = classifier.build_pipeline().named_steps["features"]
    matrix = features.fit_transform([classifier.clean_text(t) for t in texts])
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    print(f"{'C':>6} {'CV accuracy (training part)':>28}")
    for c in values:
        svm = classifier.build_pipeline(c=c).named_steps["model"].estimator
        scores = cross_val_score(svm, matrix, labels, cv=folds)
        print(f"{c:>6} {scores.mean():>28.4f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--text", default="Document")
    parser.add_argument("--label", default="Topic_group")
    parser.add_argument("--samples", type=int, default=2000, help="tickets timed one by one")
    parser.add_argument(
        "--tune-c",
        help="comma-separated values of the SVM's C: print each one's 3-fold cross-validated "
        "accuracy on the training part only (the held-out part is never read), then stop",
    )
    args = parser.parse_args()

    with args.csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r[args.text] for r in rows]
    labels = [r[args.label] for r in rows]
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=0.2, stratify=labels, random_state=11
    )

    if args.tune_c:
        return tune_c(train_x, train_y, [float(c) for c in args.tune_c.split(",")])

    wall, cpu = time.perf_counter(), time.process_time()
    model = classifier.train(train_x, train_y)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    predicted = [p.label for p in classifier.predict(model, test_x)]
    # What the app keeps and the after-commit triage uses: the same model as plain arrays.
    fast = classifier.compile_pipeline(model, [classifier.clean_text(t) for t in train_x[:50]])
    assert isinstance(fast, classifier.CompiledTriage), "the compiled model differs"
    accuracy = accuracy_score(test_y, predicted)
    macro = f1_score(test_y, predicted, average="macro")
    weighted = f1_score(test_y, predicted, average="weighted")

    for text in test_x[:20]:  # warm up
        classifier.predict(fast, [text])
    timings, cpu_timings = [], []
    for text in test_x[: args.samples]:
        started, started_cpu = time.perf_counter(), time.process_time()
        classifier.predict(fast, [text])
        timings.append((time.perf_counter() - started) * 1000)
        cpu_timings.append((time.process_time() - started_cpu) * 1000)
    timings.sort()
    cpu_timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    cpu_p95 = cpu_timings[int(len(cpu_timings) * 0.95) - 1]
    load = os.getloadavg()[0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} while timing")
    print(f"data: {args.csv.name}, {len(rows):,} rows, {len(set(labels))} classes")
    print(f"split: stratified 80/20 (no date column): {len(train_x):,} train, {len(test_x):,} test")
    print()
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| training time (wall) | {wall:.1f} s | <= 60 s |")
    print(f"| training time (CPU of this process) | {cpu:.1f} s | |")
    print(f"| accuracy, held-out 20% | {accuracy:.4f} | >= {PUBLISHED[0][1]} |")
    print(f"| macro-F1, held-out 20% | {macro:.4f} | |")
    print(f"| weighted-F1, held-out 20% | {weighted:.4f} | |")
    print(f"| triage inference p50 per ticket | {statistics.median(timings):.2f} ms | |")
    print(f"| triage inference p95 per ticket | {p95:.2f} ms | <= 10 ms |")
    print(f"| triage inference p95, CPU time | {cpu_p95:.2f} ms | |")
    print(f"| peak memory (RSS) | {peak_mb:.0f} MB | |")
    print()
    for name, figure in PUBLISHED:
        print(f"published: {name}: accuracy {figure:.4f} -> ours {accuracy - figure:+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

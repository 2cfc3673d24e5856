"""Auto-triage on the shared ticket data set: training time, held-out accuracy, inference p95.

    .venv/bin/python bench/assist.py /work/shared/data/tickets/it_tickets_topic_train.csv
    .venv/bin/python bench/assist.py FILE --folds 10 --suggestions 0   accuracy at the published training size

Trains the classifier `tierline.assist` uses (the words' SVM and the meaning's network,
blended; `--words-only`: the SVM alone) on 80% of the file (stratified: the set has no date
column) and reports accuracy and macro-F1 on the other 20%, the training time (wall and CPU)
from the tickets' meaning vectors (computed first, all at once, and timed on their own line:
the app computes each ticket's at arrival and keeps it), and the time to triage one ticket
(its vector, then the blended model, as the desk's after-commit task does) at p50 and p95 over
`--samples` held-out tickets, and peak memory.

Then the suggested answers (`--suggestions N`, default 100,000 resolved tickets; 0 skips):
the embedding model's time per text (one at a time, as a new ticket is, and in batches,
as the backfill does), and the time of one suggestion (`assist.answers.Corpus.ranked`: embed
the typed text, cosine over the inverted file's probed lists, keyword TF-IDF over N texts,
reciprocal rank fusion) at p50 and p95 over `--queries` held-out tickets (none of them asked
before: the kept query embeddings are emptied each time), each stage's CPU time alone, the
same text asked again, recall@5 of the approximate cosine search against the whole scan, and
how many of the five shown (fused) the approximation changes. Embedding 100,000 texts would take over an hour
here, so `--distinct` (2,000) texts of the file are embedded for real and the N stored vectors
are those, each with a little noise (renormalised): random but realistic; the keyword side
reads the file's real texts (repeated to N). Not timed: the one query that cuts the fused
candidates to what the person may read (an indexed `id IN (...)` over at most 200 ids).
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

from tierline.assist import classifier, embedding

# The published figures on this data set (PROVENANCE.md of the shared data).
PUBLISHED = [
    ("DistilBERT, 20% test (Lunalykaya/IT-Service-Ticket-Classification)", 0.8725),
    ('TF-IDF + linear SVM, "about 85%" (akhileshvciet-dot/FUTURE_ML_02)', 0.85),
]


def tune_c(
    texts: list[str], labels: list[str], values: list[float], chars: list[float] | None = None
) -> int:
    """The SVM alone (no calibration) at each C and weight of the character n-grams, 3-fold
    stratified cross-validation on the training part. The features are fitted once on the whole
    training part (their idf sees the validation folds' words, not their labels): cheaper, and
    the same for every C."""
    from scipy import sparse
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    features = classifier.build_pipeline().named_steps["features"]
    cleaned = [classifier.clean_text(t) for t in texts]
    parts = {name: part.fit_transform(cleaned) for name, part in features.transformer_list}
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    print(f"{'C':>6} {'chars':>6} {'CV accuracy (training part)':>28}")
    for weight in chars or [classifier.CHARS_WEIGHT]:
        matrix = sparse.hstack([parts["words"], parts["chars"] * weight]).tocsr()
        for c in values:
            svm = classifier.build_pipeline(c=c).named_steps["model"].estimator
            scores = cross_val_score(svm, matrix, labels, cv=folds)
            print(f"{c:>6} {weight:>6} {scores.mean():>28.4f}", flush=True)
    return 0


def embed_all(texts: list[str], *, words_only: bool) -> tuple[object, float]:
    """Every text's meaning vector (`classifier.vectors_of`, as the app computes one per ticket
    at arrival and keeps) and the wall time it took; (None, 0) with `words_only`."""
    if words_only:
        return None, 0.0
    started = time.perf_counter()
    vectors = classifier.vectors_of(texts)
    return vectors, time.perf_counter() - started


def cross_validated(k: int, texts: list[str], labels: list[str], *, words_only: bool) -> int:
    """The app's classifier (`classifier.train_compiled`: the words' SVM, calibrated, and the
    meaning's network, blended) trained on each k-1 folds and tested on the fold left out;
    each fold's accuracy, blended and words alone, and all predictions pooled. With k=10 each
    model trains on as many tickets as the published DistilBERT did (its README's table:
    34,442), where the 80/20 split trains on 30,616. The vectors are computed once, first."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    vectors, embed_wall = embed_all(texts, words_only=words_only)
    if vectors is not None:
        print(f"meaning vectors of {len(texts):,} texts computed in {embed_wall:.1f} s (wall)")
    right = {"blend": 0, "words": 0}
    total = 0
    print(f"{'fold':>4} {'train':>7} {'test':>6} {'blended':>8} {'words':>8} {'CPU s':>6}")
    folds = StratifiedKFold(k, shuffle=True, random_state=11).split(texts, labels)
    for n, (train, test) in enumerate(folds, 1):
        cpu = time.process_time()
        model = classifier.train_compiled(
            [texts[i] for i in train],
            [labels[i] for i in train],
            None if vectors is None else vectors[train],
        )
        test_texts = [texts[i] for i in test]
        truth = np.asarray([labels[i] for i in test])
        test_vectors = None if vectors is None else vectors[test]
        hits = {
            "blend": sum(
                p.label == t
                for p, t in zip(
                    classifier.predict(model, test_texts, test_vectors), truth, strict=True
                )
            ),
            "words": sum(
                p.label == t
                for p, t in zip(classifier.predict(model, test_texts), truth, strict=True)
            ),
        }
        for key in right:
            right[key] += hits[key]
        total += len(test)
        took = time.process_time() - cpu
        print(
            f"{n:>4} {len(train):>7,} {len(test):>6,} {hits['blend'] / len(test):>8.4f} "
            f"{hits['words'] / len(test):>8.4f} {took:>6.1f}",
            flush=True,
        )
    pooled = right["blend"] / total
    print(f"pooled accuracy over {total:,} held-out predictions: {pooled:.4f}", end="")
    print(f" (words alone {right['words'] / total:.4f})" if vectors is not None else "")
    for name, figure in PUBLISHED:
        print(f"published: {name}: accuracy {figure:.4f} -> ours {pooled - figure:+.4f}")
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
    parser.add_argument(
        "--tune-chars",
        help="with --tune-c: comma-separated weights of the character n-grams to try with each C",
    )
    parser.add_argument(
        "--suggestions", type=int, default=100_000, help="resolved tickets (0: skip)"
    )
    parser.add_argument("--distinct", type=int, default=2000, help="texts embedded for real")
    parser.add_argument("--queries", type=int, default=200, help="suggestions timed")
    parser.add_argument(
        "--engine",
        choices=embedding.ENGINES,
        default="onnx",
        help="what runs the embedding model (the app's: onnx)",
    )
    parser.add_argument(
        "--query-tokens", type=int, help="word pieces of a typed text embedded (default: the app's)"
    )
    parser.add_argument(
        "--folds",
        type=int,
        help="instead of the 80/20 split: K-fold stratified cross-validation over the whole file "
        "(10 trains on 34,443 tickets, the published DistilBERT's 34,442), pooled accuracy",
    )
    parser.add_argument("--skip-triage", action="store_true")
    parser.add_argument(
        "--words-only",
        action="store_true",
        help="triage by the words' model alone (no meaning vectors: no embedding)",
    )
    args = parser.parse_args()

    with args.csv.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [r[args.text] for r in rows]
    labels = [r[args.label] for r in rows]
    if args.folds:
        return cross_validated(args.folds, texts, labels, words_only=args.words_only)
    if not args.skip_triage:
        triage(args, rows, texts, labels)
    if args.suggestions:
        suggestions(args, texts)
    return 0


def suggestions(args: argparse.Namespace, texts: list[str]) -> None:
    """The suggested answers over `args.suggestions` resolved tickets (see the docstring)."""
    import dataclasses
    import random

    import numpy as np

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierline.settings")
    os.environ.setdefault("TIERLINE_DATA_DIR", "/tmp/tierline-bench-assist")
    import django
    import django.utils.timezone

    django.setup()
    from tierline.assist import answers

    if args.query_tokens:
        answers.QUERY_MAX_TOKENS = args.query_tokens
    rng = random.Random(11)
    shuffled = texts[:]
    rng.shuffle(shuffled)
    queries, corpus_texts = shuffled[: args.queries], shuffled[args.queries :]
    distinct = corpus_texts[: args.distinct]

    started = time.perf_counter()
    if args.engine != "onnx":  # the process's model, run by another engine
        embedding._encoder = embedding.Encoder(engine=args.engine)
    model = embedding.encoder()
    load_s = time.perf_counter() - started
    model.encode(distinct[:8])  # warm up
    single, single_cpu = [], []
    for text in distinct[:100]:
        t, c = time.perf_counter(), time.process_time()
        model.encode([text])
        single.append((time.perf_counter() - t) * 1000)
        single_cpu.append((time.process_time() - c) * 1000)
    t = time.perf_counter()
    vectors = model.encode(distinct)
    batched_ms = (time.perf_counter() - t) * 1000 / len(distinct)

    n = args.suggestions
    np_rng = np.random.default_rng(11)
    stored = vectors[np.arange(n) % len(distinct)] + np_rng.normal(
        0, 0.02, (n, embedding.DIMENSIONS)
    ).astype(np.float32)
    stored /= np.linalg.norm(stored, axis=1, keepdims=True)
    stored = stored.astype(np.float32)
    rows = [
        ("ticket", i + 1, stored[i].astype("<f4").tobytes(), corpus_texts[i % len(corpus_texts)])
        for i in range(n)
    ]
    corpus = answers.Corpus()
    t = time.perf_counter()
    corpus._add(rows)
    build_s = time.perf_counter() - t
    del rows
    answers.REFRESH_SECONDS = float("inf")  # no database here: the matrix is all there is
    corpus.stale, corpus.checked_at = False, time.monotonic()
    corpus.read_until = django.utils.timezone.now()  # loaded: no first load to start

    def uncached_ranked(text: str) -> list:
        answers._query_vectors.clear()  # each text embedded, as a new ticket's is
        return corpus.ranked(text)

    for text in queries[:10]:  # warm up
        uncached_ranked(text)
    timings, cpu_timings = [], []
    found = 0
    for text in queries:
        t, c = time.perf_counter(), time.process_time()
        ranked = uncached_ranked(text)
        timings.append((time.perf_counter() - t) * 1000)
        cpu_timings.append((time.process_time() - c) * 1000)
        found += bool(ranked)
    load = os.getloadavg()[0]

    # Each stage alone (CPU time), and what the approximate search finds of the exact scan's.
    state = corpus.state
    dead = ~state.live
    # The whole matrix once, for the exact scan to compare with.
    whole_scan = (
        dataclasses.replace(state, index=None, vectors=state.index.matrix(len(state.ids)))
        if state.index is not None
        else state
    )
    stages: dict[str, list[float]] = {"embed": [], "meaning": [], "exact": [], "words": []}
    recall, fused_agree = [], []
    with embedding.one_blas_thread():
        for text in queries:
            c = time.process_time()
            query = embedding.embed([text], max_tokens=answers.QUERY_MAX_TOKENS)[0]
            stages["embed"].append((time.process_time() - c) * 1000)
            c = time.process_time()
            approximate = answers.nearest_by_meaning(state, query, dead)
            stages["meaning"].append((time.process_time() - c) * 1000)
            c = time.process_time()
            exact = answers.nearest_by_meaning(whole_scan, query, dead)
            stages["exact"].append((time.process_time() - c) * 1000)
            c = time.process_time()
            by_words = answers.nearest_by_words(state, text, dead)
            stages["words"].append((time.process_time() - c) * 1000)
            if exact:
                recall.append(len(set(exact[:5]) & set(approximate[:5])) / len(exact[:5]))
            fused_agree.append(
                agreement(fuse(approximate, by_words)[:5], fuse(exact, by_words)[:5])
            )
    full_agree = []
    if answers.QUERY_MAX_TOKENS < embedding.MAX_TOKENS:
        # What cutting the typed text to fewer word pieces changes in the five shown.
        with embedding.one_blas_thread():
            for text in queries:
                by_words = answers.nearest_by_words(state, text, dead)
                cut = embedding.embed([text], max_tokens=answers.QUERY_MAX_TOKENS)[0]
                whole = embedding.embed([text])[0]
                full_agree.append(
                    agreement(
                        fuse(answers.nearest_by_meaning(state, cut, dead), by_words)[:5],
                        fuse(answers.nearest_by_meaning(state, whole, dead), by_words)[:5],
                    )
                )
    repeated = []
    for text in queries[:50]:  # asked again: the query's embedding is kept
        uncached_ranked(text)
        t = time.perf_counter()
        corpus.ranked(text)
        repeated.append((time.perf_counter() - t) * 1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    index = state.index
    print()
    print(f"suggested answers: {n:,} resolved tickets ({len(distinct):,} distinct texts embedded")
    print("for real, each stored vector one of them plus noise; keyword side: the file's texts)")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} while timing")
    if index is not None:
        print(
            f"vector index: inverted file, {len(index.centroids)} lists, "
            f"{index.probe_count()} probed per query"
        )
    else:
        print("vector index: none (whole matrix scanned)")
    print(
        f"query: the first {answers.QUERY_MAX_TOKENS} word pieces of the typed text; engine: {model.engine}"
    )
    print()
    print("| measure | median | p95 | N | target |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| embed one text (model, 1 thread) | {statistics.median(single):.1f} ms "
        f"| {percentile(single, 0.95):.1f} ms | {len(single)} | |"
    )
    print(
        f"| embed one text, CPU time | {statistics.median(single_cpu):.1f} ms "
        f"| {percentile(single_cpu, 0.95):.1f} ms | {len(single)} | |"
    )
    print(
        f"| embed, per text in batches ({model.engine}: {embedding.BATCH[model.engine]}) | {batched_ms:.1f} ms | | {len(distinct)} | |"
    )
    print(
        f"| suggestion (embed + cosine + keywords + fusion) | {statistics.median(timings):.1f} ms "
        f"| {percentile(timings, 0.95):.1f} ms | {len(timings)} | p95 <= 100 ms |"
    )
    print(
        f"| suggestion, CPU time | {statistics.median(cpu_timings):.1f} ms "
        f"| {percentile(cpu_timings, 0.95):.1f} ms | {len(timings)} | |"
    )
    for name, label in (
        ("embed", "stage: embed the typed text, CPU"),
        ("meaning", "stage: nearest by cosine (index), CPU"),
        ("exact", "stage: nearest by cosine, whole scan, CPU"),
        ("words", "stage: nearest by keywords, CPU"),
    ):
        values = stages[name]
        print(
            f"| {label} | {statistics.median(values):.1f} ms "
            f"| {percentile(values, 0.95):.1f} ms | {len(values)} | |"
        )
    print(
        f"| suggestion, same text asked again | {statistics.median(repeated):.1f} ms "
        f"| {percentile(repeated, 0.95):.1f} ms | {len(repeated)} | |"
    )
    print(
        f"| recall@5, cosine: index vs whole scan | {statistics.mean(recall):.3f} | "
        f"| {len(recall)} | >= 0.95 |"
    )
    print(
        f"| top 5 fused: index vs whole scan (shared) | {statistics.mean(fused_agree):.3f} | "
        f"| {len(fused_agree)} | |"
    )
    if full_agree:
        print(
            f"| top 5 fused: {answers.QUERY_MAX_TOKENS} vs {embedding.MAX_TOKENS} word pieces "
            f"(shared) | {statistics.mean(full_agree):.3f} | | {len(full_agree)} | |"
        )
    print()
    print(f"model load {load_s:.1f} s; matrix + keyword index built in {build_s:.1f} s")
    print(f"queries with at least one candidate: {found}/{len(queries)}; peak RSS {peak_mb:.0f} MB")


def fuse(*lists: list[int]) -> list[int]:
    """Reciprocal rank fusion of row numbers, as `Corpus.ranked` does it."""
    from tierline.assist import answers

    fused: dict[int, float] = {}
    for found in lists:
        for rank, row in enumerate(found):
            fused[row] = fused.get(row, 0.0) + 1 / (answers.RRF_K + rank + 1)
    return [row for row, _ in sorted(fused.items(), key=lambda item: -item[1])]


def agreement(got: list[int], reference: list[int]) -> float:
    """The share of `reference` in `got` (1.0 when both are empty)."""
    if not reference:
        return 1.0 if not got else 0.0
    return len(set(got) & set(reference)) / len(reference)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def triage(args: argparse.Namespace, rows: list[dict], texts: list[str], labels: list[str]) -> None:
    """Training, held-out accuracy and one ticket's triage time (see the module's docstring).

    The app computes each ticket's meaning vector when the ticket arrives (the triage of a new
    ticket needs it) and keeps it: training reads the stored vectors. So the table gives the
    training from vectors already computed, and, on its own line, computing them all at once
    (what a first training after an upgrade does for tickets that have none)."""
    indices = list(range(len(texts)))
    train_i, test_i = train_test_split(indices, test_size=0.2, stratify=labels, random_state=11)
    train_x, test_x = [texts[i] for i in train_i], [texts[i] for i in test_i]
    train_y, test_y = [labels[i] for i in train_i], [labels[i] for i in test_i]

    if args.tune_c:
        chars = [float(w) for w in args.tune_chars.split(",")] if args.tune_chars else None
        tune_c(train_x, train_y, [float(c) for c in args.tune_c.split(",")], chars)
        return

    vectors, embed_wall = embed_all(texts, words_only=args.words_only)
    train_v = None if vectors is None else vectors[train_i]
    test_v = None if vectors is None else vectors[test_i]
    wall, cpu = time.perf_counter(), time.process_time()
    # What the app keeps and the after-commit triage uses (`services.retrain`).
    model = classifier.train_compiled(train_x, train_y, train_v)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    words = model.words if isinstance(model, classifier.Blend) else model
    assert isinstance(words, classifier.CompiledTriage), "the compiled model differs"

    predicted = [p.label for p in classifier.predict(model, test_x, test_v)]
    accuracy = accuracy_score(test_y, predicted)
    macro = f1_score(test_y, predicted, average="macro")
    weighted = f1_score(test_y, predicted, average="weighted")
    words_accuracy = accuracy_score(test_y, [p.label for p in classifier.predict(model, test_x)])

    def one(text: str) -> None:
        # As `services.triage` does for a new ticket: its vector, then the blended model.
        vector = None if vectors is None else classifier.vectors_of([text])
        classifier.predict(model, [text], vector)

    for text in test_x[:20]:  # warm up
        one(text)
    timings, cpu_timings = [], []
    for text in test_x[: args.samples]:
        started, started_cpu = time.perf_counter(), time.process_time()
        one(text)
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
    print(f"model: {classifier.describe(meaning=vectors is not None)}")
    print()
    print("| measure | value | N | target |")
    print("| --- | --- | --- | --- |")
    training = "training time (wall)" if vectors is None else "training time (wall), vectors stored"
    print(f"| {training} | {wall:.1f} s | {len(train_x):,} | <= 60 s |")
    print(f"| training time (CPU of this process) | {cpu:.1f} s | {len(train_x):,} | |")
    if vectors is not None:
        print(
            f"| computing every ticket's vector at once (wall; the app: one per ticket, at "
            f"arrival) | {embed_wall:.1f} s | {len(texts):,} | |"
        )
    print(f"| accuracy, held-out 20% | {accuracy:.4f} | {len(test_x):,} | >= {PUBLISHED[0][1]} |")
    if vectors is not None:
        print(f"| accuracy, held-out 20%, words alone | {words_accuracy:.4f} | {len(test_x):,} | |")
    print(f"| macro-F1, held-out 20% | {macro:.4f} | {len(test_x):,} | |")
    print(f"| weighted-F1, held-out 20% | {weighted:.4f} | {len(test_x):,} | |")
    n = len(timings)
    print(f"| triage inference p50 per ticket | {statistics.median(timings):.2f} ms | {n} | |")
    print(f"| triage inference p95 per ticket | {p95:.2f} ms | {n} | <= 10 ms |")
    print(f"| triage inference p95, CPU time | {cpu_p95:.2f} ms | {n} | |")
    print(f"| peak memory (RSS) | {peak_mb:.0f} MB | | |")
    print()
    for name, figure in PUBLISHED:
        print(f"published: {name}: accuracy {figure:.4f} -> ours {accuracy - figure:+.4f}")


if __name__ == "__main__":
    sys.exit(main())

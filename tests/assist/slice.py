"""The slice of the public ticket data set the tests learn from (see data/PROVENANCE.md)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from sklearn.model_selection import train_test_split

SLICE = Path(__file__).parent / "data" / "tickets_slice.csv"
TEXT, LABEL = "Document", "Topic_group"


@cache
def rows() -> tuple[dict[str, str], ...]:
    with SLICE.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


@cache
def split() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Stratified 80/20 of the slice, the same every run."""
    all_rows = list(rows())
    train, test = train_test_split(
        all_rows, test_size=0.2, stratify=[r[LABEL] for r in all_rows], random_state=11
    )
    return train, test

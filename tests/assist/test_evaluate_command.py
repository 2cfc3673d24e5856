"""`tierline assist evaluate`: figures from a real training, and a clear error for bad input."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.assist import slice as data
from tierline.cli import EXIT_BAD_INPUT, main


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def dated_csv(tmp_path_factory) -> Path:
    """600 rows of the slice with a date each (one a day) and a second text column."""
    rows = data.rows()[:600]
    start = date(2024, 1, 1)
    return write(
        tmp_path_factory.mktemp("evaluate") / "dated.csv",
        ["when", "title", "body", "group"],
        [
            [
                (start + timedelta(days=i)).isoformat(),
                r[data.TEXT][:40],
                r[data.TEXT],
                r[data.LABEL],
            ]
            for i, r in enumerate(rows)
        ],
    )


def evaluate(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["assist", "evaluate", *args])
    out, err = capsys.readouterr()
    return code, out, err


def figure(out: str, name: str) -> float:
    return float(re.search(rf"^{name}\s+([0-9.]+)$", out, re.M)[1])


def test_it_trains_on_the_older_part_and_prints_the_figures(capsys, dated_csv):
    code, out, err = evaluate(
        capsys,
        "--csv",
        str(dated_csv),
        "--text",
        "title,body",
        "--label",
        "group",
        "--date-col",
        "when",
    )
    assert code == 0, err
    assert "Split: by “when”: older 80% train, newer 20% test; 480 to train, 120 to test" in out
    # the app's model: words and meaning blended, the vectors computed (and timed) first
    assert re.search(r"^Model: words \(TF-IDF, linear SVM\) and meaning \(all-MiniLM", out, re.M)
    assert "blended 0.70/0.30 (the vectors of both parts computed in" in out
    assert figure(out, "Accuracy") >= 0.6  # 480 examples; the full slice does better
    assert 0.3 <= figure(out, "Macro-F1") <= 1.0
    for label in {r[data.LABEL] for r in data.rows()[480:600]}:
        assert re.search(rf"^{re.escape(label)}\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+\d+$", out, re.M)
    assert "Confusion among the worst classes" in out


def test_words_only_trains_the_words_model_alone(capsys, tmp_path):
    rows = data.rows()[:500]
    path = write(
        tmp_path / "t.csv", ["text", "label"], [[r[data.TEXT], r[data.LABEL]] for r in rows]
    )
    code, out, err = evaluate(
        capsys, "--csv", str(path), "--text", "text", "--label", "label", "--words-only"
    )
    assert code == 0, err
    assert "Model: words alone (TF-IDF, linear SVM)\n" in out
    assert figure(out, "Accuracy") >= 0.6


def test_without_a_date_the_split_is_stratified(capsys, tmp_path):
    rows = data.rows()[:500]
    path = write(
        tmp_path / "t.csv", ["text", "label"], [[r[data.TEXT], r[data.LABEL]] for r in rows]
    )
    code, out, err = evaluate(capsys, "--csv", str(path), "--text", "text", "--label", "label")
    assert code == 0, err
    assert "stratified 80%/20% (no date column); 400 to train, 100 to test" in out


def test_a_split_column_says_which_rows_train_and_which_test(capsys, tmp_path):
    rows = data.rows()[:500]
    path = write(
        tmp_path / "t.csv",
        ["text", "label", "part"],
        [
            [r[data.TEXT], r[data.LABEL], "test" if i % 5 == 0 else "Train"]
            for i, r in enumerate(rows)
        ],
    )
    code, out, err = evaluate(
        capsys, "--csv", str(path), "--text", "text", "--label", "label", "--split-col", "part"
    )
    assert code == 0, err
    assert "by column “part”; 400 to train, 100 to test" in out


GOOD = [["printer jams", "Hardware"], ["no access to share", "Access"]] * 10


@pytest.mark.parametrize(
    "header, rows, args, message",
    [
        (None, None, [], "Can't read"),
        ([], [], [], "is empty"),
        (["text", "label"], [], [], "has a header but no rows"),
        (["body", "label"], GOOD, [], "has no column “text”; its columns are “body”, “label”"),
        (["text", "label"], GOOD, ["--date-col", "when"], "has no column “when”"),
        (
            ["text", "label"],
            [*GOOD, ["disk full", "Storage"]],
            [],
            "only one example, too few to learn and to test: “Storage”",
        ),
        (["text", "label"], [["a", "Hardware"], ["b", "Hardware"]], [], "same label"),
        (["text", "label"], [["a", ""], ["b", " "]], [], "Every row's “label” is empty"),
        (
            ["text", "label", "when"],
            [[t, label, "yesterday"] for t, label in GOOD],
            ["--date-col", "when"],
            "Line 2: “yesterday” in column “when” is not a date",
        ),
        (
            ["text", "label", "part"],
            [[t, label, "holdout"] for t, label in GOOD],
            ["--split-col", "part"],
            "must hold only “train” or “test”",
        ),
        (
            ["text", "label", "part"],
            [[t, label, "train"] for t, label in GOOD],
            ["--split-col", "part"],
            "needs both “train” and “test” rows",
        ),
        (
            ["text", "label"],
            [["", "Hardware"], ["", "Access"]] * 10,
            [],
            "Can't train on these texts",
        ),
    ],
    ids=[
        "no-file",
        "empty-file",
        "header-only",
        "missing-text-column",
        "missing-date-column",
        "one-example",
        "one-label",
        "no-labels",
        "not-a-date",
        "bad-split-values",
        "no-test-rows",
        "empty-texts",
    ],
)
def test_bad_input_gets_a_clear_error(capsys, tmp_path, header, rows, args, message):
    path = tmp_path / "in.csv"
    if header == []:
        path.write_text("")
    elif header is not None:
        write(path, header, rows)
    code, out, err = evaluate(
        capsys, "--csv", str(path), "--text", "text", "--label", "label", *args
    )
    assert code == EXIT_BAD_INPUT
    assert message in err
    assert "Traceback" not in err and out == ""


def test_a_file_that_is_not_text_is_refused(capsys, tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"text,label\n\xff\xfe\x00binary,x\n")
    code, _, err = evaluate(capsys, "--csv", str(path), "--text", "text", "--label", "label")
    assert code == EXIT_BAD_INPUT
    assert "is not a UTF-8 CSV file" in err


def test_date_and_split_columns_together_are_refused(capsys, dated_csv):
    code, _, err = evaluate(
        capsys,
        "--csv",
        str(dated_csv),
        "--text",
        "body",
        "--label",
        "group",
        "--date-col",
        "when",
        "--split-col",
        "when",
    )
    assert code == EXIT_BAD_INPUT
    assert "not both" in err

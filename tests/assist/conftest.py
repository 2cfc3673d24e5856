"""Triage models trained for real on the slice, with the categories and teams they name."""

from __future__ import annotations

from pathlib import Path

import joblib
import pytest

from tests.assist import slice as data
from tierline.assist import classifier, services
from tierline.assist.models import TriageModel
from tierline.desk.models import Category
from tierline.people.models import Team

TOPICS = sorted({r[data.LABEL] for r in data.rows()})
CATEGORY_IDS = {topic: 9001 + i for i, topic in enumerate(TOPICS)}
# Where each topic's tickets end up, and how urgent they were: what the models learn.
TEAMS = {9101: ("Identity & access", 1), 9102: ("Field hardware", 2), 9103: ("People systems", 1)}
TEAM_OF = {
    "Access": 9101,
    "Administrative rights": 9101,
    "Hardware": 9102,
    "Storage": 9102,
    "Purchase": 9102,
    "HR Support": 9103,
    "Internal Project": 9103,
    "Miscellaneous": 9103,
}
HIGH_PRIORITY = {"Hardware", "Storage"}


def priority_of(topic: str) -> int:
    return 2 if topic in HIGH_PRIORITY else 3


@pytest.fixture(scope="session")
def trained_file(tmp_path_factory) -> Path:
    """Category, team and priority models trained on the slice's training part (once)."""
    train, _ = data.split()
    texts = [r[data.TEXT] for r in train]
    topics = [r[data.LABEL] for r in train]
    pipelines = {
        # category as the bare pipeline, team blended with the meaning (as the app trains with
        # the embedding model installed), priority compiled: the app reads each of them
        "category": classifier.train(texts, [str(CATEGORY_IDS[t]) for t in topics]),
        "team": classifier.train_compiled(
            texts, [str(TEAM_OF[t]) for t in topics], classifier.vectors_of(texts)
        ),
        "priority": classifier.train_compiled(texts, [str(priority_of(t)) for t in topics]),
    }
    path = tmp_path_factory.mktemp("assist") / "triage-test.joblib"
    joblib.dump(pipelines, path)
    return path


@pytest.fixture
def triage_model(db, trained_file, monkeypatch) -> TriageModel:
    """The trained models in use, and the rows their labels name."""
    monkeypatch.setattr(services, "_loaded", None)
    for topic, pk in CATEGORY_IDS.items():
        Category.objects.create(pk=pk, name=topic)
    for pk, (name, tier) in TEAMS.items():
        Team.objects.create(pk=pk, name=name, tier=tier)
    return TriageModel.objects.create(
        version=1, path=str(trained_file), examples=1600, summary={"category": {"labels": 8}}
    )


@pytest.fixture
def threshold(settings):
    """Set the confidence the assistant needs to apply a prediction."""

    def set_to(value: float) -> None:
        settings.TIERLINE = {**settings.TIERLINE, "ASSIST_APPLY_CONFIDENCE": value}

    return set_to

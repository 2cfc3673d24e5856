"""Training on the organisation's own resolved tickets, by the weekly job or the command."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.assist import slice as data
from tests.assist.conftest import priority_of
from tests.desk import factories as desk_factories
from tierline.assist import jobs, services
from tierline.assist.models import TriageModel
from tierline.cli import main
from tierline.core.scheduler import registered_jobs
from tierline.desk.choices import Level, Status
from tierline.desk.models import Category, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved_tickets(settings, employee, monkeypatch):
    """160 tickets of the slice, filed, prioritised and resolved (the rows are written
    directly: the desk's own tests cover resolving; here only the history to learn from counts)."""
    monkeypatch.setattr(services, "_loaded", None)
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_MIN_EXAMPLES": 50}
    categories = {}
    for row in data.rows()[:160]:
        topic = row[data.LABEL]
        if topic not in categories:
            categories[topic] = Category.objects.create(name=f"Topic {topic}")
        urgency = Level.HIGH if priority_of(topic) == 2 else Level.MEDIUM
        desk_factories.ticket(
            requester=employee,
            subject=row[data.TEXT][:60] or "ticket",
            description=row[data.TEXT] or "no text",
            category=categories[topic],
            urgency=urgency,
        )
    Ticket.objects.update(status=Status.RESOLVED, is_open=False)
    return categories


def test_it_learns_from_the_resolved_tickets_and_puts_the_model_in_use(resolved_tickets, employee):
    # when
    trained = services.retrain()
    # then: a versioned row, its file in the private data dir, what each field learned from
    model = trained.model
    assert model.version == 1 and model.examples == 160
    path = Path(model.path)
    assert path.parent == Path(django_settings.DATA_DIR) / "assist" and path.exists()
    assert model.summary["category"]["examples"] >= 140
    assert model.summary["priority"]["labels"] == 2
    assert "same value" in model.summary["team"]["skipped"]  # every ticket stayed in Tier 1
    version, pipelines = services.models_in_use()
    assert version == 1 and set(pipelines) == {"category", "priority"}
    # and a new ticket is triaged with it
    ticket = desk_factories.ticket(
        requester=employee, subject="Laptop", description=data.rows()[170][data.TEXT]
    )
    done = services.triage(ticket_id=ticket.pk)
    assert done.applied or done.suggested


def test_a_second_training_is_a_new_version_and_old_files_go(resolved_tickets):
    first = services.retrain().model
    second = services.retrain().model
    third = services.retrain().model
    assert (first.version, second.version, third.version) == (1, 2, 3)
    assert services.models_in_use()[0] == 3
    assert not Path(first.path).exists() and Path(second.path).exists()


def test_too_few_resolved_tickets_train_nothing(db, settings):
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_MIN_EXAMPLES": 50}
    trained = services.retrain()
    assert trained.model is None and not TriageModel.objects.exists()
    assert "category: 0 resolved tickets, 50 needed" in trained.lines()[0]


def test_the_weekly_job_retrains(resolved_tickets):
    job = next(j for j in registered_jobs() if j.name == "assist-retrain")
    assert str(job.schedule) == "sun 03:00 UTC"
    jobs.enqueue_retrain()  # the immediate backend runs it here
    assert TriageModel.objects.get().version == 1


def test_the_train_command_prints_what_it_learned(resolved_tickets, capsys):
    assert main(["assist", "train"]) == 0
    out = capsys.readouterr().out
    assert "Triage model v1 (160 tickets)" in out
    assert "category: " in out and "team: not predicted" in out

"""Training on the organisation's own resolved tickets, by the weekly job or the command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings

from tests.assist import slice as data
from tests.assist.conftest import priority_of
from tests.desk import factories as desk_factories
from tierline.assist import classifier, embedding, jobs, services
from tierline.assist.models import TriageModel, TriageVector
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


# --- the meaning's vectors: computed once per ticket, kept, read by the next training ---------


def _vector_of(ticket_id: int) -> np.ndarray:
    row = TriageVector.objects.get(ticket_id=ticket_id)
    return np.frombuffer(bytes(row.vector), dtype="<f4")


def test_training_keeps_each_tickets_vector_and_reads_it_the_next_time(resolved_tickets):
    # when: the first training (no ticket has a vector yet)
    first = services.retrain()
    # then: every ticket's vector computed, kept, and the models read words and meaning
    assert (first.vectors.stored, first.vectors.computed) == (0, 160)
    assert TriageVector.objects.count() == 160
    _, pipelines = services.models_in_use()
    assert all(isinstance(p, classifier.Blend) for p in pipelines.values())
    assert first.model.summary["category"]["meaning"] is True
    assert "160 computed now" in "\n".join(first.lines())
    # the kept vector is the one triage computes for the ticket's text
    ticket = Ticket.objects.order_by("pk").first()
    expected = classifier.vectors_of([services.text_of(ticket.subject, ticket.description)])[0]
    np.testing.assert_allclose(_vector_of(ticket.pk), expected, atol=1e-6)
    # when: the next training
    second = services.retrain()
    # then: nothing is computed again
    assert (second.vectors.stored, second.vectors.computed) == (160, 0)
    assert "160 tickets' vectors stored, 0 computed now" in "\n".join(second.lines())


def test_a_ticket_whose_text_changed_is_read_again(resolved_tickets):
    services.retrain()
    ticket = Ticket.objects.order_by("pk").first()
    before = _vector_of(ticket.pk)
    Ticket.objects.filter(pk=ticket.pk).update(description="The VPN drops every ten minutes.")
    again = services.retrain()
    assert (again.vectors.stored, again.vectors.computed) == (159, 1)
    assert not np.allclose(_vector_of(ticket.pk), before)


def test_a_vector_made_otherwise_is_made_again(resolved_tickets, monkeypatch):
    services.retrain()
    # a later version reads more word pieces: what is stored was made otherwise
    monkeypatch.setattr(embedding, "TRIAGE_VECTOR", embedding.TRIAGE_VECTOR + "/next")
    assert services.retrain().vectors.computed == 160


def test_a_damaged_stored_vector_is_made_again(resolved_tickets):
    services.retrain()
    ticket = Ticket.objects.order_by("pk").first()
    TriageVector.objects.filter(ticket_id=ticket.pk).update(vector=b"\x00" * 7)
    assert services.retrain().vectors.computed == 1
    assert len(_vector_of(ticket.pk)) == embedding.DIMENSIONS


def test_without_the_embedding_model_training_reads_words_alone(resolved_tickets, settings):
    settings.TIERLINE = {**settings.TIERLINE, "ASSIST_EMBEDDINGS": False}
    trained = services.retrain()
    assert trained.vectors is None and not TriageVector.objects.exists()
    _, pipelines = services.models_in_use()
    assert not any(isinstance(p, classifier.Blend) for p in pipelines.values())
    assert "words alone" in "\n".join(trained.lines())
    assert trained.model.summary["category"]["meaning"] is False


def test_when_the_int8_model_cannot_load_training_reads_words_alone(
    resolved_tickets, monkeypatch, caplog
):
    def missing(texts):
        raise embedding.ModelMissing("ONNX Runtime could not load the int8 model: gone")

    monkeypatch.setattr(embedding, "triage_vectors", missing)
    trained = services.retrain()
    assert trained.model is not None and trained.vectors is None
    assert "trains on words alone" in caplog.text


def test_a_new_ticket_keeps_its_vector_when_it_is_triaged(resolved_tickets, employee):
    services.retrain()
    text = data.rows()[170][data.TEXT]
    ticket = desk_factories.ticket(requester=employee, subject="Laptop", description=text)
    # when: triaged (after commit: here, called as the task does)
    done = services.triage(ticket_id=ticket.pk)
    # then: guessed with words and meaning, and its vector kept for the trainings to come
    assert done.applied or done.suggested
    expected = classifier.vectors_of([services.text_of("Laptop", text)])[0]
    np.testing.assert_allclose(_vector_of(ticket.pk), expected, atol=1e-6)


def test_triage_reads_words_alone_when_the_model_fails_at_arrival(
    resolved_tickets, employee, monkeypatch, caplog
):
    services.retrain()

    def missing(texts):
        raise embedding.ModelMissing("the embedding model package is not installed")

    monkeypatch.setattr(embedding, "triage_vectors", missing)
    text = data.rows()[170][data.TEXT]
    ticket = desk_factories.ticket(requester=employee, subject="Laptop", description=text)
    done = services.triage(ticket_id=ticket.pk)
    assert done.applied or done.suggested
    assert not TriageVector.objects.filter(ticket_id=ticket.pk).exists()
    assert "reads words alone" in caplog.text


def test_a_vector_of_a_ticket_deleted_meanwhile_is_not_kept_and_nothing_fails(
    resolved_tickets,
):
    # The after-commit triage read the ticket; it is deleted before its vector is written.
    kept = Ticket.objects.order_by("pk").first()
    vector = np.ones(embedding.DIMENSIONS, dtype=np.float32)
    services._save_vectors([(987_654, "gone", vector), (kept.pk, "here", vector)])
    assert not TriageVector.objects.filter(ticket_id=987_654).exists()
    np.testing.assert_allclose(_vector_of(kept.pk), vector)

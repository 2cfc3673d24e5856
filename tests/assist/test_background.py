"""The assistant's thread in a server process: the model and the suggestions' index load there,
and under TIERLINE_TASKS=immediate a resolve's embedding runs there, so no request waits on
them."""

from __future__ import annotations

import threading

import pytest

from tests.desk import factories as desk_factories
from tierline.assist import answers, background, embedding
from tierline.assist.models import Embedding
from tierline.desk import services as desk_services

# The thread reads what the request committed: these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh():
    answers.corpus().reset()
    answers._query_vectors.clear()
    yield
    background.stop(timeout=120)
    answers.corpus().reset()


@pytest.fixture
def model_not_loaded_until_released(monkeypatch):
    """The process has not loaded the model yet; its load waits for `release` and records the
    thread that asked for it."""
    model = embedding.encoder()  # loaded once for real; handed out when released
    asked_by: list[str] = []
    release = threading.Event()

    def load(*args, **kwargs):
        asked_by.append(threading.current_thread().name)
        assert release.wait(timeout=120), "the load was never released"
        return model

    monkeypatch.setattr(embedding, "_encoder", None)
    monkeypatch.setattr(embedding, "Encoder", load)
    return asked_by, release


def test_first_resolve_does_not_load_the_model_in_the_request(
    employee, tier1, model_not_loaded_until_released
):
    # given: a server process whose assistant thread is still loading the model
    asked_by, release = model_not_loaded_until_released
    assert background.start(corpus=False)
    ticket = desk_factories.ticket(
        requester=employee, subject="Outlook crashes", description="Outlook closes on start."
    )

    # when: the first resolve of the process commits (its after-commit handlers run)
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Repaired.")

    # then: the request returned without the model: only the assistant's thread asked for it
    assert not embedding.loaded()
    assert set(asked_by) <= {"assist-background"}
    assert not Embedding.objects.filter(object_id=ticket.pk).exists()
    # and once it has loaded, the thread embeds the ticket
    release.set()
    assert background.wait(timeout=120)
    assert asked_by == ["assist-background"]
    row = Embedding.objects.get(kind=Embedding.Kind.TICKET, object_id=ticket.pk)
    assert "Repaired." in row.text


def test_without_the_thread_the_task_runs_as_queued(employee, tier1):
    # given: no assistant thread (tests, management commands)
    assert not background.running()
    ticket = desk_factories.ticket(
        requester=employee, subject="VPN drops", description="The VPN drops every hour."
    )

    # when
    desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="New profile.")

    # then: embedded in the request, as the immediate backend runs tasks
    assert Embedding.objects.filter(object_id=ticket.pk).exists()


def test_suggestions_do_not_wait_for_the_index_load(client, employee, tier1, monkeypatch):
    # given: solved tickets stored, and a server process whose index load is held
    for subject, answer in [("Printer jams", "Cleared the tray."), ("Mouse dead", "New mouse.")]:
        ticket = desk_factories.ticket(requester=employee, subject=subject, description=subject)
        desk_services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body=answer)
    assert Embedding.objects.count() == 2
    answers.corpus().reset()
    loading, release = threading.Event(), threading.Event()
    real_add = answers.Corpus._add

    def held_add(self, rows):
        loading.set()
        assert release.wait(timeout=120), "the load was never released"
        real_add(self, rows)

    monkeypatch.setattr(answers.Corpus, "_add", held_add)
    assert background.start(corpus=True)
    assert loading.wait(timeout=120)

    # when: a suggestion is asked while the index loads, and the ticket page's panel
    meanwhile = answers.suggestions(user=tier1, text="the printer keeps jamming")
    new = desk_factories.ticket(requester=employee, subject="Printer", description="It jams.")
    client.force_login(tier1)
    panel = client.get(f"/assist/similar/{new.number}/", HTTP_HX_REQUEST="true")

    # then: it gets none at once, and the panel says why; once loaded, the solved ticket
    assert meanwhile == [] and answers.corpus().loading
    assert panel.status_code == 200 and "still being loaded" in panel.content.decode()
    release.set()
    assert background.wait(timeout=120)
    found = answers.suggestions(user=tier1, text="the printer keeps jamming")
    assert found and found[0].title == "Printer jams"
    assert not answers.corpus().loading


def test_the_thread_loads_auto_triages_int8_model_when_a_triage_model_is_trained(
    triage_model, monkeypatch
):
    # given: a trained triage model in use; the int8 copy's load records who asked for it
    asked_by: list[str] = []
    monkeypatch.setattr(
        embedding, "triage_encoder", lambda: asked_by.append(threading.current_thread().name)
    )
    # when: the process's assistant thread starts, loads, and is stopped
    assert background.start(corpus=False)
    background.stop(timeout=120)
    # then: the thread loaded it (a new ticket's triage won't, in its request)
    assert asked_by == ["assist-background"]


def test_without_a_triage_model_the_thread_does_not_load_the_int8_model(db, monkeypatch):
    asked_by: list[str] = []
    monkeypatch.setattr(embedding, "triage_encoder", lambda: asked_by.append("loaded"))
    assert background.start(corpus=False)
    background.stop(timeout=120)
    assert asked_by == []

"""A new ticket is triaged after it commits: applied when sure, suggested otherwise, and a
technician's change is never overwritten."""

from __future__ import annotations

import pytest

from tests.assist import slice as data
from tests.assist.conftest import CATEGORY_IDS
from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.assist import classifier, services
from tierline.assist.models import Suggestion, Target
from tierline.core.history import history_of
from tierline.desk import services as desk_services
from tierline.desk.models import Category, Ticket
from tierline.people.services import system_user

pytestmark = pytest.mark.django_db

# A held-out ticket of the slice (never trained on) the models are sure about: a hardware one.
SUBJECT = "Laptop broken"


def held_out(topic: str) -> str:
    _, test = data.split()
    return next(r[data.TEXT] for r in test if r[data.LABEL] == topic and len(r[data.TEXT]) > 80)


def expected(trained_file, target: str, text: str) -> classifier.Prediction:
    import joblib

    model, text = joblib.load(trained_file)[target], f"{SUBJECT}\n{text}"
    # the team's model is blended: it reads the ticket's meaning vector too, as triage does
    vectors = classifier.vectors_of([text]) if isinstance(model, classifier.Blend) else None
    return classifier.predict(model, [text], vectors)[0]


def open_new(django_capture_on_commit_callbacks, requester, text: str, **kwargs) -> Ticket:
    """Open a ticket the way the portal does; its after-commit triage runs."""
    with django_capture_on_commit_callbacks(execute=True):
        ticket = desk_factories.ticket(
            requester=requester, subject=SUBJECT, description=text, **kwargs
        )
    ticket.refresh_from_db()
    return ticket


def by_assistant(ticket: Ticket) -> list[str]:
    assistant = system_user("assistant")
    return [e.field for e in history_of(ticket) if e.actor_id == assistant.pk and e.field]


def test_a_sure_prediction_is_applied_by_the_assistant(
    triage_model, trained_file, threshold, employee, django_capture_on_commit_callbacks
):
    # given: the assistant applies what it is at least 50% sure of
    threshold(0.5)
    text = held_out("Hardware")
    category = expected(trained_file, "category", text)
    assert category.label == str(CATEGORY_IDS["Hardware"]) and category.confidence >= 0.5
    # when: an employee opens a ticket (the triage runs after it commits)
    ticket = open_new(django_capture_on_commit_callbacks, employee, text)
    # then: filed under Hardware, moved to the hardware team, and the history says who did it
    assert ticket.category_id == CATEGORY_IDS["Hardware"]
    assert "category" in by_assistant(ticket)
    applied = Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY)
    assert (applied.state, applied.auto) == (Suggestion.State.APPLIED, True)
    assert applied.confidence == pytest.approx(category.confidence)
    team = expected(trained_file, "team", text)
    if team.confidence >= 0.5:
        assert ticket.team_id == int(team.label)
        assert "team" in by_assistant(ticket)
    for suggestion in Suggestion.objects.filter(ticket=ticket, state=Suggestion.State.APPLIED):
        assert getattr(ticket, services.FIELD[suggestion.target]) == suggestion.value


def test_an_unsure_prediction_is_only_suggested_and_applied_in_one_click(
    triage_model,
    trained_file,
    threshold,
    employee,
    tier1,
    client,
    django_capture_on_commit_callbacks,
):
    # given: nothing is sure enough
    threshold(1.01)
    text = held_out("Hardware")
    ticket = open_new(django_capture_on_commit_callbacks, employee, text)
    assert ticket.category_id is None and by_assistant(ticket) == []
    pending = Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY)
    assert pending.state == Suggestion.State.PENDING
    # when: a technician opens the ticket page
    client.force_login(tier1)
    page = client.get(f"/desk/tickets/{ticket.number}/")
    # then: the suggestion is on it, with its confidence and an Apply button
    html = page.content.decode()
    assert "Suggested by the assistant" in html
    assert f"Category: <strong>{pending.label}</strong>" in html
    assert f'action="/assist/suggestions/{pending.pk}/apply/"' in html
    # when: they apply it from that page
    answer = client.post(
        f"/assist/suggestions/{pending.pk}/apply/", {"version": ticket.version}, follow=True
    )
    # then: the category is set in their name, and the suggestion leaves the panel
    ticket.refresh_from_db()
    assert ticket.category_id == CATEGORY_IDS["Hardware"]
    entry = [e for e in history_of(ticket) if e.field == "category"][-1]
    assert entry.actor_id == tier1.pk
    pending.refresh_from_db()
    assert (pending.state, pending.decided_by_id, pending.auto) == ("applied", tier1.pk, False)
    assert f"/assist/suggestions/{pending.pk}/apply/" not in answer.content.decode()


def test_a_technician_who_acted_first_is_never_overwritten(
    triage_model, trained_file, threshold, employee, tier1
):
    # given: a new ticket a technician filed under another category before triage ran
    threshold(0.0)
    text = held_out("Hardware")
    ticket = desk_factories.ticket(requester=employee, subject=SUBJECT, description=text)
    other = Category.objects.get(pk=CATEGORY_IDS["Purchase"])
    desk_services.change_fields(ticket=ticket, by=tier1, expected_version=1, category=other)
    team_before = ticket.team_id
    # when
    done = services.triage(ticket_id=ticket.pk)
    # then: nothing applied; what it thinks is a suggestion
    ticket.refresh_from_db()
    assert done.applied == []
    assert (ticket.category_id, ticket.team_id) == (other.pk, team_before)
    assert by_assistant(ticket) == []
    assert Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY).state == "pending"


def test_a_change_between_reading_and_writing_turns_everything_into_suggestions(
    triage_model, threshold, employee, tier1, monkeypatch
):
    # given: triage read the ticket as it opened; then a technician raised its urgency
    threshold(0.0)
    ticket = desk_factories.ticket(
        requester=employee, subject=SUBJECT, description=held_out("Hardware")
    )
    read = services.desk_queries.triage_facts(ticket.pk)
    monkeypatch.setattr(services.desk_queries, "triage_facts", lambda ticket_id: read)
    desk_services.change_fields(ticket=ticket, by=tier1, expected_version=1, urgency=1)
    # when: the assistant writes (ensure_current finds a newer version)
    done = services.triage(ticket_id=ticket.pk)
    # then: nothing of it is written, all of it is suggested
    ticket.refresh_from_db()
    assert done.applied == [] and done.suggested
    assert ticket.category_id is None and ticket.urgency == 1
    assert by_assistant(ticket) == []
    assert set(Suggestion.objects.filter(ticket=ticket).values_list("state", flat=True)) == {
        "pending"
    }


def test_a_category_the_requester_chose_is_suggested_not_replaced(
    triage_model, threshold, employee, django_capture_on_commit_callbacks
):
    threshold(0.0)
    chosen = Category.objects.get(pk=CATEGORY_IDS["Purchase"])
    ticket = open_new(
        django_capture_on_commit_callbacks, employee, held_out("Hardware"), category=chosen
    )
    assert ticket.category_id == chosen.pk
    assert "category" not in by_assistant(ticket)
    assert Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY).state == "pending"


def test_applying_from_a_stale_page_changes_nothing(
    triage_model, threshold, employee, tier1, client, django_capture_on_commit_callbacks
):
    threshold(1.01)
    ticket = open_new(django_capture_on_commit_callbacks, employee, held_out("Hardware"))
    pending = Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY)
    page_version = ticket.version
    desk_services.change_fields(ticket=ticket, by=tier1, urgency=1)  # a colleague, meanwhile
    client.force_login(tier1)
    answer = client.post(
        f"/assist/suggestions/{pending.pk}/apply/", {"version": page_version}, follow=True
    )
    assert "the suggestion was not applied" in answer.content.decode()
    ticket.refresh_from_db()
    pending.refresh_from_db()
    assert ticket.category_id is None and pending.state == "pending"


def test_a_dismissed_suggestion_leaves_the_panel(
    triage_model, threshold, employee, tier1, client, django_capture_on_commit_callbacks
):
    threshold(1.01)
    ticket = open_new(django_capture_on_commit_callbacks, employee, held_out("Hardware"))
    pending = Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY)
    client.force_login(tier1)
    answer = client.post(f"/assist/suggestions/{pending.pk}/dismiss/", follow=True)
    pending.refresh_from_db()
    assert pending.state == "dismissed" and pending.decided_by_id == tier1.pk
    assert f"/assist/suggestions/{pending.pk}/" not in answer.content.decode()
    ticket.refresh_from_db()
    assert ticket.category_id is None


def test_a_requester_cannot_see_or_act_on_suggestions(
    triage_model, threshold, employee, client, django_capture_on_commit_callbacks
):
    threshold(1.01)
    ticket = open_new(django_capture_on_commit_callbacks, employee, held_out("Hardware"))
    pending = Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY)
    client.force_login(employee)
    assert client.post(f"/assist/suggestions/{pending.pk}/apply/").status_code == 404
    pending.refresh_from_db()
    ticket.refresh_from_db()
    assert pending.state == "pending" and ticket.category_id is None


def test_a_technician_of_another_tier_who_cannot_work_it_is_refused(
    triage_model, threshold, employee, client, django_capture_on_commit_callbacks
):
    threshold(1.01)
    ticket = open_new(django_capture_on_commit_callbacks, employee, held_out("Hardware"))
    pending = Suggestion.objects.get(ticket=ticket, target=Target.CATEGORY)
    tier2 = people_factories.technician(2)
    client.force_login(tier2)
    assert client.post(f"/assist/suggestions/{pending.pk}/apply/").status_code == 403
    pending.refresh_from_db()
    assert pending.state == "pending"


@pytest.mark.parametrize("junk", ["0", "x", "99999999999999999999999", "-1"])
def test_junk_ids_are_404(tier1, client, junk):
    client.force_login(tier1)
    assert client.post(f"/assist/suggestions/{junk}/apply/").status_code == 404


def test_without_a_trained_model_nothing_happens(
    db, threshold, employee, django_capture_on_commit_callbacks
):
    threshold(0.0)
    ticket = open_new(django_capture_on_commit_callbacks, employee, "printer jams")
    assert ticket.category_id is None
    assert not Suggestion.objects.filter(ticket=ticket).exists()

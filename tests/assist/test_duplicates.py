"""Duplicates and bursts: a new ticket like an open one of the same requester is offered for
merge; similar tickets from several people in a short time are offered as a major incident.
Suggestions only: a technician merges, groups or dismisses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError

from tests.desk import factories as desk_factories
from tests.people.factories import UserFactory, restricted_team, technician
from tierline.assist import duplicates
from tierline.assist.models import ClusterMember, DuplicateSuggestion, IncidentCluster
from tierline.core.history import history_of
from tierline.desk import services as desk_services
from tierline.desk.models import Ticket
from tierline.people.services import system_user

pytestmark = pytest.mark.django_db

VPN = [
    (
        "VPN not connecting",
        "Since this morning the VPN client says authentication failed and I can't connect "
        "from home.",
    ),
    (
        "Cannot connect to VPN",
        "The VPN client gives authentication failed when I try to connect from home today.",
    ),
    ("VPN down?", "VPN authentication failed, can't connect to the office network from home"),
    ("VPN broken", "The VPN says authentication failed again, I can't connect from home."),
]
OTHER = [
    ("Printer on floor 2 jams", "It jams on every second page since this morning."),
    ("New laptop for starter", "Please order a laptop for our new starter joining on Monday."),
    ("Payroll question", "My payslip shows the wrong tax code this month, can someone check?"),
]


@pytest.fixture
def open_new(django_capture_on_commit_callbacks):
    """Open a ticket as the portal does; the assistant's after-commit work runs."""

    def make(requester, subject: str, description: str, **kwargs) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            ticket = desk_factories.ticket(
                requester=requester, subject=subject, description=description, **kwargs
            )
        ticket.refresh_from_db()
        return ticket

    return make


@pytest.fixture
def tune(settings):
    def set_to(**values) -> None:
        settings.TIERLINE = {**settings.TIERLINE, **values}

    return set_to


def page_of(client, user, ticket: Ticket) -> str:
    client.force_login(user)
    answer = client.get(f"/desk/tickets/{ticket.number}/")
    assert answer.status_code == 200
    return answer.content.decode()


# --- finding --------------------------------------------------------------------------------


def test_a_like_ticket_of_the_same_requester_is_a_possible_duplicate(open_new, employee):
    # given: an open ticket about the VPN
    first = open_new(employee, *VPN[0])
    # when: the same person writes about it again in other words
    second = open_new(employee, *VPN[1])
    # then: the new ticket is offered as a duplicate of the first, with how alike they read
    suggestion = DuplicateSuggestion.objects.get()
    assert (suggestion.ticket_id, suggestion.candidate_id) == (second.pk, first.pk)
    assert 0.5 <= suggestion.score < 1
    assert not suggestion.dismissed
    # and nothing was done to either ticket: a suggestion only
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.is_open and second.merged_into_id is None


def test_the_same_words_from_another_person_are_not_a_duplicate(open_new, employee, employee2):
    open_new(employee, *VPN[0])
    open_new(employee2, *VPN[1])
    assert not DuplicateSuggestion.objects.exists()
    assert not IncidentCluster.objects.exists()  # two people are not a burst (3 needed)


def test_an_unrelated_ticket_of_the_same_requester_is_not_a_duplicate(open_new, employee):
    open_new(employee, *VPN[0])
    open_new(employee, *OTHER[0])
    assert not DuplicateSuggestion.objects.exists()


def test_the_threshold_and_the_days_are_settings(open_new, employee, tune):
    # given: the assistant wants 99% alike
    tune(ASSIST_DUPLICATE_SIMILARITY=0.99)
    first = open_new(employee, *VPN[0])
    open_new(employee, *VPN[1])
    # then: not alike enough
    assert not DuplicateSuggestion.objects.exists()
    # given: a lower threshold, but the first ticket is older than the days looked back
    tune(ASSIST_DUPLICATE_SIMILARITY=0.3, ASSIST_DUPLICATE_DAYS=14)
    Ticket.objects.filter(pk=first.pk).update(created_at=first.created_at - timedelta(days=15))
    open_new(employee, *VPN[2])
    # then: only the recent one is offered
    assert [s.candidate.subject for s in DuplicateSuggestion.objects.all()] == [VPN[1][0]]


def test_a_closed_ticket_is_no_candidate(open_new, employee, tier1):
    first = open_new(employee, *VPN[0])
    desk_services.mark_spam(ticket=first, by=tier1)
    open_new(employee, *VPN[1])
    assert not DuplicateSuggestion.objects.exists()


def test_a_burst_from_three_people_is_grouped_once(open_new):
    # given: three people report the VPN within minutes, and someone else a printer
    people = [UserFactory() for _ in range(4)]
    tickets = [open_new(person, *text) for person, text in zip(people[:3], VPN, strict=False)]
    open_new(people[3], *OTHER[0])
    # then: one possible major incident holds the three, not one per ticket
    cluster = IncidentCluster.objects.get()
    assert cluster.status == IncidentCluster.Status.SUGGESTED
    members = set(cluster.members.values_list("ticket_id", flat=True))
    assert members == {t.pk for t in tickets}
    # when: the comparison runs again for each ticket (a retried task)
    for ticket in tickets:
        duplicates.find_duplicates(ticket_id=ticket.pk)
    # then: still one cluster of three
    assert IncidentCluster.objects.count() == 1
    assert ClusterMember.objects.count() == 3


def test_a_fourth_report_joins_the_cluster(open_new):
    people = [UserFactory() for _ in range(4)]
    for person, text in zip(people, VPN, strict=True):
        open_new(person, *text)
    cluster = IncidentCluster.objects.get()
    assert cluster.members.count() == 4


def test_dissimilar_tickets_of_several_people_are_not_grouped(open_new):
    for text in OTHER:
        open_new(UserFactory(), *text)
    assert not IncidentCluster.objects.exists()


def test_one_persons_reports_are_not_a_burst(open_new, employee):
    for text in VPN[:3]:
        open_new(employee, *text)
    assert not IncidentCluster.objects.exists()


def test_old_tickets_are_outside_the_burst_window(open_new, tune):
    tune(ASSIST_BURST_MINUTES=60)
    old = [open_new(UserFactory(), *text) for text in VPN[:2]]
    Ticket.objects.filter(pk__in=[t.pk for t in old]).update(
        created_at=old[0].created_at - timedelta(minutes=90)
    )
    open_new(UserFactory(), *VPN[2])
    assert not IncidentCluster.objects.exists()


# --- on the ticket page: merge and dismiss --------------------------------------------------


def test_merge_from_the_panel(open_new, employee, tier1, client):
    # given: a likely duplicate
    first = open_new(employee, *VPN[0])
    second = open_new(employee, *VPN[1])
    suggestion = DuplicateSuggestion.objects.get()
    # when: a technician opens the new ticket
    html = page_of(client, tier1, second)
    # then: the panel names the older ticket, who, when and how alike
    assert f'Possible duplicate of <a href="/desk/tickets/{first.number}/">' in html
    assert "same requester, " in html and f"{round(suggestion.score * 100)}% similar" in html
    assert f'action="/assist/duplicates/{suggestion.pk}/merge/"' in html
    # when: they merge
    answer = client.post(f"/assist/duplicates/{suggestion.pk}/merge/", follow=True)
    # then: merged by the desk's service in their name, and they land on the surviving ticket
    second.refresh_from_db()
    assert second.merged_into_id == first.pk and not second.is_open
    merged = [e for e in history_of(second) if e.action == "merged"]
    assert merged and merged[0].actor_id == tier1.pk
    assert answer.redirect_chain[-1][0] == f"/desk/tickets/{first.number}/"
    assert f"Ticket {second.number} merged into {first.number}." in answer.content.decode()
    suggestion.refresh_from_db()
    assert suggestion.decided_by_id == tier1.pk and not suggestion.dismissed


def test_not_a_duplicate_is_recorded_and_hidden(open_new, employee, tier1, client):
    open_new(employee, *VPN[0])
    second = open_new(employee, *VPN[1])
    suggestion = DuplicateSuggestion.objects.get()
    client.force_login(tier1)
    answer = client.post(f"/assist/duplicates/{suggestion.pk}/dismiss/", follow=True)
    suggestion.refresh_from_db()
    assert suggestion.dismissed and suggestion.decided_by_id == tier1.pk
    assert "Possible duplicate of" not in answer.content.decode()
    second.refresh_from_db()
    assert second.is_open and second.merged_into_id is None
    # a second click says so, without a 500
    again = client.post(f"/assist/duplicates/{suggestion.pk}/dismiss/", follow=True)
    assert again.status_code == 200
    assert "already dismissed" in again.content.decode()


def test_a_stale_merge_answers_with_a_message(open_new, employee, tier1, client):
    # given: the suggestion, then someone closes the older ticket before the click
    first = open_new(employee, *VPN[0])
    second = open_new(employee, *VPN[1])
    suggestion = DuplicateSuggestion.objects.get()
    desk_services.mark_spam(ticket=first, by=tier1)
    client.force_login(tier1)
    answer = client.post(f"/assist/duplicates/{suggestion.pk}/merge/", follow=True)
    assert answer.status_code == 200
    assert f"{first.number} is no longer open" in answer.content.decode()
    second.refresh_from_db()
    assert second.is_open and second.merged_into_id is None


def test_merging_a_ticket_already_merged_answers_with_a_message(open_new, employee, tier1, client):
    first = open_new(employee, *VPN[0])
    second = open_new(employee, *VPN[1])
    third = open_new(employee, *OTHER[1])
    suggestion = DuplicateSuggestion.objects.get()
    desk_services.merge(ticket=second, into=third, by=tier1)
    client.force_login(tier1)
    answer = client.post(f"/assist/duplicates/{suggestion.pk}/merge/", follow=True)
    assert answer.status_code == 200
    assert f"Ticket {second.number} is closed: you can" in answer.content.decode()
    second.refresh_from_db()
    assert second.merged_into_id == third.pk
    assert not Ticket.objects.filter(merged_into=first).exists()


def test_a_requester_neither_sees_nor_acts(open_new, employee, client):
    first = open_new(employee, *VPN[0])
    second = open_new(employee, *VPN[1])
    suggestion = DuplicateSuggestion.objects.get()
    client.force_login(employee)
    page = client.get(f"/desk/tickets/{second.number}/")
    assert "Possible duplicate" not in page.content.decode()
    for verb in ("merge", "dismiss"):
        assert client.post(f"/assist/duplicates/{suggestion.pk}/{verb}/").status_code == 404
    second.refresh_from_db()
    assert second.merged_into_id is None and first.is_open
    suggestion.refresh_from_db()
    assert not suggestion.dismissed


def test_a_restricted_ticket_is_not_named_to_who_may_not_read_it(
    open_new, employee, tier1, lead, client
):
    # given: the employee's first ticket sits with HR (restricted), the second with Tier 1
    hr = restricted_team()
    first = open_new(employee, *VPN[0], team=hr)
    second = open_new(employee, *VPN[1])
    suggestion = DuplicateSuggestion.objects.get()
    # then: Tier 1 does not see it named, nor can act on it; a lead does
    assert first.number not in page_of(client, tier1, second)
    assert client.post(f"/assist/duplicates/{suggestion.pk}/merge/").status_code == 404
    assert f'Possible duplicate of <a href="/desk/tickets/{first.number}/">' in page_of(
        client, lead, second
    )


def test_typed_text_is_escaped_in_the_panel(open_new, employee, tier1, client):
    subject = "VPN <b>down</b> & out"
    first = open_new(employee, subject, VPN[0][1])
    second = open_new(employee, *VPN[1])
    assert DuplicateSuggestion.objects.filter(candidate=first).exists()
    html = page_of(client, tier1, second)
    assert "VPN &lt;b&gt;down&lt;/b&gt; &amp; out" in html
    assert "<b>down</b>" not in html


def test_bad_ids_and_verbs_answer_404(client, tier1):
    client.force_login(tier1)
    for url in (
        "/assist/duplicates/abc/merge/",
        "/assist/duplicates/999999/merge/",
        "/assist/duplicates/1/explode/",
        "/assist/incidents/abc/",
        "/assist/incidents/999999/",
        "/assist/incidents/1/explode/",
    ):
        method = client.get if url.count("/") == 4 else client.post
        assert method(url).status_code == 404, url
    assert client.get("/assist/incidents/?status=<script>&page=x").status_code == 200


# --- possible major incidents ---------------------------------------------------------------


@pytest.fixture
def burst(open_new) -> list[Ticket]:
    return [open_new(UserFactory(), *text) for text in VPN[:3]]


def test_the_incident_panel_and_grouping(burst, tier1, client):
    cluster = IncidentCluster.objects.get()
    # when: a technician opens one of the tickets
    html = page_of(client, tier1, burst[1])
    # then: the panel says how many, in how long, and lists them
    assert "Possible major incident" in html
    assert "3 similar tickets in 1 minute" in html
    for ticket in burst:
        assert f'href="/desk/tickets/{ticket.number}/"' in html
    assert 'href="/assist/incidents/"' in html  # the list of them all
    # when: they group them
    answer = client.post(f"/assist/incidents/{cluster.pk}/group/", follow=True)
    # then: one new major incident ticket, each report linked to it, in their name
    cluster.refresh_from_db()
    parent = cluster.parent_ticket
    assert cluster.status == IncidentCluster.Status.ACCEPTED and cluster.decided_by_id == tier1.pk
    assert parent.subject == f"Major incident: {burst[0].subject}"
    assert parent.impact == 1
    assert answer.redirect_chain[-1][0] == f"/desk/tickets/{parent.number}/"
    assert set(parent.related.values_list("pk", flat=True)) == {t.pk for t in burst}
    assert [e.actor_id for e in history_of(parent) if e.action == "linked"] == [tier1.pk] * 3
    # and the new ticket (like them, from another person) starts no cluster of its own
    assert IncidentCluster.objects.count() == 1
    assert not ClusterMember.objects.filter(ticket=parent).exists()
    # and the panel is gone; a second click is answered plainly
    assert "Possible major incident" not in page_of(client, tier1, burst[0])
    again = client.post(f"/assist/incidents/{cluster.pk}/group/", follow=True)
    assert f"already grouped under {parent.number}" in again.content.decode()
    assert Ticket.objects.filter(subject__startswith="Major incident").count() == 1


def test_dismissing_a_possible_incident(burst, tier1, client):
    cluster = IncidentCluster.objects.get()
    client.force_login(tier1)
    answer = client.post(f"/assist/incidents/{cluster.pk}/dismiss/", follow=True)
    assert "Dismissed: not a major incident." in answer.content.decode()
    cluster.refresh_from_db()
    assert cluster.status == IncidentCluster.Status.DISMISSED
    assert "Possible major incident" not in page_of(client, tier1, burst[0])
    assert not Ticket.objects.filter(subject__startswith="Major incident").exists()


def test_grouping_when_the_tickets_are_closed_answers_with_a_message(burst, tier1, client):
    cluster = IncidentCluster.objects.get()
    for ticket in burst[:2]:
        desk_services.mark_spam(ticket=ticket, by=tier1)
    client.force_login(tier1)
    answer = client.post(f"/assist/incidents/{cluster.pk}/group/", follow=True)
    assert answer.status_code == 200
    assert "Only 1 of these 3 tickets are still open" in answer.content.decode()
    cluster.refresh_from_db()
    assert cluster.status == IncidentCluster.Status.SUGGESTED


def test_a_member_in_a_restricted_team_is_hidden_and_blocks_grouping(open_new, tier1, lead, client):
    hr = restricted_team()
    tickets = [open_new(UserFactory(), *VPN[0], team=hr)]
    tickets += [open_new(UserFactory(), *text) for text in VPN[1:4]]
    cluster = IncidentCluster.objects.get()
    assert cluster.members.count() == 4
    # Tier 1 sees the three it may read, not the HR one
    html = page_of(client, tier1, tickets[1])
    assert "3 similar tickets" in html and tickets[0].number not in html
    # and may not group what it can't read: nothing is opened
    answer = client.post(f"/assist/incidents/{cluster.pk}/group/", follow=True)
    assert "not yours to read" in answer.content.decode()
    assert not Ticket.objects.filter(subject__startswith="Major incident").exists()
    # a lead sees all four
    assert "4 similar tickets" in page_of(client, lead, tickets[1])


def test_the_list_of_possible_incidents(burst, lead, employee, tier1, client):
    cluster = IncidentCluster.objects.get()
    client.force_login(lead)
    page = client.get("/assist/incidents/").content.decode()
    assert f'href="/assist/incidents/{cluster.pk}/"' in page
    assert (
        "No possible major incident here"
        in client.get("/assist/incidents/?status=dismissed").content.decode()
    )
    detail = client.get(f"/assist/incidents/{cluster.pk}/").content.decode()
    assert "Group as a major incident" in detail
    # a requester gets nothing
    client.force_login(employee)
    assert client.get("/assist/incidents/").status_code == 404
    assert client.get(f"/assist/incidents/{cluster.pk}/").status_code == 404
    assert client.post(f"/assist/incidents/{cluster.pk}/group/").status_code == 404
    cluster.refresh_from_db()
    assert cluster.status == IncidentCluster.Status.SUGGESTED


def test_the_assistant_acts_on_nothing_by_itself(burst, open_new, employee):
    open_new(employee, *VPN[0])
    open_new(employee, *VPN[1])
    assistant = system_user("assistant")
    for ticket in Ticket.objects.all():
        assert ticket.merged_into_id is None and ticket.is_open
        assert not [
            e
            for e in history_of(ticket)
            if e.actor_id == assistant.pk and e.action in ("merged", "linked")
        ]
    assert IncidentCluster.objects.get().status == IncidentCluster.Status.SUGGESTED


def test_a_technician_of_another_tier_can_group_only_what_they_work(burst, client):
    tier2 = technician(2, username="t2")
    cluster = IncidentCluster.objects.get()
    client.force_login(tier2)
    answer = client.post(f"/assist/incidents/{cluster.pk}/group/", follow=True)
    assert f"You don&#x27;t work {burst[0].number}" in answer.content.decode()
    cluster.refresh_from_db()
    assert cluster.status == IncidentCluster.Status.SUGGESTED


def test_a_dismissed_duplicate_stays_dismissed_when_compared_again(open_new, employee, tier1):
    open_new(employee, *VPN[0])
    second = open_new(employee, *VPN[1])
    suggestion = DuplicateSuggestion.objects.get()
    duplicates.dismiss_duplicate(suggestion_id=suggestion.pk, by=tier1)
    duplicates.find_duplicates(ticket_id=second.pk)
    assert list(DuplicateSuggestion.objects.values_list("dismissed", flat=True)) == [True]


def test_actions_are_posts_only(burst, client, tier1):
    cluster = IncidentCluster.objects.get()
    client.force_login(tier1)
    assert client.get(f"/assist/incidents/{cluster.pk}/group/").status_code == 405
    assert client.get("/assist/duplicates/1/merge/").status_code == 405
    cluster.refresh_from_db()
    assert cluster.status == IncidentCluster.Status.SUGGESTED


def test_a_race_between_two_tickets_of_a_burst_makes_one_cluster(burst, open_new, monkeypatch):
    # given: the fourth report's first write is refused by the one-cluster-per-ticket
    # constraint, as when another ticket's run grouped it at the same moment
    real = duplicates._group_burst_once
    calls = []

    def racing(new, others, alike):
        calls.append(new["id"])
        if len(calls) == 1:
            raise IntegrityError("assist_ticket_in_one_cluster")
        return real(new, others, alike)

    monkeypatch.setattr(duplicates, "_group_burst_once", racing)
    fourth = open_new(UserFactory(), *VPN[3])
    # then: tried again, it finds the cluster and it is one cluster of four
    assert len(calls) == 2
    assert IncidentCluster.objects.count() == 1
    assert ClusterMember.objects.filter(ticket=fourth).count() == 1
    assert IncidentCluster.objects.get().members.count() == 4

"""The permission matrix: every role × every action on a ticket, in the workspace and the API.

Read `ALLOWED` as the table. Two tickets:

- "ordinary": a Tier 1 ticket of an employee. Tier 1 works it; Tier 2 is the field technician of
  its work order; Tier 2 and Tier 3 read it (Tier 1 answers the phone, the others may be asked).
- "restricted": a ticket of the restricted HR Systems team (Tier 2), asked for by Tina, a Tier 1
  technician. Hana, of HR Systems, works it and is the field technician of its work order.

Each ticket already has a public reply, an internal note with a file, an escalation (up and back
down, with summaries), an impact change, a call and a work order. Every role not named for an
action is refused it, and a refusal changes nothing: the ticket's status, version, team,
assignee and subject, its message, history, call and work-order counts, and the work order's
status, version and device are read again from the database and compared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.history import history_of
from tierline.desk import permissions as perms
from tierline.desk import queries, services
from tierline.desk.models import Attachment, Call, Escalation, Level, Message, Ticket, WorkOrder
from tierline.people.models import User
from tierline.people.services import system_user

pytestmark = pytest.mark.django_db

STAFF = {"tier1", "tier2", "tier3", "restricted_member", "lead", "admin"}
EVERYONE_ORDINARY = {"requester", *STAFF}
RESTRICTED_DESK = {"restricted_member", "lead", "admin"}

# action -> who may, per ticket. The docstring above says who is who.
ALLOWED: dict[str, dict[str, set[str]]] = {
    "ordinary": {
        "read ticket": EVERYONE_ORDINARY,
        "read internal note": STAFF,
        "reply": {"requester", "tier1", "lead", "admin"},
        "internal note": STAFF,
        "change status/fields": {"tier1", "lead", "admin"},
        "assign": {"tier1", "lead", "admin"},
        "escalate": {"tier1", "lead", "admin"},
        "resolve": {"tier1", "lead", "admin"},
        "log call": STAFF,
        "open work order": {"lead", "admin"},  # Tier 1 works it but is Tier 1
        "change work order": {"tier2", "lead", "admin"},  # tier2: its field technician
        "complete work order": {"tier2", "lead", "admin"},
        "cancel work order": {"tier2", "lead", "admin"},
        "read calls list": STAFF,
        "read work orders": STAFF,
        "history": STAFF,
    },
    "restricted": {
        "read ticket": {*RESTRICTED_DESK, "tech_requester"},
        "read internal note": RESTRICTED_DESK,
        "reply": {*RESTRICTED_DESK, "tech_requester"},
        "internal note": RESTRICTED_DESK,
        "change status/fields": RESTRICTED_DESK,
        "assign": RESTRICTED_DESK,
        "escalate": RESTRICTED_DESK,
        "resolve": RESTRICTED_DESK,
        "log call": RESTRICTED_DESK,
        "open work order": RESTRICTED_DESK,
        "change work order": RESTRICTED_DESK,
        "complete work order": RESTRICTED_DESK,
        "cancel work order": RESTRICTED_DESK,
        "read calls list": RESTRICTED_DESK,
        "read work orders": RESTRICTED_DESK,
        "history": RESTRICTED_DESK,
    },
}
ROLES = {
    "ordinary": ["requester", "tier1", "tier2", "tier3", "restricted_member", "lead", "admin"],
    "restricted": [
        "requester",
        "tier1",
        "tier2",
        "tier3",
        "restricted_member",
        "lead",
        "admin",
        "tech_requester",
    ],
}


# --- the cast and the tickets ---------------------------------------------------------------


@dataclass
class Scene:
    people: dict[str, User]
    ticket: Ticket
    work_order: WorkOrder
    call: Call
    note_file: Attachment


def _people() -> dict[str, User]:
    hr = people_factories.restricted_team(tier=2, name="HR Systems")
    return {
        "requester": people_factories.UserFactory(username="erin"),
        "tier1": people_factories.technician(1, username="tess"),
        "tier2": people_factories.technician(2, username="theo"),
        "tier3": people_factories.technician(3, username="thea"),
        "restricted_member": people_factories.UserFactory(
            username="hana", role=User.Role.TECHNICIAN, teams=[hr]
        ),
        "lead": people_factories.UserFactory(username="lee", role=User.Role.LEAD),
        "admin": people_factories.UserFactory(
            username="ada", role=User.Role.ADMIN, is_staff=True, is_superuser=True
        ),
        "tech_requester": people_factories.technician(1, username="tina"),
    }


def _furnish(ticket: Ticket, worker: User, lead: User, technician: User) -> Scene:
    """A reply, an internal note with a file, an escalation up and back, an impact change, a
    call and a work order: one of everything the matrix reads or changes."""
    home = ticket.team
    services.add_message(ticket=ticket, by=worker, body="PUBLIC-REPLY")
    note = services.add_message(
        ticket=ticket,
        by=worker,
        body="INTERNAL-NOTE",
        internal=True,
        uploads=[SimpleUploadedFile("secret.txt", b"desk only", content_type="text/plain")],
    )
    services.escalate(ticket=ticket, by=lead, summary="ESCALATION-SUMMARY")
    services.de_escalate(ticket=ticket, by=lead, summary="Back to you", team=home)
    ticket.refresh_from_db()
    services.change_fields(ticket=ticket, by=worker, impact=Level.HIGH)
    call = services.log_call(
        by=worker, outcome=Call.Outcome.EXISTING_TICKET, caller_name="Caller", ticket=ticket
    )
    start = timezone.now() + timedelta(days=1)
    work_order = services.create_work_order(
        ticket=ticket,
        by=lead,
        technician=technician,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
        device="Printer",
    )
    ticket.refresh_from_db()
    return Scene({}, ticket, work_order, call, note.attachments.get())


@pytest.fixture
def scene(request) -> Scene:
    people = _people()
    if request.param == "ordinary":
        ticket = desk_factories.ticket(people["requester"], team=people_factories.team(1))
        built = _furnish(ticket, people["tier1"], people["lead"], people["tier2"])
    else:
        hr = people_factories.restricted_team(tier=2, name="HR Systems")
        ticket = desk_factories.ticket(people["tech_requester"], team=hr)
        member = people["restricted_member"]
        built = _furnish(ticket, member, people["lead"], member)
    built.people = people
    return built


# --- what "nothing changed" means -----------------------------------------------------------


def snapshot(scene: Scene) -> dict[str, Any]:
    ticket = Ticket.objects.get(pk=scene.ticket.pk)
    work_order = WorkOrder.objects.get(pk=scene.work_order.pk)
    return {
        "status": ticket.status,
        "version": ticket.version,
        "team": ticket.team_id,
        "assignee": ticket.assignee_id,
        "subject": ticket.subject,
        "messages": Message.objects.filter(ticket=ticket).count(),
        "history": history_of(ticket).count(),
        "escalations": Escalation.objects.filter(ticket=ticket).count(),
        "calls": Call.objects.count(),
        "work_orders": WorkOrder.objects.filter(ticket=ticket).count(),
        "work_order_status": work_order.status,
        "work_order_version": work_order.version,
        "work_order_device": work_order.device,
    }


# --- the actions, each in the workspace (ui) and the API ------------------------------------


@dataclass
class Try:
    """One attempt: who, through which door, on what."""

    scene: Scene
    user: User
    channel: str  # "ui" or "api"
    api: Callable[[User], APIClient]  # the `api` fixture

    @property
    def ticket(self) -> Ticket:
        return self.scene.ticket

    @property
    def wo(self) -> WorkOrder:
        return self.scene.work_order

    def client(self) -> Client | APIClient:
        if self.channel == "ui":
            client = Client()
            client.force_login(self.user)
            return client
        return self.api(self.user)

    def ticket_api(self, action: str = "") -> str:
        return f"/api/v1/tickets/{self.ticket.number}/" + (f"{action}/" if action else "")

    def ticket_action(self, action: str) -> str:
        return reverse("desk:ticket_action", args=[self.ticket.number, action])

    def page(self):
        """The ticket page as the user lands on it (the portal's, for a requester)."""
        return self.client().get(reverse("desk:ticket", args=[self.ticket.number]), follow=True)


def _json(response) -> Any:
    return response.json() if response.status_code == 200 else None


def _results(response) -> list[dict]:
    body = _json(response)
    if body is None:
        return []
    return body["results"] if isinstance(body, dict) else body


def read_ticket(t: Try) -> bool:
    if t.channel == "ui":
        response = t.page()
        return response.status_code == 200 and t.ticket.subject in response.content.decode()
    body = _json(t.client().get(t.ticket_api()))
    return body is not None and body["number"] == t.ticket.number


def read_internal_note(t: Try) -> bool:
    if t.channel == "ui":
        response = t.page()
        html = response.content.decode() if response.status_code == 200 else ""
        note = "INTERNAL-NOTE" in html
        # the escalation summary and the note's file go with the note, whoever asks
        assert ("ESCALATION-SUMMARY" in html) == note
        download = t.client().get(reverse("desk:attachment", args=[t.scene.note_file.pk]))
        assert (download.status_code == 200) == note
        return note
    return any(
        m["body"] == "INTERNAL-NOTE" for m in _results(t.client().get(t.ticket_api("replies")))
    )


def reply(t: Try) -> bool:
    if t.channel == "ui" and not t.user.is_staff_member:
        url = reverse("portal:ticket_action", args=[t.ticket.number, "reply"])
        t.client().post(url, {"body": "Matrix reply"})
    elif t.channel == "ui":
        t.client().post(t.ticket_action("reply"), {"body": "Matrix reply"})
    else:
        t.client().post(t.ticket_api("replies"), {"body": "Matrix reply"}, format="json")
    return Message.objects.filter(ticket=t.ticket, body="Matrix reply", internal=False).exists()


def internal_note(t: Try) -> bool:
    if t.channel == "ui":
        t.client().post(t.ticket_action("reply"), {"body": "Matrix note", "internal": "internal"})
    else:
        t.client().post(
            t.ticket_api("replies"), {"body": "Matrix note", "internal": True}, format="json"
        )
    return Message.objects.filter(ticket=t.ticket, body="Matrix note", internal=True).exists()


def change_status_fields(t: Try) -> bool:
    if t.channel == "ui":
        t.client().post(t.ticket_action("status"), {"status": "in_progress"})
        t.client().post(
            t.ticket_action("fields"),
            {
                "subject": "Matrix subject",
                "impact": t.ticket.impact,
                "urgency": t.ticket.urgency,
                "version": Ticket.objects.get(pk=t.ticket.pk).version,
            },
        )
    else:
        t.client().patch(
            t.ticket_api(), {"status": "in_progress", "subject": "Matrix subject"}, format="json"
        )
    fresh = Ticket.objects.get(pk=t.ticket.pk)
    changed = (fresh.status == "in_progress", fresh.subject == "Matrix subject")
    assert changed[0] == changed[1], f"status and fields disagree: {changed}"
    return changed[0]


def assign(t: Try) -> bool:
    if t.channel == "ui":
        t.client().post(t.ticket_action("take"))
    else:
        t.client().post(t.ticket_api("take"))
    return Ticket.objects.get(pk=t.ticket.pk).assignee_id == t.user.pk


def escalate(t: Try) -> bool:
    data = {"summary": "Matrix escalation"}
    if t.channel == "ui":
        t.client().post(t.ticket_action("escalate"), data)
    else:
        t.client().post(t.ticket_api("escalate"), data, format="json")
    return Escalation.objects.filter(ticket=t.ticket, summary="Matrix escalation").exists()


def resolve(t: Try) -> bool:
    data = {"resolution_code": "fixed", "body": "Matrix fix"}
    if t.channel == "ui":
        t.client().post(t.ticket_action("resolve"), data)
    else:
        t.client().post(t.ticket_api("resolve"), data, format="json")
    return Ticket.objects.get(pk=t.ticket.pk).status == "resolved"


def log_call(t: Try) -> bool:
    if t.channel == "ui":
        t.client().post(
            reverse("desk:call_new"),
            {
                "direction": "inbound",
                "outcome": "existing_ticket",
                "ticket_number": t.ticket.number,
                "caller_name": "Matrix caller",
                "duration": "",
                "notes": "",
            },
        )
    else:
        t.client().post(
            "/api/v1/calls/",
            {
                "outcome": "existing_ticket",
                "ticket": t.ticket.number,
                "caller_name": "Matrix caller",
            },
            format="json",
        )
    return Call.objects.filter(ticket=t.ticket, caller_name="Matrix caller").exists()


def _visit() -> tuple[Any, Any]:
    start = (timezone.localtime() + timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return start, start + timedelta(hours=1)


def open_work_order(t: Try) -> bool:
    start, end = _visit()
    if t.channel == "ui":
        t.client().post(
            reverse("desk:work_order_create", args=[t.ticket.number]),
            {
                "technician": t.user.pk,
                "scheduled_start": start.strftime("%Y-%m-%dT%H:%M"),
                "scheduled_end": end.strftime("%Y-%m-%dT%H:%M"),
                "device": "Matrix visit",
            },
        )
    else:
        t.client().post(
            "/api/v1/work-orders/",
            {
                "ticket": t.ticket.number,
                "technician": t.user.username,
                "scheduled_start": start.isoformat(),
                "scheduled_end": end.isoformat(),
                "device": "Matrix visit",
            },
            format="json",
        )
    return WorkOrder.objects.filter(ticket=t.ticket, device="Matrix visit").exists()


def _wo_action(t: Try, action: str) -> str:
    return reverse("desk:work_order_action", args=[t.wo.number, action])


def change_work_order(t: Try) -> bool:
    if t.channel == "ui":
        wo = t.wo
        t.client().post(
            _wo_action(t, "update"),
            {
                "technician": wo.technician_id,
                "scheduled_start": timezone.localtime(wo.scheduled_start).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
                "scheduled_end": timezone.localtime(wo.scheduled_end).strftime("%Y-%m-%dT%H:%M"),
                "device": "Matrix device",
                "version": wo.version,
            },
        )
    else:
        t.client().patch(
            f"/api/v1/work-orders/{t.wo.number}/", {"device": "Matrix device"}, format="json"
        )
    return WorkOrder.objects.get(pk=t.wo.pk).device == "Matrix device"


def complete_work_order(t: Try) -> bool:
    data = {"outcome": "Fuser replaced.", "signoff_name": "Erin", "time_spent_minutes": 30}
    if t.channel == "ui":
        t.client().post(_wo_action(t, "complete"), {**data, "version": t.wo.version})
    else:
        t.client().post(f"/api/v1/work-orders/{t.wo.number}/complete/", data, format="json")
    return WorkOrder.objects.get(pk=t.wo.pk).status == WorkOrder.Status.DONE


def cancel_work_order(t: Try) -> bool:
    data = {"reason": "Not needed after all."}
    if t.channel == "ui":
        t.client().post(_wo_action(t, "cancel"), data)
    else:
        t.client().post(f"/api/v1/work-orders/{t.wo.number}/cancel/", data, format="json")
    return WorkOrder.objects.get(pk=t.wo.pk).status == WorkOrder.Status.CANCELLED


def read_calls_list(t: Try) -> bool:
    if t.channel == "ui":
        response = t.client().get(reverse("desk:calls"), {"technician": "all"})
        return response.status_code == 200 and t.scene.call in response.context["calls"]
    return any(c["id"] == t.scene.call.pk for c in _results(t.client().get("/api/v1/calls/")))


def read_work_orders(t: Try) -> bool:
    if t.channel == "ui":
        response = t.client().get(reverse("desk:work_order", args=[t.wo.number]))
        return response.status_code == 200 and t.wo.number in response.content.decode()
    listed = _results(t.client().get("/api/v1/work-orders/"))
    one = t.client().get(f"/api/v1/work-orders/{t.wo.number}/")
    assert (one.status_code == 200) == any(w["number"] == t.wo.number for w in listed)
    return one.status_code == 200


def history(t: Try) -> bool:
    """The full history (the impact change); a requester reads only the status changes."""
    if t.channel == "ui":
        response = t.page()
        entries = response.context.get("entries", []) if response.status_code == 200 else []
        return any(e.kind == "event" and e.obj.field == "impact" for e in entries)
    return any(h["field"] == "impact" for h in _results(t.client().get(t.ticket_api("history"))))


ACTIONS: dict[str, Callable[[Try], bool]] = {
    "read ticket": read_ticket,
    "read internal note": read_internal_note,
    "reply": reply,
    "internal note": internal_note,
    "change status/fields": change_status_fields,
    "assign": assign,
    "escalate": escalate,
    "resolve": resolve,
    "log call": log_call,
    "open work order": open_work_order,
    "change work order": change_work_order,
    "complete work order": complete_work_order,
    "cancel work order": cancel_work_order,
    "read calls list": read_calls_list,
    "read work orders": read_work_orders,
    "history": history,
}


def _cases() -> list:
    cases = []
    for ticket_kind, allowed in ALLOWED.items():
        for action in ACTIONS:
            for role in ROLES[ticket_kind]:
                for channel in ("ui", "api"):
                    cases.append(
                        pytest.param(
                            ticket_kind,
                            role,
                            action,
                            channel,
                            role in allowed[action],
                            id=f"{ticket_kind}-{action.replace(' ', '_')}-{role}-{channel}",
                        )
                    )
    return cases


@pytest.mark.parametrize(
    ("scene", "role", "action", "channel", "allowed"), _cases(), indirect=["scene"]
)
def test_permission_matrix(scene: Scene, role: str, action: str, channel: str, allowed: bool, api):
    # given
    attempt = Try(scene, scene.people[role], channel, api)
    before = snapshot(scene)
    # when
    done = ACTIONS[action](attempt)
    # then
    assert done is allowed
    if not allowed:
        assert snapshot(scene) == before


def test_the_table_names_every_action_for_every_ticket():
    for allowed in ALLOWED.values():
        assert set(allowed) == set(ACTIONS)


# --- the functions behind the table ---------------------------------------------------------


def test_a_technician_without_hidden_teams_gets_the_list_unfiltered(employee, tier1):
    # given: no restricted team at all
    desk_factories.ticket(employee, team=people_factories.team(3))
    # when
    with CaptureQueriesContext(connection) as first:
        qs = perms.visible_tickets(tier1)
    with CaptureQueriesContext(connection) as again:
        perms.visible_tickets(tier1)
    # then: one small query for the hidden teams, cached on the user; no WHERE on the tickets
    assert len(first) == 1 and "people_team" in first[0]["sql"]
    assert len(again) == 0
    assert "WHERE" not in str(qs.query)
    assert qs.count() == 1


def test_a_restricted_teams_tickets_are_read_by_its_members_its_assignee_leads_and_the_asker(
    employee, tier1, tier2, lead
):
    # given: an HR ticket; Tier 1's Tess once was in HR and still holds one of its tickets
    hr = people_factories.restricted_team(members=[tier2])
    secret = desk_factories.ticket(employee, team=hr)
    held = desk_factories.ticket(employee, team=hr)
    hr.members.add(tier1)
    services.take(ticket=held, by=tier1)
    hr.members.remove(tier1)
    own = desk_factories.ticket(tier1, team=hr)
    tier1 = User.objects.get(pk=tier1.pk)  # no cached teams
    # when / then
    assert set(perms.visible_tickets(tier1)) == {held, own}
    assert perms.can_read_as_technician(tier1, held)
    assert not perms.can_read_as_technician(tier1, own)  # her own request: read as a requester
    assert not perms.can_read_ticket(tier1, secret)
    assert set(perms.visible_tickets(tier2)) == {secret, held, own}
    assert set(perms.visible_tickets(lead)) == {secret, held, own}
    assert set(perms.visible_tickets(employee)) == {secret, held}


def test_system_users_act_with_a_leads_reach(employee):
    # given
    secret = desk_factories.ticket(employee, team=people_factories.restricted_team())
    mail = system_user("mail")
    # when / then
    assert perms.can_read_as_technician(mail, secret)
    assert perms.can_work_ticket(mail, secret)
    assert list(perms.visible_tickets(mail)) == [secret]
    services.add_message(ticket=secret, by=mail, body="Auto-acknowledged.", internal=True)


def test_a_note_from_a_technician_who_does_not_work_the_ticket_moves_nothing(
    employee, tier1, tier2
):
    # given: a Tier 2 ticket waiting for its requester
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    services.change_status(ticket=ticket, by=tier2, status="waiting_requester")
    ticket.refresh_from_db()
    # when: Tier 1, who took the requester's call, leaves a note with the time it took
    services.add_message(
        ticket=ticket, by=tier1, body="She called: fine now?", internal=True, time_spent_minutes=5
    )
    # then: still waiting, no first response, the note is on the trail
    ticket.refresh_from_db()
    assert ticket.status == "waiting_requester" and ticket.first_response_at is None
    assert ticket.time_spent_minutes == 5
    assert history_of(ticket).filter(action="noted", actor=tier1).exists()


def test_a_technician_reads_their_own_restricted_request_as_a_requester(tier1, tier2):
    # given: Tess asked HR for something; HR noted, called and planned a visit
    hr = people_factories.restricted_team(members=[tier2])
    ticket = desk_factories.ticket(tier1, team=hr)
    services.add_message(
        ticket=ticket, by=tier2, body="Salary question, check payroll", internal=True
    )
    services.add_message(ticket=ticket, by=tier2, body="We are on it.")
    services.log_call(by=tier2, outcome="existing_ticket", caller_name="Payroll", ticket=ticket)
    # when
    kinds = {entry.kind for entry in queries.timeline(ticket, tier1)}
    page = Client()
    page.force_login(tier1)
    response = page.get(reverse("desk:ticket", args=[ticket.number]), follow=True)
    # then: the public conversation only, in the portal
    assert kinds == {"reply", "event"}
    assert response.redirect_chain[-1][0] == reverse("portal:ticket", args=[ticket.number])
    assert "Salary question" not in response.content.decode()
    assert list(perms.visible_calls(tier1)) == []


def test_the_workspace_and_the_api_list_the_same_calls_and_work_orders(employee, tier1, tier2, api):
    # given: calls and visits on an ordinary and on a restricted ticket
    hr = people_factories.restricted_team(members=[tier2])
    ordinary = desk_factories.ticket(employee, team=people_factories.team(2))
    secret = desk_factories.ticket(employee, team=hr)
    for ticket in (ordinary, secret):
        services.log_call(by=tier2, outcome="existing_ticket", caller_name="C", ticket=ticket)
        desk_factories.work_order(
            ticket, by=tier2, technician=tier1 if ticket == ordinary else tier2
        )
    services.log_call(by=tier2, outcome="solved", caller_name="Solved on the call")
    client = Client()
    client.force_login(tier1)
    # when
    html = client.get(reverse("desk:calls"), {"technician": "all"}).context["calls"]
    by_api = api(tier1).get("/api/v1/calls/").json()["results"]
    visits_api = api(tier1).get("/api/v1/work-orders/").json()["results"]
    # then
    assert (
        {c.pk for c in html}
        == {c["id"] for c in by_api}
        == {c.pk for c in perms.visible_calls(tier1)}
    )
    assert len(html) == 2  # the ordinary ticket's call and the one solved on the call
    assert {w["ticket"] for w in visits_api} == {ordinary.number}


def test_reports_leave_out_restricted_teams_for_outsiders(employee, tier1, lead):
    # given: a Tier 1 ticket a lead escalated to HR
    hr = people_factories.restricted_team()
    secret = desk_factories.ticket(employee, team=people_factories.team(1))
    services.escalate(ticket=secret, by=lead, summary="Payroll matter", team=hr)
    today = timezone.localdate()
    # when / then
    assert queries.escalation_counts(today, today, tier1) == []
    assert queries.escalation_counts(today, today, lead)[0]["count"] == 1


def test_work_orders_are_not_changed_by_tier1_even_on_their_own_teams_ticket(employee, tier1, lead):
    # given: Tess's team owns the ticket; a lead plans a visit by someone else
    ticket = desk_factories.ticket(employee, team=people_factories.team(1))
    visit = desk_factories.work_order(ticket, by=lead, technician=lead)
    # when / then
    assert perms.can_work_ticket(tier1, ticket)
    assert not perms.can_open_work_order(tier1, ticket)
    assert not perms.can_change_work_order(tier1, visit)
    with pytest.raises(PermissionDenied):
        services.cancel_work_order(work_order=visit, by=tier1, reason="Not needed")
    visit.refresh_from_db()
    assert visit.status == WorkOrder.Status.SCHEDULED


def test_teams_and_hidden_teams_are_read_from_the_directory_once(tier2):
    # given: Theo is in Tier 2; HR is restricted, Security too, and he is in Security
    hr = people_factories.restricted_team(name="HR Systems")
    security = people_factories.restricted_team(name="Security", members=[tier2])
    user = User.objects.get(pk=tier2.pk)
    # when
    with CaptureQueriesContext(connection) as queries_run:
        tiers = (user.highest_tier, user.highest_tier, perms.highest_tier(user))
        teams = perms.team_ids(user)
        hidden = perms.hidden_team_ids(user)
    # then
    assert tiers == (2, 2, 2)
    assert sorted(teams) == sorted([people_factories.team(2).pk, security.pk])
    assert hidden == [hr.pk]
    assert len(queries_run) == 1


def test_the_team_admin_shows_and_filters_restricted_teams(client, admin_user):
    people_factories.restricted_team()
    client.force_login(admin_user)
    response = client.get(reverse("admin:people_team_changelist"), {"is_restricted__exact": "1"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [people_factories.restricted_team()]
    assert "is_restricted" in response.context["cl"].list_display


def test_the_ticket_page_names_no_restricted_child_to_outsiders(employee, tier1, lead):
    # given: a lead split an HR child off a Tier 1 ticket
    parent = desk_factories.ticket(employee, team=people_factories.team(1))
    child = services.create_child(
        parent=parent,
        by=lead,
        subject="Payroll",
        description="Salary",
        team=people_factories.restricted_team(),
    )
    outsider, insider = Client(), Client()
    outsider.force_login(tier1)
    insider.force_login(lead)
    url = reverse("desk:ticket", args=[parent.number])
    link = f'href="{reverse("desk:ticket", args=[child.number])}"'
    # when / then: no link in the related work (the parent's history still says a child was added)
    assert outsider.get(url).context["links"].children == []
    assert link not in outsider.get(url).content.decode()
    assert link in insider.get(url).content.decode()


def test_a_reader_who_does_not_work_the_ticket_is_offered_a_note_and_a_call(employee, tier1):
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    client = Client()
    client.force_login(tier1)
    html = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "Add internal note" in html and 'name="internal" value="internal"' in html
    assert f"{reverse('desk:call_new')}?ticket={ticket.number}" in html
    assert "Resolve…" not in html and "Escalate…" not in html
    # when she adds a note, she stays on the ticket
    response = client.post(
        reverse("desk:ticket_action", args=[ticket.number, "reply"]),
        {"body": "Requester called: the printer jams again.", "internal": "internal"},
    )
    assert response["Location"] == reverse("desk:ticket", args=[ticket.number])
    assert ticket.messages.get().internal

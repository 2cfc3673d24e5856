"""The desk API end to end: tickets and their actions, categories, work orders, calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.models import Call, Category, Message, Status, Ticket, WorkOrder

pytestmark = pytest.mark.django_db

TICKET_FIELDS = {
    "number",
    "subject",
    "description",
    "status",
    "priority",
    "tier",
    "team",
    "assignee",
    "requester",
    "category",
    "created_at",
    "updated_at",
    "impact",
    "urgency",
    "channel",
    "time_spent_minutes",
    "version",
    "parent",
    "merged_into",
}
# What the portal shows a requester: none of the desk's fields (team, tier, assignee, ...).
REQUESTER_TICKET_FIELDS = {
    "number",
    "subject",
    "description",
    "status",
    "urgency",
    "requester",
    "requester_name",
    "category",
    "category_name",
    "merged_into",
    "created_at",
    "updated_at",
    "resolved_at",
    "closed_at",
}


def url(number: str = "", action: str = "") -> str:
    path = "/api/v1/tickets/"
    if number:
        path += f"{number}/"
    if action:
        path += f"{action}/"
    return path


# --- create and read -------------------------------------------------------------------------


def test_create_answers_201_with_the_ticket(api, employee):
    # given
    category = Category.objects.filter(is_active=True).first()
    # when
    response = api(employee).post(
        url(),
        {
            "subject": "VPN drops every hour",
            "description": "Since Monday.",
            "category": category.pk,
            "urgency": 1,
            "impact": 2,
        },
        format="json",
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == REQUESTER_TICKET_FIELDS
    ticket = Ticket.objects.get(number=body["number"])
    assert body["subject"] == "VPN drops every hour"
    assert body["requester"] == "employee" and ticket.channel == "api"
    assert body["status"] == Status.NEW and body["category"] == category.pk
    assert body["urgency"] == 1 and (ticket.impact, ticket.priority) == (2, 2)


def test_the_help_desk_reads_the_new_ticket_with_its_desk_fields(api, tier1, employee):
    # when
    response = api(tier1).post(
        url(),
        {"subject": "VPN drops", "description": "Since Monday.", "requester": "employee"},
        format="json",
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= TICKET_FIELDS
    ticket = Ticket.objects.get(number=body["number"])
    assert body["channel"] == "api" and body["priority"] == ticket.priority
    assert body["team"] == ticket.team_id and body["tier"] == 1 and body["assignee"] is None


def test_staff_opens_on_behalf_of_someone_by_username_or_id(api, tier1, employee):
    for ref in ("employee", employee.pk):
        # when
        response = api(tier1).post(
            url(),
            {"subject": "Phone call", "description": "Monitor dead", "requester": ref},
            format="json",
        )
        # then
        assert response.status_code == 201, response.json()
        assert response.json()["requester"] == "employee"


def test_requester_cannot_open_on_behalf_of_someone_else(api, employee, employee2):
    response = api(employee).post(
        url(), {"subject": "x", "description": "y", "requester": "employee2"}, format="json"
    )
    assert response.status_code == 403
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": "x" * 201, "description": "y"}, "subject"),
        ({"subject": "", "description": "y"}, "subject"),
        ({"subject": "x", "description": "y", "category": 999999}, "category"),
        ({"subject": "x", "description": "y", "urgency": 7}, "urgency"),
        ({"subject": "x", "description": "y", "impact": "high"}, "impact"),
        ({"subject": "x", "description": "y", "channel": "pigeon"}, "channel"),
        ({"subject": "x", "description": "y", "requester": "nobody-here"}, "requester"),
        ({"description": "y"}, "subject"),
    ],
)
def test_create_with_bad_input_answers_400_field_errors(api, tier1, payload, field):
    response = api(tier1).post(url(), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Ticket.objects.count() == 0


def test_create_inactive_category_answers_400_from_the_service(api, employee):
    category = Category.objects.create(name="Fax machines", is_active=False)
    response = api(employee).post(
        url(), {"subject": "x", "description": "y", "category": category.pk}, format="json"
    )
    assert response.status_code == 400
    assert "no longer in use" in response.json()["category"][0]


def test_read_one_ticket_by_number(api, employee):
    ticket = desk_factories.ticket(employee)
    response = api(employee).get(url(ticket.number))
    assert response.status_code == 200
    assert response.json()["number"] == ticket.number


def test_requester_gets_404_for_someone_elses_ticket(api, employee, employee2):
    ticket = desk_factories.ticket(employee2)
    client = api(employee)
    assert client.get(url(ticket.number)).status_code == 404
    assert client.get(url(ticket.number, "history")).status_code == 404
    assert (
        client.post(url(ticket.number, "replies"), {"body": "hi"}, format="json").status_code == 404
    )


def test_technician_reads_another_teams_ticket(api, employee, tier2):
    ticket = desk_factories.ticket(employee)  # tier 1
    assert api(tier2).get(url(ticket.number)).status_code == 200


def test_technician_gets_404_for_a_restricted_teams_ticket(api, employee, tier2):
    ticket = desk_factories.ticket(employee, team=people_factories.restricted_team())
    assert api(tier2).get(url(ticket.number)).status_code == 404


def test_unknown_number_answers_404(api, lead):
    assert api(lead).get(url("TL-999999")).status_code == 404
    assert api(lead).post(url("TL-999999", "take")).status_code == 404


# --- list --------------------------------------------------------------------------------------


def test_list_shows_only_visible_tickets(api, employee, employee2):
    mine = desk_factories.ticket(employee)
    desk_factories.ticket(employee2)
    response = api(employee).get(url())
    assert response.status_code == 200
    assert [t["number"] for t in response.json()["results"]] == [mine.number]


def test_list_uses_the_workspace_filters_and_queues(
    api, employee, tier1, django_capture_on_commit_callbacks
):
    # given (committed: `q` reads the search index, written after commit)
    with django_capture_on_commit_callbacks(execute=True):
        vpn = desk_factories.ticket(employee, subject="VPN down", urgency=1, impact=1)
        printer = desk_factories.ticket(employee, subject="Printer jam")
    services.take(ticket=printer, by=tier1)
    client = api(tier1)
    # when / then
    numbers = lambda r: [t["number"] for t in r.json()["results"]]  # noqa: E731
    assert numbers(client.get(url(), {"q": "vpn"})) == [vpn.number]
    assert numbers(client.get(url(), {"priority": 1})) == [vpn.number]
    assert numbers(client.get(url(), {"queue": "mine"})) == [printer.number]
    assert numbers(client.get(url(), {"queue": "unassigned"})) == [vpn.number]
    assert numbers(client.get(url(), {"sort": "-created"})) == [printer.number, vpn.number]


def test_list_rejects_unknown_queue_and_bad_filters(api, tier1):
    client = api(tier1)
    assert client.get(url(), {"queue": "everything"}).status_code == 400
    response = client.get(url(), {"status": "bogus"})
    assert response.status_code == 400 and "status" in response.json()


@pytest.mark.parametrize("rows", [3, 30])
def test_ticket_list_query_count_is_bounded(
    api, tier1, employee, rows, django_assert_max_num_queries
):
    # given
    for i in range(rows):
        t = desk_factories.ticket(employee, subject=f"Ticket {i}")
        if i % 2:
            services.take(ticket=t, by=tier1)
    client = api(tier1)
    # when / then
    with django_assert_max_num_queries(5):
        response = client.get(url())
    assert len(response.json()["results"]) == rows and response.json()["next"] is None


# --- change ------------------------------------------------------------------------------------


def test_patch_changes_fields_status_and_assignee(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = api(tier1).patch(
        url(ticket.number),
        {
            "subject": "Printer jams on A3",
            "urgency": 1,
            "status": "in_progress",
            "assignee": "tier1",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["subject"] == "Printer jams on A3" and body["urgency"] == 1
    assert body["status"] == "in_progress" and body["assignee"] == "tier1"


def test_patch_with_stale_version_answers_409(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    stale = ticket.version
    services.change_fields(ticket=ticket, by=tier1, subject="Changed meanwhile")
    # when
    response = api(tier1).patch(
        url(ticket.number), {"subject": "Mine", "version": stale}, format="json"
    )
    # then
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert Ticket.objects.get(pk=ticket.pk).subject == "Changed meanwhile"


def test_patch_with_current_version_succeeds(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = api(tier1).patch(
        url(ticket.number), {"subject": "Mine", "version": ticket.version}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["version"] == ticket.version + 1


def test_requester_cannot_patch_own_ticket(api, employee):
    ticket = desk_factories.ticket(employee)
    response = api(employee).patch(url(ticket.number), {"subject": "Urgent!!"}, format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"subject": "x" * 201}, "subject"),
        ({"category": 999999}, "category"),
        ({"urgency": 0}, "urgency"),
        ({"status": "resolved"}, "status"),
        ({"assignee": "employee"}, "assignee"),
    ],
)
def test_patch_bad_input_answers_400(api, employee, tier1, payload, field):
    ticket = desk_factories.ticket(employee)
    response = api(tier1).patch(url(ticket.number), payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_patch_illegal_transition_answers_400_and_changes_nothing(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    # when
    response = api(tier1).patch(
        url(ticket.number), {"subject": "New subject", "status": "open"}, format="json"
    )
    # then
    assert response.status_code == 400
    assert "Reopen it first" in response.json()["non_field_errors"][0]
    assert Ticket.objects.get(pk=ticket.pk).subject != "New subject"


# --- actions -----------------------------------------------------------------------------------


def test_escalate_and_deescalate(api, employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    response = api(tier1).post(
        url(ticket.number, "escalate"), {"summary": "Driver reinstalled."}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tier"] == 2 and response.json()["team"] == people_factories.team(2).pk
    response = api(tier2).post(
        url(ticket.number, "deescalate"),
        {"summary": "Needs a toner swap only.", "team": people_factories.team(1).pk},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tier"] == 1


def test_escalate_needs_a_summary_and_a_known_team(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    client = api(tier1)
    assert "summary" in client.post(url(ticket.number, "escalate"), {}, format="json").json()
    response = client.post(
        url(ticket.number, "escalate"), {"summary": "x", "team": 999999}, format="json"
    )
    assert response.status_code == 400 and "team" in response.json()


def test_escalating_a_closed_ticket_answers_400(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    services.confirm_resolution(ticket=ticket, by=employee)
    response = api(tier1).post(url(ticket.number, "escalate"), {"summary": "x"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_requester_cannot_escalate(api, employee):
    ticket = desk_factories.ticket(employee)
    response = api(employee).post(
        url(ticket.number, "escalate"), {"summary": "Please!"}, format="json"
    )
    assert response.status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).tier == 1


def test_reply_and_note_and_who_sees_what(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    staff = api(tier1)
    # when
    reply = staff.post(url(ticket.number, "replies"), {"body": "Try this."}, format="json")
    note = staff.post(
        url(ticket.number, "replies"),
        {"body": "Probably the fuser.", "internal": True, "time_spent_minutes": 5},
        format="json",
    )
    # then
    assert reply.status_code == 201 and note.status_code == 201, note.json()
    assert note.json()["internal"] is True and note.json()["author"] == "tier1"
    assert [m["body"] for m in staff.get(url(ticket.number, "replies")).json()] == [
        "Try this.",
        "Probably the fuser.",
    ]
    assert [m["body"] for m in api(employee).get(url(ticket.number, "replies")).json()] == [
        "Try this."
    ]


def test_requester_cannot_write_internal_notes(api, employee):
    ticket = desk_factories.ticket(employee)
    response = api(employee).post(
        url(ticket.number, "replies"), {"body": "psst", "internal": True}, format="json"
    )
    assert response.status_code == 403
    assert not Message.objects.filter(ticket=ticket).exists()


def test_empty_or_overlong_reply_answers_400(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    client = api(tier1)
    assert "body" in client.post(url(ticket.number, "replies"), {"body": ""}, format="json").json()
    response = client.post(url(ticket.number, "replies"), {"body": "x" * 50001}, format="json")
    assert response.status_code == 400 and "body" in response.json()


def test_resolve_confirm_and_reopen(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    resolved = api(tier1).post(
        url(ticket.number, "resolve"),
        {"resolution_code": "fixed", "body": "New rollers fitted.", "time_spent_minutes": 20},
        format="json",
    )
    # then
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["time_spent_minutes"] == 20
    reopened = api(employee).post(
        url(ticket.number, "reopen"), {"reason": "Jams again."}, format="json"
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    api(tier1).post(
        url(ticket.number, "resolve"), {"resolution_code": "fixed", "body": "Ok"}, format="json"
    )
    confirmed = api(employee).post(url(ticket.number, "confirm"))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "closed"


def test_resolve_with_unknown_code_answers_400(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = api(tier1).post(
        url(ticket.number, "resolve"), {"resolution_code": "magic", "body": "x"}, format="json"
    )
    assert response.status_code == 400 and "resolution_code" in response.json()


def test_requester_cannot_resolve_or_take(api, employee):
    ticket = desk_factories.ticket(employee)
    client = api(employee)
    assert (
        client.post(
            url(ticket.number, "resolve"), {"resolution_code": "fixed", "body": "x"}, format="json"
        )
    ).status_code == 403
    assert client.post(url(ticket.number, "take")).status_code == 403


def test_confirm_an_open_ticket_answers_400(api, employee):
    ticket = desk_factories.ticket(employee)
    assert api(employee).post(url(ticket.number, "confirm")).status_code == 400


def test_take_assigns_to_self(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = api(tier1).post(url(ticket.number, "take"))
    assert response.status_code == 200
    assert response.json()["assignee"] == "tier1" and response.json()["status"] == "open"


def test_history_for_staff_and_for_the_requester(api, employee, tier1, tier2):
    # given
    ticket = desk_factories.ticket(employee)
    services.take(ticket=ticket, by=tier1)
    services.escalate(ticket=ticket, by=tier1, summary="Tried a reboot.")
    # when
    staff = api(tier2).get(url(ticket.number, "history"))
    requester = api(employee).get(url(ticket.number, "history"))
    # then
    assert staff.status_code == 200
    entries = staff.json()
    assert {"who", "when", "action", "field", "old", "new", "summary"} == set(entries[0])
    assert [e["action"] for e in entries][:1] == ["opened"]
    assert "escalated" in [e["action"] for e in entries]
    assert requester.status_code == 200
    assert {e["field"] for e in requester.json()} == {"status"}


# --- categories --------------------------------------------------------------------------------


def test_categories_lists_active_ones(api, employee):
    Category.objects.create(name="Retired", is_active=False)
    response = api(employee).get("/api/v1/categories/")
    assert response.status_code == 200
    names = [c["name"] for c in response.json()["results"]]
    assert "Retired" not in names and names


# --- work orders -------------------------------------------------------------------------------


def _visit(start_in_hours: int = 1) -> tuple[str, str]:
    start = timezone.now() + timedelta(hours=start_in_hours)
    return start.isoformat(), (start + timedelta(hours=1)).isoformat()


def test_work_order_create_read_patch_complete(api, employee, tier2):
    # given
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    start, end = _visit()
    client = api(tier2)
    # when
    created = client.post(
        "/api/v1/work-orders/",
        {
            "ticket": ticket.number,
            "technician": "tier2",
            "scheduled_start": start,
            "scheduled_end": end,
            "checklist": [{"text": "Check cable"}],
        },
        format="json",
    )
    # then
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    assert created.json()["ticket"] == ticket.number
    assert client.get(f"/api/v1/work-orders/{number}/").status_code == 200
    patched = client.patch(
        f"/api/v1/work-orders/{number}/",
        {"status": "in_progress", "desk": "B-204", "version": created.json()["version"]},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["desk"] == "B-204"
    stale = client.patch(
        f"/api/v1/work-orders/{number}/", {"desk": "C-1", "version": 1}, format="json"
    )
    assert stale.status_code == 409
    done = client.post(
        f"/api/v1/work-orders/{number}/complete/",
        {"outcome": "Cable replaced.", "signoff_name": "Erin", "time_spent_minutes": 30},
        format="json",
    )
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done"
    again = client.post(
        f"/api/v1/work-orders/{number}/complete/",
        {"outcome": "x", "signoff_name": "y", "time_spent_minutes": 1},
        format="json",
    )
    assert again.status_code == 400


def test_work_order_bad_input_answers_400(api, employee, tier2):
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    start, end = _visit()
    client = api(tier2)
    response = client.post(
        "/api/v1/work-orders/",
        {
            "ticket": ticket.number,
            "technician": "tier2",
            "scheduled_start": end,
            "scheduled_end": start,
        },
        format="json",
    )
    assert response.status_code == 400 and "scheduled_end" in response.json()
    response = client.post(
        "/api/v1/work-orders/",
        {
            "ticket": "TL-999999",
            "technician": "tier2",
            "scheduled_start": start,
            "scheduled_end": end,
        },
        format="json",
    )
    assert response.status_code == 400 and "ticket" in response.json()


def test_tier1_cannot_open_work_orders(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    start, end = _visit()
    response = api(tier1).post(
        "/api/v1/work-orders/",
        {
            "ticket": ticket.number,
            "technician": "tier1",
            "scheduled_start": start,
            "scheduled_end": end,
        },
        format="json",
    )
    assert response.status_code == 403
    assert not WorkOrder.objects.exists()


def test_requester_cannot_see_work_orders(api, employee):
    assert api(employee).get("/api/v1/work-orders/").status_code == 403


def test_unknown_work_order_answers_404(api, tier2):
    assert api(tier2).get("/api/v1/work-orders/WO-999999/").status_code == 404


@pytest.mark.parametrize("rows", [3, 30])
def test_work_order_list_query_count_is_bounded(
    api, employee, tier2, rows, django_assert_max_num_queries
):
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    now = timezone.now()
    for i in range(rows):
        services.create_work_order(
            ticket=ticket,
            by=tier2,
            technician=tier2,
            scheduled_start=now + timedelta(hours=i),
            scheduled_end=now + timedelta(hours=i + 1),
        )
    client = api(tier2)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/work-orders/")
    assert len(response.json()["results"]) == rows and response.json()["next"] is None


# --- calls -------------------------------------------------------------------------------------


def test_log_call_with_a_new_ticket(api, employee, tier1):
    response = api(tier1).post(
        "/api/v1/calls/",
        {
            "caller": "employee",
            "started_at": timezone.now().isoformat(),
            "duration_seconds": 125,
            "notes": "Outlook crashes on start.",
            "outcome": "new_ticket",
            "subject": "Outlook crashes",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get(number=body["ticket"])
    assert body["caller"] == "employee" and body["technician"] == "tier1"
    assert ticket.requester == employee and ticket.channel == "phone"
    assert ticket.time_spent_minutes == 3


def test_log_call_on_an_existing_ticket_and_solved(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    client = api(tier1)
    existing = client.post(
        "/api/v1/calls/",
        {"caller_phone": "+44 20 7946 0000", "outcome": "existing_ticket", "ticket": ticket.number},
        format="json",
    )
    assert existing.status_code == 201, existing.json()
    assert existing.json()["ticket"] == ticket.number
    solved = client.post(
        "/api/v1/calls/", {"caller_name": "Someone", "outcome": "solved"}, format="json"
    )
    assert solved.status_code == 201 and solved.json()["ticket"] is None
    listed = client.get("/api/v1/calls/").json()
    assert len(listed["results"]) == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"caller_name": "A", "outcome": "maybe"}, "outcome"),
        ({"outcome": "solved"}, "caller"),
        ({"caller_name": "A", "outcome": "new_ticket", "subject": "x"}, "caller"),
        ({"caller_name": "A", "outcome": "existing_ticket"}, "ticket"),
        ({"caller_name": "A", "outcome": "existing_ticket", "ticket": "TL-999999"}, "ticket"),
        ({"caller": 999999, "outcome": "solved"}, "caller"),
        ({"caller_name": "A", "outcome": "solved", "duration_seconds": -1}, "duration_seconds"),
        ({"caller_name": "A" * 121, "outcome": "solved"}, "caller_name"),
    ],
)
def test_log_call_bad_input_answers_400(api, tier1, payload, field):
    response = api(tier1).post("/api/v1/calls/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Call.objects.exists()


def test_requester_cannot_log_or_list_calls(api, employee):
    client = api(employee)
    assert (
        client.post(
            "/api/v1/calls/", {"caller_name": "A", "outcome": "solved"}, format="json"
        ).status_code
        == 403
    )
    assert client.get("/api/v1/calls/").status_code == 403


@pytest.mark.parametrize("rows", [3, 30])
def test_call_list_query_count_is_bounded(
    api, employee, tier1, rows, django_assert_max_num_queries
):
    ticket = desk_factories.ticket(employee)
    for i in range(rows):
        services.log_call(
            by=tier1,
            caller=employee,
            outcome="existing_ticket" if i % 2 else "solved",
            ticket=ticket if i % 2 else None,
        )
    client = api(tier1)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/calls/")
    assert len(response.json()["results"]) == rows and response.json()["next"] is None

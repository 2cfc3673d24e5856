"""Logging calls, the call list and the call report."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.models import Call, Channel, Ticket

pytestmark = pytest.mark.django_db

NEW = reverse("desk:call_new")


def _post(client, **data):
    payload = {"direction": "inbound", "outcome": "solved", "duration": "", "notes": ""}
    payload.update(data)
    return client.post(NEW, payload)


# --- log a call -----------------------------------------------------------------------------


def test_form_shows_a_timer(client, tier1):
    client.force_login(tier1)
    body = client.get(NEW).content.decode()
    assert 'data-timer data-timer-input="duration_seconds"' in body
    assert 'name="duration_seconds"' in body


def test_log_a_solved_call_with_a_typed_name(client, tier1):
    # given
    client.force_login(tier1)
    # when
    response = _post(client, caller_name="Visitor at reception", duration="4:05")
    # then
    assert response.status_code == 302 and response.url == reverse("desk:calls")
    call = Call.objects.get()
    assert (call.caller_name, call.duration_seconds, call.outcome) == (
        "Visitor at reception",
        245,
        Call.Outcome.SOLVED,
    )
    assert call.technician == tier1 and call.ticket is None


def test_timer_seconds_are_used_when_no_time_is_typed(client, tier1):
    client.force_login(tier1)
    _post(client, caller_phone="+44 20 7946 0000", duration_seconds="75")
    assert Call.objects.get().duration_seconds == 75


def test_log_a_call_from_a_ticket_carries_the_ticket_and_its_requester(client, tier1, employee):
    # given: the ticket page's "Log a call" link
    ticket = desk_factories.ticket(employee)
    client.force_login(tier1)
    ticket_page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    link = f"{NEW}?ticket={ticket.number}"
    assert f'href="{link}"' in ticket_page
    # when
    form = client.get(link).content.decode()
    # then: the ticket and its requester are filled in, the outcome is "existing ticket"
    assert f"Log a call on {ticket.number}" in form
    assert f'name="ticket_number" value="{ticket.number}"' in form
    assert f'name="caller" value="{employee.pk}" checked' in form
    assert re.search(r'value="existing_ticket"[^>]*checked', form)
    assert f'href="{reverse("desk:ticket", args=[ticket.number])}">Cancel' in form
    # when saved as shown
    response = _post(
        client,
        caller=employee.pk,
        caller_lookup=str(employee),
        outcome="existing_ticket",
        ticket_number=ticket.number,
        duration="1:30",
        notes="Called back about the printer.",
    )
    # then: the call is on the ticket, from its requester, and we are back on the ticket
    call = Call.objects.get()
    assert (call.ticket, call.caller, call.duration_seconds) == (ticket, employee, 90)
    assert response.url == reverse("desk:ticket", args=[ticket.number])


def test_log_a_call_for_a_ticket_one_cannot_read_fills_nothing_in(client, tier1, employee):
    # given: an HR ticket Tier 1 may not read
    secret = desk_factories.ticket(
        employee, subject="HR matter", team=people_factories.restricted_team()
    )
    client.force_login(tier1)
    # when
    form = client.get(f"{NEW}?ticket={secret.number}").content.decode()
    # then: a plain call form, nothing of the ticket or its requester
    assert secret.number not in form.replace(f"?ticket={secret.number}", "")
    assert f'name="caller" value="{employee.pk}"' not in form


def test_log_a_call_for_ones_own_restricted_ticket_fills_nothing_in(client, tier1):
    # given: Tier 1's own request to HR, which they read only as its requester
    own = desk_factories.ticket(
        tier1, subject="My HR matter", team=people_factories.restricted_team()
    )
    client.force_login(tier1)
    # when
    form = client.get(f"{NEW}?ticket={own.number}").content.decode()
    # then
    assert f'name="ticket_number" value="{own.number}"' not in form
    assert f"Log a call on {own.number}" not in form


def test_log_a_call_that_opens_a_ticket(client, tier1, employee):
    # given
    client.force_login(tier1)
    # when
    response = _post(
        client,
        caller=employee.pk,
        outcome="new_ticket",
        subject="Outlook keeps asking for a password",
        duration="120",
        notes="Tried restarting.",
    )
    # then
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("desk:ticket", args=[ticket.number])
    assert ticket.requester == employee and ticket.channel == Channel.PHONE
    assert ticket.assignee == tier1
    assert Call.objects.get().ticket == ticket


def test_caller_is_resolved_from_the_lookup_text_without_js(client, tier1, employee):
    client.force_login(tier1)
    _post(client, caller_lookup=employee.email, outcome="new_ticket", subject="No sound")
    assert Ticket.objects.get().requester == employee


def test_ambiguous_lookup_asks_to_pick(client, tier1, employee, employee2):
    # given two people with the same surname fragment
    employee2.last_name = "Employee"
    employee2.save()
    client.force_login(tier1)
    # when
    response = _post(client, caller_lookup="Emplo", outcome="new_ticket", subject="Help")
    # then
    assert response.status_code == 400
    assert "Several people match" in response.content.decode()
    assert len(response.context["matches"]) == 2
    assert not Call.objects.exists()


def test_log_a_call_on_an_existing_ticket(client, tier1, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(tier1)
    # when
    response = _post(
        client,
        caller=employee.pk,
        outcome="existing_ticket",
        ticket_number=ticket.number.lower(),
        duration="1:30",
    )
    # then
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.time_spent_minutes == 2


def test_prefill_from_a_ticket(client, tier1, employee):
    ticket = desk_factories.ticket(employee)
    client.force_login(tier1)
    response = client.get(NEW, {"ticket": ticket.number})
    form = response.context["form"]
    assert form.initial["ticket_number"] == ticket.number
    assert form.initial["outcome"] == Call.Outcome.EXISTING_TICKET
    assert response.context["selected"] == employee


def test_call_on_another_teams_ticket_is_logged(client, tier1, employee):
    # given: a ticket Tier 1 escalated; its requester calls Tier 1 about it
    other = desk_factories.ticket(employee, team=people_factories.team(2))
    client.force_login(tier1)
    # when
    response = _post(client, caller_name="X", outcome="existing_ticket", ticket_number=other.number)
    # then: the call is on the ticket, which stays with Tier 2
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.ticket == other and call.technician == tier1
    other.refresh_from_db()
    assert other.team == people_factories.team(2) and other.assignee is None


def test_existing_ticket_of_a_restricted_team_is_not_found(client, tier1, employee):
    secret = desk_factories.ticket(employee, team=people_factories.restricted_team())
    client.force_login(tier1)
    response = _post(
        client, caller_name="X", outcome="existing_ticket", ticket_number=secret.number
    )
    assert response.status_code == 400
    assert "There is no ticket" in response.content.decode()
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "caller_lookup"),  # nobody named
        ({"caller_name": "X", "duration": "ten minutes"}, "duration"),
        ({"caller_name": "X", "duration": "4:75"}, "duration"),
        ({"caller_name": "X", "duration": "999999"}, "duration"),
        ({"caller_name": "X", "outcome": "new_ticket", "subject": "Help"}, "caller_lookup"),
        ({"caller_name": "X", "outcome": "existing_ticket"}, "ticket_number"),
        ({"caller_name": "X", "outcome": "exploded"}, "outcome"),
        ({"caller_name": "X" * 121}, "caller_name"),
        ({"caller": "999999", "caller_name": "X"}, "caller"),
    ],
)
def test_bad_input_is_a_form_error_not_a_500(client, tier1, data, field):
    client.force_login(tier1)
    response = _post(client, **data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Call.objects.exists()


def test_requester_cannot_log_calls(client, employee):
    client.force_login(employee)
    response = _post(client, caller_name="X")
    assert response.status_code == 302 and response.url == reverse("portal:home")
    assert not Call.objects.exists()


def test_person_lookup_returns_at_most_ten_matches(client, tier1):
    # given
    for n in range(12):
        people_factories.UserFactory(
            username=f"printer{n}", first_name="Pat", last_name=f"Printer{n}"
        )
    client.force_login(tier1)
    # when
    response = client.get(reverse("desk:person_lookup"), {"caller_lookup": "printer"})
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('name="caller"') == 11  # ten people + "not in the directory"
    assert "<html" not in body


def test_person_lookup_by_phone(client, tier1, employee):
    employee.phone = "+31 20 555 0101"
    employee.save()
    client.force_login(tier1)
    body = client.get(reverse("desk:person_lookup"), {"q": "555 0101"}).content.decode()
    assert str(employee) in body


# --- list -----------------------------------------------------------------------------------


def _call(by, **kw):
    kw.setdefault("outcome", Call.Outcome.SOLVED)
    kw.setdefault("caller_name", "Someone")
    return services.log_call(by=by, **kw)


def test_call_list_shows_mine_by_default(client, tier1, tier2):
    mine = _call(tier1, caller_name="Mine caller")
    _call(tier2, caller_name="Theirs caller")
    client.force_login(tier1)
    response = client.get(reverse("desk:calls"))
    assert list(response.context["calls"]) == [mine]


def test_technician_widens_the_call_list_to_what_they_may_read(client, tier1, tier2, employee):
    # given: a call of Tier 2 on a restricted team's ticket, and one solved on the call
    mine = _call(tier1, caller_name="Mine caller")
    theirs = _call(tier2, caller_name="Theirs caller")
    secret = desk_factories.ticket(employee, team=people_factories.restricted_team(members=[tier2]))
    hidden = _call(tier2, caller_name="HR caller", outcome="existing_ticket", ticket=secret)
    client.force_login(tier1)
    # when
    everyone = client.get(reverse("desk:calls"), {"technician": "all"}).context["calls"]
    # then: the same calls as the API answers
    assert set(everyone) == {mine, theirs}
    assert hidden not in everyone


def test_lead_sees_everyone_or_one_technician(client, lead, tier1, tier2):
    a = _call(tier1)
    b = _call(tier2)
    client.force_login(lead)
    everyone = client.get(reverse("desk:calls"), {"technician": "all"}).context["calls"]
    one = client.get(reverse("desk:calls"), {"technician": tier2.pk}).context["calls"]
    assert set(everyone) == {a, b}
    assert list(one) == [b]


def test_call_list_filters_by_date(client, tier1):
    today = _call(tier1)
    _call(tier1, started_at=timezone.now() - timedelta(days=3))
    client.force_login(tier1)
    day = timezone.localdate().isoformat()
    response = client.get(reverse("desk:calls"), {"start": day, "end": day})
    assert list(response.context["calls"]) == [today]


def test_call_list_bad_dates_no_500(client, tier1):
    client.force_login(tier1)
    response = client.get(reverse("desk:calls"), {"start": "2024-13-45", "end": "x"})
    assert response.status_code == 200


@pytest.mark.parametrize("rows", [3, 30])
def test_call_list_query_count_bounded(
    client, lead, tier1, employee, django_assert_max_num_queries, rows
):
    ticket = desk_factories.ticket(employee)
    for _ in range(rows):
        _call(tier1, caller=employee, outcome=Call.Outcome.EXISTING_TICKET, ticket=ticket)
    client.force_login(lead)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("desk:calls"), {"technician": "all"})
    assert response.status_code == 200


def test_call_list_pages_newest_first_without_counting(client, tier1, settings):
    # given: five calls, two a page
    settings.TIERLINE = {**settings.TIERLINE, "PAGE_SIZE": 2}
    now = timezone.now()
    calls = [_call(tier1, started_at=now - timedelta(minutes=n)) for n in range(5)]
    client.force_login(tier1)
    # when
    first = client.get(reverse("desk:calls"))
    last = client.get(reverse("desk:calls"), {"page": "3"})
    # then
    assert list(first.context["calls"]) == calls[:2]
    assert list(last.context["calls"]) == calls[4:]
    html = first.content.decode()
    assert "1–2" in html and " of " not in html.split('class="pagination"')[1]
    assert 'rel="next"' in html and 'rel="prev"' not in html
    assert 'rel="prev"' in last.content.decode() and 'rel="next"' not in last.content.decode()


# --- report ---------------------------------------------------------------------------------


def _report_setup(tier1, tier2, employee):
    ticket = desk_factories.ticket(employee)
    _call(tier1, duration_seconds=60)
    _call(tier1, duration_seconds=90, outcome=Call.Outcome.EXISTING_TICKET, ticket=ticket)
    _call(tier2, duration_seconds=30)
    _call(tier1, duration_seconds=600, started_at=timezone.now() - timedelta(days=30))


def test_call_report_counts_per_technician_per_day(client, lead, tier1, tier2, employee):
    # given
    _report_setup(tier1, tier2, employee)
    client.force_login(lead)
    # when
    response = client.get(reverse("desk:call_report"))
    # then: the 30-day-old call is outside the default week
    rows = {r["technician"]: r for r in response.context["rows"]}
    assert rows["Tess One"]["calls"] == 2
    assert rows["Tess One"]["talk_seconds"] == 150
    assert (rows["Tess One"]["solved"], rows["Tess One"]["existing_ticket"]) == (1, 1)
    assert rows["Theo Two"]["calls"] == 1
    assert response.context["totals"]["calls"] == 3
    assert response.context["totals"]["talk"] == "0:03:00"


def test_call_report_technician_sees_only_own(client, tier1, tier2, employee):
    _report_setup(tier1, tier2, employee)
    client.force_login(tier2)
    rows = client.get(reverse("desk:call_report")).context["rows"]
    assert [r["technician"] for r in rows] == ["Theo Two"]


def test_call_report_csv(client, lead, tier1, tier2, employee):
    _report_setup(tier1, tier2, employee)
    client.force_login(lead)
    response = client.get(reverse("desk:call_report_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Day", "Technician", "Calls"]
    assert sum(int(r[2]) for r in rows[1:]) == 3


def test_call_report_is_one_aggregate_query(
    client, lead, tier1, tier2, employee, django_assert_max_num_queries
):
    _report_setup(tier1, tier2, employee)
    for _ in range(20):
        _call(tier2, duration_seconds=5)
    client.force_login(lead)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("desk:call_report"))
    assert response.status_code == 200


def test_call_report_rejects_backwards_range(client, lead):
    client.force_login(lead)
    response = client.get(reverse("desk:call_report"), {"start": "2025-02-01", "end": "2025-01-01"})
    assert response.status_code == 200
    assert "end" in response.context["form"].errors


# --- when the phone rings (?phone=, a phone system's screen pop) ---------------------------


def test_a_ringing_number_fills_in_the_caller_and_shows_their_open_tickets(client, tier1, employee):
    employee.phone = "0113 496 0123"
    employee.save()
    ticket = desk_factories.ticket(employee, subject="VPN <drops> & reconnects")
    client.force_login(tier1)
    page = client.get(NEW, {"phone": "+44 113 496 0123"}).content.decode()
    assert "Calling from +44 113 496 0123" in page
    assert str(employee) in page
    assert "VPN &lt;drops&gt; &amp; reconnects" in page
    assert f"ticket={ticket.number}" in page
    assert 'value="+44 113 496 0123"' in page  # the caller phone field
    # following "Log the call on it" fills in the ticket too
    page = client.get(NEW, {"phone": "+44 113 496 0123", "ticket": ticket.number}).content.decode()
    assert f'value="{ticket.number}"' in page


def test_an_unknown_or_junk_number_is_said_plainly(client, tier1):
    client.force_login(tier1)
    page = client.get(NEW, {"phone": "+1 555 0100"}).content.decode()
    assert "Nobody in the directory has this number" in page
    for junk in ("x" * 500, "<script>", "12", "\x00"):
        answer = client.get(NEW, {"phone": junk})
        assert answer.status_code == 200
        assert "Calling from" not in answer.content.decode()

"""Issue 8, point 1: what people type is stored as typed and escaped when shown.

The defects: subjects were stored HTML-escaped (`Printer & scanner <2nd floor>` came back from
the API as `Printer &amp; scanner &lt;2nd floor&gt;`), and anything in angle brackets in a
description or reply was deleted (`<DeviceNotFound>`, `<john@example.com>`). Now the text is
kept (Unicode NFC, line breaks as LF), control characters are refused with an error naming the
field, and pages escape it once.
"""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.desk import factories as desk_factories
from tierline.core.sanitise import render_text
from tierline.desk import services
from tierline.desk.models import Call, Message, Ticket

pytestmark = pytest.mark.django_db

SUBJECT = "Printer & scanner <2nd floor>"
ERROR_TEXT = (
    "Scanner says <DeviceNotFound> since the update; mail <john@example.com> if it's urgent.\n"
    'Tried "reinstall" & a reboot: 3 < 4 > 2.'
)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def desk_page(user, ticket: Ticket) -> str:
    response = signed_in(user).get(reverse("desk:ticket", args=[ticket.number]))
    assert response.status_code == 200
    return response.content.decode()


def portal_page(user, ticket: Ticket) -> str:
    response = signed_in(user).get(reverse("portal:ticket", args=[ticket.number]))
    assert response.status_code == 200
    return response.content.decode()


def as_stored(typed: str) -> str:
    """The rule, written independently of the code: NFC, LF line breaks, stripped."""
    return unicodedata.normalize("NFC", typed.replace("\r\n", "\n").replace("\r", "\n")).strip()


# --- the defects, one test each --------------------------------------------------------------


def test_subject_with_ampersand_and_angle_brackets_is_kept(api, employee, tier1):
    # given
    client = api(employee)
    # when a requester opens a ticket through the API
    created = client.post(
        "/api/v1/tickets/", {"subject": SUBJECT, "description": ERROR_TEXT}, format="json"
    )
    # then the API gives it back as typed, and the database holds it as typed
    assert created.status_code == 201, created.json()
    assert created.json()["subject"] == SUBJECT
    ticket = Ticket.objects.get(number=created.json()["number"])
    assert ticket.subject == SUBJECT and ticket.description == ERROR_TEXT
    read = client.get(f"/api/v1/tickets/{ticket.number}/").json()
    assert (read["subject"], read["description"]) == (SUBJECT, ERROR_TEXT)
    # and each page escapes it once: not raw, not twice
    for html in (portal_page(employee, ticket), desk_page(tier1, ticket)):
        assert "<h1>Printer &amp; scanner &lt;2nd floor&gt;</h1>" in html
        assert "&amp;amp;" not in html and "&amp;lt;" not in html
        assert "<2nd floor>" not in html


def test_angle_bracketed_text_in_a_reply_is_kept(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when the requester replies in the portal, the desk replies on the ticket page, and a
    # script replies through the API
    signed_in(employee).post(
        reverse("portal:ticket_action", args=[ticket.number, "reply"]),
        {"body": "Portal: " + ERROR_TEXT},
    )
    signed_in(tier1).post(
        reverse("desk:ticket_action", args=[ticket.number, "reply"]), {"body": "Desk: <Esc>"}
    )
    api(tier1).post(
        f"/api/v1/tickets/{ticket.number}/replies/",
        {"body": "API: <john@example.com>"},
        format="json",
    )
    # then every reply is stored as typed
    bodies = list(
        Message.objects.filter(ticket=ticket).order_by("pk").values_list("body", flat=True)
    )
    assert bodies == ["Portal: " + ERROR_TEXT, "Desk: <Esc>", "API: <john@example.com>"]
    # and the API and both pages give it back as typed
    from_api = [
        m["body"] for m in api(tier1).get(f"/api/v1/tickets/{ticket.number}/replies/").json()
    ]
    assert set(bodies) <= set(from_api)
    shown = render_text("Portal: " + ERROR_TEXT)
    assert "&lt;DeviceNotFound&gt;" in shown and "&lt;john@example.com&gt;" in shown
    assert shown in portal_page(employee, ticket) and shown in desk_page(tier1, ticket)


def test_nul_in_a_subject_is_refused_with_a_clear_error(api, employee, tier1):
    # given a subject with a NUL in it
    subject = "Printer\x00 jams"
    # when it comes in through each door
    portal = signed_in(employee).post(
        reverse("portal:new"), {"subject": subject, "description": "x", "urgency": "2"}
    )
    desk = signed_in(tier1).post(
        reverse("desk:ticket_create"),
        {
            "requester": "employee",
            "subject": subject,
            "description": "x",
            "impact": "2",
            "urgency": "2",
            "channel": "phone",
        },
    )
    answer = api(employee).post(
        "/api/v1/tickets/", {"subject": subject, "description": "x"}, format="json"
    )
    with pytest.raises(ValidationError) as service:
        services.open_ticket(requester=employee, subject=subject, description="x")
    # then each refuses it, names the field and the character, and nothing is saved
    named = "contains a control character (U+0000, NUL) at character 8"
    assert portal.status_code == 400 and named in portal.content.decode()
    assert "In a few words, what&#x27;s wrong?" in portal.content.decode()
    assert desk.status_code == 400 and f"“Subject” {named}" in desk.content.decode()
    assert answer.status_code == 400
    assert answer.json() == {
        "subject": [f"“subject” {named}, which can't be stored: remove it and try again."]
    }
    assert service.value.message_dict == {
        "subject": [f"Subject {named}, which can't be stored: remove it and try again."]
    }
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("character", ["\x00", "\x08", "\x1b", "\x7f", "\x85"])
def test_control_characters_in_a_reply_are_refused_at_every_door(api, employee, tier1, character):
    # given
    ticket = desk_factories.ticket(employee)
    body = f"before{character}after"
    # when
    portal = signed_in(employee).post(
        reverse("portal:ticket_action", args=[ticket.number, "reply"]), {"body": body}
    )
    desk = signed_in(tier1).post(
        reverse("desk:ticket_action", args=[ticket.number, "reply"]), {"body": body}
    )
    answer = api(tier1).post(
        f"/api/v1/tickets/{ticket.number}/replies/", {"body": body}, format="json"
    )
    # then
    assert portal.status_code == 400 and "at character 7" in portal.content.decode()
    assert desk.status_code == 400 and "at character 7" in desk.content.decode()
    assert answer.status_code == 400 and "at character 7" in answer.json()["body"][0]
    assert not Message.objects.filter(ticket=ticket).exists()


def test_an_unpaired_surrogate_in_json_is_refused_not_a_server_error(api, employee):
    response = api(employee).post(
        "/api/v1/tickets/",
        b'{"subject": "broken \\ud800 text", "description": "x"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "unpaired surrogate (U+D800)" in response.json()["subject"][0]


def test_a_browsers_crlf_line_breaks_are_stored_as_lf(employee):
    # when a browser sends a textarea's lines (always CRLF)
    signed_in(employee).post(
        reverse("portal:new"),
        {"subject": "Lines", "description": "one\r\ntwo\r\n\r\nthree", "urgency": "2"},
    )
    # then
    assert Ticket.objects.get().description == "one\ntwo\n\nthree"


def test_a_line_break_in_a_subject_from_the_api_is_refused(api, employee):
    response = api(employee).post(
        "/api/v1/tickets/", {"subject": "one\ntwo", "description": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["subject"] == [
        "“subject” must be on one line: remove the line break at character 4."
    ]


def test_decomposed_accents_are_stored_composed(employee):
    ticket = services.open_ticket(
        requester=employee, subject="Cafe\u0301 printer", description="Zu\u0308rich office"
    )
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.description) == ("Café printer", "Zürich office")


def test_every_kind_of_desk_text_is_stored_as_typed(employee, tier2, lead):
    # given a tier 2 ticket
    ticket = desk_factories.ticket(employee, subject=SUBJECT)
    text = "Run <cmd> & wait"
    # when each service that takes text is given some
    services.take(ticket=ticket, by=lead)
    services.escalate(ticket=ticket, by=lead, summary="Up: " + text)
    services.add_message(ticket=ticket, by=lead, body="Note: " + text, internal=True)
    start = ticket.created_at
    wo = services.create_work_order(
        ticket=ticket,
        by=lead,
        technician=tier2,
        scheduled_start=start,
        scheduled_end=start,
        desk="B<2>",
        device="HP & Canon",
        instructions="Bring: " + text,
        checklist=["Check <tray 2>"],
    )
    wo = services.complete_work_order(
        work_order=wo,
        by=lead,
        outcome="Done: " + text,
        signoff_name="O'Brien & Co",
        time_spent_minutes=5,
    )
    call = services.log_call(
        by=lead,
        outcome=Call.Outcome.EXISTING_TICKET,
        ticket=ticket,
        caller_name="Zoë <front desk>",
        notes="Call: " + text,
    )
    services.resolve(ticket=ticket, by=lead, resolution_code="fixed", body="Fixed: " + text)
    services.reopen(ticket=ticket, by=lead, reason="Again: " + text)
    view = services.save_view(owner=lead, name="Mine & <urgent>", query="?status=open")
    # then each is kept
    ticket.refresh_from_db()
    assert ticket.escalations.get().summary == "Up: " + text
    assert ticket.resolution_note == "Fixed: " + text
    assert set(ticket.messages.values_list("body", flat=True)) >= {
        "Note: " + text,
        "Fixed: " + text,
        "Again: " + text,
    }
    wo.refresh_from_db()
    assert (wo.desk, wo.device, wo.instructions, wo.outcome, wo.signoff_name) == (
        "B<2>",
        "HP & Canon",
        "Bring: " + text,
        "Done: " + text,
        "O'Brien & Co",
    )
    assert wo.checklist[0]["text"] == "Check <tray 2>"
    call.refresh_from_db()
    assert (call.caller_name, call.notes) == ("Zoë <front desk>", "Call: " + text)
    assert view.name == "Mine & <urgent>"


def test_the_queue_export_gives_the_subject_as_typed(employee, tier1):
    # given
    desk_factories.ticket(employee, subject=SUBJECT)
    # when
    response = signed_in(tier1).get(reverse("desk:queue_export"), {"queue": "all"})
    # then
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert SUBJECT in [row[1] for row in rows[1:]]


def test_the_queue_escapes_a_subject_once(employee, tier1):
    desk_factories.ticket(employee, subject=SUBJECT)
    html = signed_in(tier1).get(reverse("desk:queue"), {"queue": "all"}).content.decode()
    assert escape(SUBJECT) in html
    assert SUBJECT not in html and escape(escape(SUBJECT)) not in html


# --- any text at all: a round trip through every door ----------------------------------------

# Everything people type: every character but control characters and surrogates, with tabs
# and line breaks (as browsers send them, CRLF, and as scripts do, LF) put back.
_TYPED_CHAR = st.characters(exclude_categories=("Cc", "Cs"))
ONE_LINE = (
    st.lists(_TYPED_CHAR | st.just("\t"), min_size=1, max_size=40).map("".join).filter(str.strip)
)
LINES = (
    st.lists(_TYPED_CHAR | st.sampled_from(["\t", "\n", "\r\n"]), min_size=1, max_size=120)
    .map("".join)
    .filter(str.strip)
)
ROUND_TRIP = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _shown_once(html: str, subject: str, description: str) -> None:
    assert f"<h1>{escape(subject)}</h1>" in html
    assert render_text(description) in html


@ROUND_TRIP
@given(subject=ONE_LINE, description=LINES, reply=LINES)
def test_any_text_round_trips_through_the_portal(employee, subject, description, reply):
    client = signed_in(employee)
    # when a requester opens a request and replies to it
    created = client.post(
        reverse("portal:new"), {"subject": subject, "description": description, "urgency": "2"}
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    ticket = Ticket.objects.order_by("-pk").first()
    client.post(reverse("portal:ticket_action", args=[ticket.number, "reply"]), {"body": reply})
    # then all is stored as typed
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.description) == (as_stored(subject), as_stored(description))
    assert ticket.messages.get().body == as_stored(reply)
    # and shown escaped once
    html = portal_page(employee, ticket)
    _shown_once(html, ticket.subject, ticket.description)
    assert render_text(as_stored(reply)) in html


@ROUND_TRIP
@given(subject=ONE_LINE, description=LINES, reply=LINES)
def test_any_text_round_trips_through_the_desk(employee, tier1, subject, description, reply):
    client = signed_in(tier1)
    # when a technician opens a ticket for a caller and replies on it
    created = client.post(
        reverse("desk:ticket_create"),
        {
            "requester": "employee",
            "subject": subject,
            "description": description,
            "impact": "2",
            "urgency": "2",
            "channel": "phone",
        },
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    ticket = Ticket.objects.order_by("-pk").first()
    client.post(reverse("desk:ticket_action", args=[ticket.number, "reply"]), {"body": reply})
    # then
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.description) == (as_stored(subject), as_stored(description))
    assert ticket.messages.get().body == as_stored(reply)
    html = desk_page(tier1, ticket)
    _shown_once(html, ticket.subject, ticket.description)
    assert render_text(as_stored(reply)) in html


@ROUND_TRIP
@given(subject=ONE_LINE, description=LINES, reply=LINES)
def test_any_text_round_trips_through_the_api(api, employee, tier1, subject, description, reply):
    requester, staff = api(employee), api(tier1)
    # when a script opens a ticket and replies to it
    created = requester.post(
        "/api/v1/tickets/", {"subject": subject, "description": description}, format="json"
    )
    assert created.status_code == 201, created.json()
    number = created.json()["number"]
    replied = staff.post(f"/api/v1/tickets/{number}/replies/", {"body": reply}, format="json")
    assert replied.status_code == 201, replied.json()
    # then the API answers with the text as typed
    read = requester.get(f"/api/v1/tickets/{number}/").json()
    assert (read["subject"], read["description"]) == (as_stored(subject), as_stored(description))
    bodies = [m["body"] for m in requester.get(f"/api/v1/tickets/{number}/replies/").json()]
    assert bodies == [as_stored(reply)]
    # and the page shows it escaped once
    ticket = Ticket.objects.get(number=number)
    _shown_once(desk_page(tier1, ticket), ticket.subject, ticket.description)


def test_every_page_escapes_typed_text_exactly_once(employee, tier2, lead):
    # given typed text with markup characters in every kind of field
    typed = "A & B <c> \"d\" 'e'"
    ticket = desk_factories.ticket(employee, subject="Subject " + typed)
    services.take(ticket=ticket, by=lead)
    start = ticket.created_at
    wo = services.create_work_order(
        ticket=ticket,
        by=lead,
        technician=tier2,
        scheduled_start=start,
        scheduled_end=start,
        desk="Desk <B2> & 3",
        device="Device " + typed,
        instructions="Instructions " + typed,
        checklist=["Item " + typed],
    )
    services.log_call(
        by=lead,
        outcome=Call.Outcome.EXISTING_TICKET,
        ticket=ticket,
        caller_name="Caller " + typed,
    )
    once = escape(typed)
    pages = {
        "work order": signed_in(lead).get(reverse("desk:work_order", args=[wo.number])),
        "calls": signed_in(lead).get(reverse("desk:calls")),
        "ticket": signed_in(lead).get(reverse("desk:ticket", args=[ticket.number])),
        "portal home": signed_in(employee).get(reverse("portal:home")),
        "portal ticket": signed_in(employee).get(reverse("portal:ticket", args=[ticket.number])),
    }
    expected = {
        "work order": ["Device ", "Instructions ", "Item ", "Subject "],
        "calls": ["Caller "],
        "ticket": ["Subject ", "Caller "],
        "portal home": ["Subject "],
        "portal ticket": ["Subject "],
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.content.decode()
        # when each page is read, then the text is there escaped once: not raw, not twice
        for prefix in expected[name]:
            assert prefix + once in html, (name, prefix)
        assert typed not in html and escape(once) not in html, name
    # and the edit form gives the browser back the text as typed
    work_order = pages["work order"].content.decode()
    assert 'value="Desk &lt;B2&gt; &amp; 3"' in work_order
    assert f">\nInstructions {once}</textarea>" in work_order


def test_an_ampersand_in_a_file_name_is_kept(employee):
    # given a file whose name holds an ampersand (it used to be stored as "&amp;")
    upload = SimpleUploadedFile("Q3 report & notes.pdf", b"%PDF-1.4 report")
    # when
    ticket = desk_factories.ticket(employee, uploads=[upload])
    # then
    assert ticket.attachments.get().name == "Q3 report & notes.pdf"

"""The ticket page of the workspace: what a technician sees, does, and is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.core.history import history_of
from tierline.desk import services
from tierline.desk.models import Attachment, Escalation, Level, Message, Status, Ticket

pytestmark = pytest.mark.django_db


def page(ticket: Ticket) -> str:
    return reverse("desk:ticket", args=[ticket.number])


def act(ticket: Ticket, action: str) -> str:
    return reverse("desk:ticket_action", args=[ticket.number, action])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reload(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def upload(name: str = "log.txt", content: bytes = b"printer log") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def busy_ticket(requester, tech, entries: int) -> Ticket:
    """A ticket with `entries` replies, notes and status changes, some with files, calls and
    work orders."""
    ticket = desk_factories.ticket(requester)
    services.take(ticket=ticket, by=tech)
    for i in range(entries):
        if i % 4 == 0:
            services.log_call(
                by=tech, outcome="existing_ticket", caller=requester, ticket=ticket, notes="Rang"
            )
        if i % 5 == 0:
            start = timezone.now() + timedelta(days=1)
            services.create_work_order(
                ticket=ticket,
                by=tech,
                technician=tech,
                scheduled_start=start,
                scheduled_end=start + timedelta(hours=1),
            )
        services.add_message(
            ticket=ticket,
            by=tech,
            body=f"Step {i}",
            internal=bool(i % 2),
            uploads=[desk_factories.upload(f"shot-{i}.png")] if i % 3 == 0 else (),
        )
        ticket.refresh_from_db()
        status = Status.IN_PROGRESS if ticket.status != Status.IN_PROGRESS else Status.OPEN
        services.change_status(ticket=ticket, by=tech, status=status)
    services.escalate(ticket=ticket, by=tech, summary="Reseated the drum.")
    return ticket


# --- the page -------------------------------------------------------------------------------


def test_page_shows_ticket_timeline_and_side_panel(employee, tier1):
    # given
    employee.phone = "+44 20 7946 0000"
    employee.save()
    ticket = desk_factories.ticket(employee, subject="VPN drops every hour")
    services.add_message(ticket=ticket, by=tier1, body="Which client version?")
    services.add_message(ticket=ticket, by=tier1, body="Checked the logs", internal=True)
    services.add_attachments(ticket=ticket, by=tier1, uploads=[upload("vpn.log")])
    # when
    response = signed_in(tier1).get(page(ticket))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert ticket.number in html and "VPN drops every hour" in html
    assert "Which client version?" in html
    assert 'class="entry internal"' in html and "Checked the logs" in html
    assert "vpn.log" in html
    attachment = Attachment.objects.get(ticket=ticket)
    assert reverse("desk:attachment", args=[attachment.pk]) in html
    assert "+44 20 7946 0000" in html and employee.email in html
    assert 'class="props"' in html
    assert "changed the status" in html  # the first public reply opened the ticket


def test_page_query_count_does_not_grow_with_the_timeline(employee, lead):
    # given
    small = busy_ticket(employee, lead, 3)
    large = busy_ticket(employee, lead, 20)
    client = signed_in(lead)
    client.get(page(small))  # warm per-process caches (content types)
    # when
    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(page(small)).status_code == 200
    with CaptureQueriesContext(connection) as large_queries:
        assert client.get(page(large)).status_code == 200
    # then: the dialogs' forms (and their choice queries) are not on the page; the desk's own
    # page stays within 15 queries (with canned responses and macros, 17), and each panel other
    # apps add (core.panels: emails, watchers, assets, SLA, articles, ...) costs at most one
    from tierline.core.panels import panels_for

    panels = sum(len(panels_for(slot)) for slot in ("desk.ticket.main", "desk.ticket.side"))
    assert len(small_queries) == len(large_queries)
    assert len(large_queries) <= 17 + panels


def test_requester_is_sent_to_the_portal_for_own_ticket(employee):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(employee).get(page(ticket))
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:ticket", args=[ticket.number])


def test_requester_gets_404_for_someone_elses_ticket(employee, employee2):
    # given
    ticket = desk_factories.ticket(employee2)
    # when
    response = signed_in(employee).get(page(ticket))
    # then
    assert response.status_code == 404


def test_unknown_number_is_404(tier1):
    assert signed_in(tier1).get("/desk/tickets/TL-999999/").status_code == 404


def test_tier1_reads_a_tier3_ticket_but_does_not_work_it(employee, tier1, tier3):
    # given
    ticket = desk_factories.ticket(employee, team=people_factories.team(3))
    # when
    page_response = signed_in(tier1).get(page(ticket))
    action_response = signed_in(tier1).post(act(ticket, "take"))
    # then
    assert page_response.status_code == 200
    assert page_response.context["can_work"] is False
    assert page_response.context["can_note"] is True
    assert action_response.status_code == 403
    assert reload(ticket).assignee is None


def test_tier1_cannot_see_a_restricted_teams_ticket(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee, team=people_factories.restricted_team())
    # when
    page_response = signed_in(tier1).get(page(ticket))
    action_response = signed_in(tier1).post(act(ticket, "take"))
    # then
    assert page_response.status_code == 404
    assert action_response.status_code == 404
    assert reload(ticket).assignee is None


def test_anonymous_is_sent_to_sign_in(employee):
    ticket = desk_factories.ticket(employee)
    response = Client().get(page(ticket))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_requester_cannot_work_their_ticket_through_the_desk(employee):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(employee).post(act(ticket, "reply"), {"body": "x", "internal": "on"})
    # then
    assert response.status_code == 403
    assert not Message.objects.filter(ticket=ticket).exists()


def test_reply_html_is_shown_as_text(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee, description="<p>desc</p><script>alert('d')</script>")
    client = signed_in(tier1)
    # when
    client.post(
        act(ticket, "reply"),
        {"body": "<b>Try this</b><script>alert(1)</script><img src=x onerror=alert(2)>"},
    )
    response = client.get(page(ticket))
    # then
    html = response.content.decode()
    main = html.split('<main class="content"', 1)[1]
    assert "&lt;b&gt;Try this&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in main
    assert "&lt;img src=x onerror=alert(2)&gt;" in main
    assert "&lt;p&gt;desc&lt;/p&gt;&lt;script&gt;alert(&#x27;d&#x27;)&lt;/script&gt;" in main
    assert "<script>alert" not in main and "<b>Try" not in main and "<img src=x" not in main


# --- actions --------------------------------------------------------------------------------


def test_take(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(act(ticket, "take"))
    assert response.status_code == 302 and response["Location"] == page(ticket)
    ticket = reload(ticket)
    assert ticket.assignee == tier1 and ticket.status == Status.OPEN


def test_assign_and_unassign(employee, tier1, lead):
    # given
    colleague = people_factories.technician(1, username="colleague")
    ticket = desk_factories.ticket(employee)
    client = signed_in(tier1)
    # when
    client.post(act(ticket, "assign"), {"assignee": colleague.pk})
    # then
    assert reload(ticket).assignee == colleague
    # when
    response = client.post(act(ticket, "assign"), {"assignee": ""}, follow=True)
    # then
    assert reload(ticket).assignee is None
    assert "no longer assigned" in response.content.decode()


def test_assign_someone_outside_the_team_is_refused(employee, tier1, tier3):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(act(ticket, "assign"), {"assignee": tier3.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert reload(ticket).assignee is None


def test_reply_with_time_and_files(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(tier1).post(
        act(ticket, "reply"),
        {
            "body": "Please restart the printer.",
            "time_spent_minutes": "15",
            "attachments": [upload("a.txt"), upload("b.txt", b"other")],
        },
    )
    # then
    assert response.status_code == 302
    message = Message.objects.get(ticket=ticket)
    assert not message.internal and message.time_spent_minutes == 15
    assert sorted(a.name for a in message.attachments.all()) == ["a.txt", "b.txt"]
    assert reload(ticket).time_spent_minutes == 15


def test_internal_note(employee, tier1):
    ticket = desk_factories.ticket(employee)
    signed_in(tier1).post(act(ticket, "reply"), {"body": "Known issue", "internal": "internal"})
    assert Message.objects.get(ticket=ticket).internal


def test_reply_needs_a_body(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(act(ticket, "reply"), {"body": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()


def test_refused_attachment_type_and_oversize_give_clear_errors(employee, tier1, settings):
    # given
    settings.TIERLINE = {**settings.TIERLINE, "ATTACHMENT_MAX_BYTES": 10}
    ticket = desk_factories.ticket(employee)
    client = signed_in(tier1)
    # when
    evil = client.post(
        act(ticket, "reply"), {"body": "see file", "attachments": [upload("run.exe", b"MZ")]}
    )
    big = client.post(
        act(ticket, "attach"),
        {"attachments": [upload("big.txt", b"x" * 11)], "visibility": "public"},
    )
    # then
    assert (
        evil.status_code == 400 and "files of type .exe are not accepted" in evil.content.decode()
    )
    assert big.status_code == 400 and "the limit is" in big.content.decode()
    assert not Message.objects.filter(ticket=ticket).exists()
    assert not Attachment.objects.filter(ticket=ticket).exists()


def test_attach(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(
        act(ticket, "attach"), {"attachments": [upload()], "visibility": "public"}
    )
    assert response.status_code == 302
    assert Attachment.objects.get(ticket=ticket).message is None


def test_change_fields(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(tier1).post(
        act(ticket, "fields"),
        {"subject": "Printer jams", "impact": Level.HIGH, "urgency": Level.HIGH, "version": 1},
    )
    # then
    assert response.status_code == 302
    ticket = reload(ticket)
    assert ticket.subject == "Printer jams" and ticket.priority == 1
    html = signed_in(tier1).get(page(ticket)).content.decode()
    assert "changed priority from P3 Medium to <b>P1 Critical</b>" in html


def test_overlong_subject_is_refused(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(
        act(ticket, "fields"), {"subject": "x" * 201, "impact": 2, "urgency": 2, "version": 1}
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()
    assert reload(ticket).subject == "Printer on floor 2 jams"


def test_stale_edit_keeps_the_first_save(employee, tier1):
    # given: two technicians load the same ticket (version 1)
    ticket = desk_factories.ticket(employee)
    colleague = people_factories.technician(1, username="colleague")
    first, second = signed_in(tier1), signed_in(colleague)
    form = {"impact": 2, "urgency": 2, "version": reload(ticket).version}
    # when
    first.post(act(ticket, "fields"), {**form, "subject": "First title"})
    response = second.post(act(ticket, "fields"), {**form, "subject": "Second title"})
    # then
    assert response.status_code == 400
    assert "Someone else changed this ticket" in response.content.decode()
    assert reload(ticket).subject == "First title"


def test_change_status(employee, tier1):
    ticket = desk_factories.ticket(employee)
    signed_in(tier1).post(act(ticket, "status"), {"status": Status.WAITING_REQUESTER})
    assert reload(ticket).status == Status.WAITING_REQUESTER


def test_illegal_transition_shows_a_clear_message(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(tier1).post(act(ticket, "status"), {"status": Status.RESOLVED})
    # then
    assert response.status_code == 400
    html = response.content.decode()
    assert "can&#x27;t go from" in html and "Use Resolve" in html
    assert reload(ticket).status == Status.NEW


def test_escalate(employee, tier1, tier2):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(tier1).post(
        act(ticket, "escalate"), {"summary": "Driver reinstalled; still jams."}
    )
    # then: it left Tier 1's work, so the technician goes back to the queue; she still reads it
    assert response.status_code == 302 and response["Location"] == reverse("desk:queue")
    assert signed_in(tier1).get(page(ticket)).status_code == 200
    ticket = reload(ticket)
    assert ticket.tier == 2 and ticket.escalation_count == 1
    escalation = Escalation.objects.get(ticket=ticket)
    assert escalation.summary == "Driver reinstalled; still jams."
    page_html = signed_in(tier2).get(page(ticket)).content.decode()
    assert 'class="entry escalation"' in page_html and "Driver reinstalled" in page_html


def test_escalate_message_names_the_team(employee, lead, tier2):
    ticket = desk_factories.ticket(employee)
    response = signed_in(lead).post(act(ticket, "escalate"), {"summary": "Tried"}, follow=True)
    assert (
        f"Ticket {ticket.number} escalated to Tier 2 Desktop &amp; Applications."
        in response.content.decode()
    )


def test_escalate_needs_a_summary(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(act(ticket, "escalate"), {"summary": ""})
    assert response.status_code == 400
    assert (
        'id="dlg-escalate" aria-labelledby="dlg-escalate-title" open' in response.content.decode()
    )
    assert reload(ticket).tier == 1


def test_escalating_a_closed_ticket_is_refused(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    services.mark_spam(ticket=ticket, by=tier1)
    # when
    response = signed_in(tier1).post(act(ticket, "escalate"), {"summary": "tried everything"})
    # then
    assert response.status_code == 400
    assert "Reopen it first" in response.content.decode()
    assert not Escalation.objects.filter(ticket=ticket).exists()


def test_deescalate(employee, tier2):
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    response = signed_in(tier2).post(act(ticket, "deescalate"), {"summary": "Password only."})
    assert response.status_code == 302
    assert reload(ticket).tier == 1


def test_resolve_then_reopen(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    client = signed_in(tier1)
    # when
    client.post(
        act(ticket, "resolve"),
        {"resolution_code": "fixed", "body": "Replaced the fuser.", "time_spent_minutes": "30"},
    )
    # then
    resolved = reload(ticket)
    assert resolved.status == Status.RESOLVED and resolved.resolution_code.code == "fixed"
    assert resolved.time_spent_minutes == 30
    # when
    client.post(act(ticket, "reopen"), {"reason": "Jammed again."})
    # then
    assert reload(ticket).status == Status.OPEN


def test_resolve_needs_a_known_code(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(
        act(ticket, "resolve"), {"resolution_code": "nope", "body": "x"}
    )
    assert response.status_code == 400
    assert reload(ticket).status == Status.NEW


def test_merge(employee, employee2, tier1):
    # given
    duplicate = desk_factories.ticket(employee)
    keeper = desk_factories.ticket(employee2)
    # when
    response = signed_in(tier1).post(act(duplicate, "merge"), {"into": keeper.number.lower()})
    # then
    assert response.status_code == 302
    assert reload(duplicate).merged_into == keeper


def test_merge_into_unknown_ticket_is_a_form_error(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(act(ticket, "merge"), {"into": "TL-999999"})
    assert response.status_code == 400
    assert "There is no ticket TL-999999 that you can see." in response.content.decode()


def test_link_and_unlink(employee, tier1):
    # given
    ticket, other = desk_factories.ticket(employee), desk_factories.ticket(employee)
    client = signed_in(tier1)
    # when
    client.post(act(ticket, "link"), {"other": other.number})
    # then
    assert list(reload(ticket).related.all()) == [other]
    assert other.number in client.get(page(ticket)).content.decode()
    # when
    client.post(act(ticket, "unlink"), {"other": other.number})
    # then
    assert not reload(ticket).related.exists()


def test_child(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(
        act(ticket, "child"), {"subject": "Order toner", "description": "Two cartridges"}
    )
    assert response.status_code == 302
    child = Ticket.objects.get(parent=ticket)
    assert child.subject == "Order toner" and child.requester == employee


def test_spam(employee, tier1):
    ticket = desk_factories.ticket(employee)
    signed_in(tier1).post(act(ticket, "spam"))
    ticket = reload(ticket)
    assert ticket.is_spam and ticket.status == Status.CLOSED


def test_unknown_action_is_404(employee, tier1):
    ticket = desk_factories.ticket(employee)
    assert signed_in(tier1).post(act(ticket, "explode")).status_code == 404


@pytest.mark.parametrize("action", ["take", "spam", "reply", "status", "unlink"])
def test_actions_without_a_dialog_need_post(employee, tier1, action):
    ticket = desk_factories.ticket(employee)
    assert signed_in(tier1).get(act(ticket, action)).status_code == 405
    assert signed_in(tier1).put(act(ticket, "escalate")).status_code == 405


def test_csrf_is_enforced(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    client = Client(enforce_csrf_checks=True)
    client.force_login(tier1)
    # when
    response = client.post(act(ticket, "take"))
    # then
    assert response.status_code == 403
    assert reload(ticket).assignee is None


# --- the action dialogs: empty on the page, their forms loaded when opened -------------------

DIALOGS = ["assign", "fields", "escalate", "deescalate", "resolve"]
DIALOGS += ["reopen", "merge", "link", "child", "attach"]
# A field or two of each dialog's form, by their ids on the page.
DIALOG_FIELDS = {
    "assign": ["assign-assignee"],
    "fields": ["fields-subject", "fields-category", "fields-impact", "fields-version"],
    "escalate": ["escalate-summary", "escalate-team"],
    "deescalate": ["deescalate-summary", "deescalate-team"],
    "resolve": ["resolve-resolution_code", "resolve-body", "resolve-time_spent_minutes"],
    "reopen": ["reopen-reason"],
    "merge": ["merge-into"],
    "link": ["link-other"],
    "child": ["child-subject", "child-description", "child-team"],
    "attach": ["attach-attachments"],
}
HTMX = {"HX-Request": "true"}


def shell(ticket: Ticket, slug: str) -> str:
    return (
        f'<dialog class="dialog" id="dlg-{slug}" aria-labelledby="dlg-{slug}-title"'
        f' data-dialog-src="{act(ticket, slug)}">'
    )


def opener(ticket: Ticket, slug: str) -> str:
    return f'href="{act(ticket, slug)}" data-dialog-open="dlg-{slug}"'


def test_page_has_every_dialog_as_an_empty_shell(employee, tier2):
    # given: a Tier 2 ticket, so it can be handed back too
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    # when
    html = signed_in(tier2).get(page(ticket)).content.decode()
    # then: a shell per dialog, with its title, and a link that opens it
    for slug in DIALOGS:
        assert shell(ticket, slug) in html
        assert f'<h2 id="dlg-{slug}-title">' in html
        if slug != "reopen":  # only for a finished ticket
            assert opener(ticket, slug) in html
    assert html.count("Loading…") == len(DIALOGS)
    assert " open>" not in html
    # but no form of a dialog
    for slug, ids in DIALOG_FIELDS.items():
        for field_id in ids:
            assert f'id="{field_id}"' not in html, field_id
        assert f'action="{act(ticket, slug)}"' not in html
    # while the reply box is still there
    assert 'id="reply-body"' in html


def test_finished_ticket_offers_reopen(employee, tier1):
    ticket = desk_factories.ticket(employee)
    services.mark_spam(ticket=ticket, by=tier1)
    html = signed_in(tier1).get(page(ticket)).content.decode()
    assert opener(ticket, "reopen") in html
    assert opener(ticket, "resolve") not in html and shell(ticket, "resolve") in html


def test_page_has_no_dialogs_for_who_cannot_work_the_ticket(tier1):
    # given: Tess asked Tier 3 for something; she sees her request but does not work it
    ticket = desk_factories.ticket(tier1, team=people_factories.team(3))
    # when
    html = signed_in(tier1).get(page(ticket)).content.decode()
    # then: no action dialog and no opener of one (the keyboard shortcuts' dialog is on every page)
    assert 'id="dlg-' not in html and 'data-dialog-open="dlg-' not in html


@pytest.mark.parametrize("slug", DIALOGS)
def test_dialog_content_for_htmx(employee, tier2, slug):
    # given
    ticket = desk_factories.ticket(employee, team=people_factories.team(2))
    # when
    response = signed_in(tier2).get(act(ticket, slug), headers=HTMX)
    # then: the dialog's inner content only, its form unbound
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert html.strip().startswith(f'<form method="post" action="{act(ticket, slug)}"')
    assert "<html" not in html and "<dialog" not in html and "<h1" not in html
    assert f'<h2 id="dlg-{slug}-title">' in html
    assert "<footer>" in html and "data-dialog-close" in html and 'type="submit"' in html
    for field_id in DIALOG_FIELDS[slug]:
        assert f'id="{field_id}"' in html
    assert "errorlist" not in html


def test_dialog_texts_come_from_the_action(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    client = signed_in(tier1)
    # when
    merge = client.get(act(ticket, "merge"), headers=HTMX).content.decode()
    attach = client.get(act(ticket, "attach"), headers=HTMX).content.decode()
    # then
    assert '<h2 id="dlg-merge-title">Merge into another ticket</h2>' in merge
    assert "This ticket is closed and its requester follows the other one." in merge
    assert '<button type="submit" class="btn btn-danger">Merge</button>' in merge
    assert "multipart/form-data" not in merge
    assert 'enctype="multipart/form-data"' in attach
    assert '<button type="submit" class="btn btn-primary">Upload</button>' in attach


def test_assign_dialog_lists_the_teams_technicians(employee, tier1, tier3):
    # given
    colleague = people_factories.technician(
        1, username="colleague", first_name="Cole", last_name="Ague"
    )
    ticket = desk_factories.ticket(employee)
    # when
    html = signed_in(tier1).get(act(ticket, "assign"), headers=HTMX).content.decode()
    # then
    assert f'<option value="{colleague.pk}">Cole Ague</option>' in html
    assert f'<option value="{tier1.pk}">Tess One</option>' in html
    assert "Thea Three" not in html
    assert "Erin Employee" not in html


def test_fields_dialog_holds_the_ticket_as_it_is(employee, tier1):
    ticket = desk_factories.ticket(employee, subject="Monitor flickers")
    html = signed_in(tier1).get(act(ticket, "fields"), headers=HTMX).content.decode()
    assert 'value="Monitor flickers"' in html
    assert f'name="version" value="{reload(ticket).version}"' in html


def test_dialog_page_without_htmx(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee, subject="Monitor flickers")
    client = signed_in(tier1)
    # when: the opener link followed without JavaScript, or in a new tab
    response = client.get(act(ticket, "escalate"))
    # then: a page of its own with the same form; Cancel goes back to the ticket
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    html = response.content.decode()
    assert html.startswith("<!doctype html>")
    assert "<title>Escalate · " + ticket.number in html
    assert "<h1>Monitor flickers</h1>" in html
    assert '<section class="dialog" aria-labelledby="dlg-escalate-title">' in html
    assert f'<form method="post" action="{act(ticket, "escalate")}">' in html
    assert 'id="escalate-summary"' in html and 'id="escalate-team"' in html
    assert f'<a class="btn btn-ghost" href="{page(ticket)}">Cancel</a>' in html
    assert "data-dialog-close" not in html


def test_dialog_page_and_content_share_the_form(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    client = signed_in(tier1)
    # when
    content = client.get(act(ticket, "resolve"), headers=HTMX).content.decode()
    whole = client.get(act(ticket, "resolve")).content.decode()
    # then: apart from the Cancel control and the CSRF token, the form is the same
    body = content.split('<div class="dialog-body">', 1)[1].split("<footer>", 1)[0]
    assert body in whole
    assert "<html" in whole and "<html" not in content


def test_htmx_boosted_request_gets_the_whole_page(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).get(act(ticket, "link"), headers={**HTMX, "HX-Boosted": "true"})
    assert response.content.decode().startswith("<!doctype html>")


def test_unknown_dialog_is_404(employee, tier1):
    ticket = desk_factories.ticket(employee)
    assert signed_in(tier1).get(act(ticket, "explode"), headers=HTMX).status_code == 404


def test_dialog_of_an_invisible_ticket_is_404(employee, employee2, tier1):
    # given: a restricted team's ticket, another team's ticket, and someone else's request
    secret = desk_factories.ticket(employee, team=people_factories.restricted_team())
    tier3_ticket = desk_factories.ticket(employee, team=people_factories.team(3))
    others = desk_factories.ticket(employee2)
    # when / then: what is not read is not found; what is read but not worked is refused
    assert signed_in(tier1).get(act(secret, "assign"), headers=HTMX).status_code == 404
    assert signed_in(tier1).get(act(tier3_ticket, "assign"), headers=HTMX).status_code == 403
    assert signed_in(employee).get(act(others, "assign")).status_code == 404


def test_requester_is_refused_a_dialog_of_their_own_ticket(employee):
    ticket = desk_factories.ticket(employee)
    response = signed_in(employee).get(act(ticket, "resolve"), headers=HTMX)
    assert response.status_code == 403
    assert 'id="resolve-body"' not in response.content.decode()


def test_technician_is_refused_a_dialog_of_a_ticket_they_do_not_work(tier1):
    # given: Tess's own request, handled by Tier 3: she sees it but does not work it
    ticket = desk_factories.ticket(tier1, team=people_factories.team(3))
    # when
    response = signed_in(tier1).get(act(ticket, "escalate"))
    # then
    assert response.status_code == 403


def test_anonymous_is_sent_to_sign_in_for_a_dialog(employee):
    ticket = desk_factories.ticket(employee)
    response = Client().get(act(ticket, "assign"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("slug", DIALOGS)
def test_dialog_content_query_count(employee, tier1, slug):
    # given: a requester with a department and a location, as most have
    employee.department = people_factories.DepartmentFactory()
    employee.location = people_factories.LocationFactory()
    employee.save()
    ticket = desk_factories.ticket(employee)
    client = signed_in(tier1)
    client.get(act(ticket, slug), headers=HTMX)  # warm per-process caches
    # when
    with CaptureQueriesContext(connection) as queries:
        assert client.get(act(ticket, slug), headers=HTMX).status_code == 200
    # then: session, user, user's teams, the ticket and its requester's department and
    # location, and at most one query for the form's choices
    assert len(queries) <= 7


def test_refused_dialog_is_shown_open_with_its_errors(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(tier1).post(act(ticket, "resolve"), {"resolution_code": "nope"})
    # then: that dialog whole, open, with the input and the errors; the others stay shells
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        '<dialog class="dialog" id="dlg-resolve" aria-labelledby="dlg-resolve-title" open>' in html
    )
    assert shell(ticket, "resolve") not in html
    assert 'id="resolve-body"' in html and "This field is required." in html
    assert "Select a valid choice" in html
    assert '<option value="fixed">' in html
    assert opener(ticket, "resolve") in html
    for slug in DIALOGS:
        if slug != "resolve":
            assert shell(ticket, slug) in html
    assert 'id="assign-assignee"' not in html and 'id="escalate-summary"' not in html


def test_refused_reply_keeps_what_was_typed_and_loads_no_dialog(employee, tier1):
    ticket = desk_factories.ticket(employee)
    response = signed_in(tier1).post(act(ticket, "reply"), {"body": "", "time_spent_minutes": "-5"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="time_spent_minutes" value="-5"' in html
    assert " open>" not in html
    assert html.count("Loading…") == len(DIALOGS)


# --- requesters never see internal notes ----------------------------------------------------


def test_requester_never_gets_internal_notes_or_their_files(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    services.add_message(
        ticket=ticket,
        by=tier1,
        body="Internal: user keeps password on a sticky note",
        internal=True,
        uploads=[upload("secret.txt", b"secret")],
    )
    secret = Attachment.objects.get(ticket=ticket)
    client = signed_in(employee)
    # when
    desk_page = client.get(page(ticket), follow=True)
    download = client.get(reverse("desk:attachment", args=[secret.pk]))
    # then
    assert "sticky note" not in desk_page.content.decode()
    assert download.status_code == 404
    assert signed_in(tier1).get(reverse("desk:attachment", args=[secret.pk])).status_code == 200


# --- downloads ------------------------------------------------------------------------------


def test_download_is_an_attachment_with_nosniff(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee, uploads=[upload("re;port .txt", b"hello")])
    attachment = Attachment.objects.get(ticket=ticket)
    # when
    response = signed_in(employee).get(reverse("desk:attachment", args=[attachment.pk]))
    # then
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="re;port .txt"' in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "text/plain"
    assert b"".join(response.streaming_content) == b"hello"


def test_download_of_renderable_type_is_octet_stream(employee, tier1):
    # given: an xml file stored before the allow-list refused it (a browser would render it)
    ticket = desk_factories.ticket(employee)
    attachment = Attachment(
        ticket=ticket, name="feed.xml", size=4, content_type="application/xml", uploaded_by=employee
    )
    attachment.file.save("feed.xml", ContentFile(b"<x/>"))
    # when
    response = signed_in(tier1).get(reverse("desk:attachment", args=[attachment.pk]))
    # then
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")


def test_requester_gets_404_for_a_file_on_someone_elses_ticket(employee, employee2):
    ticket = desk_factories.ticket(employee2, uploads=[upload()])
    attachment = Attachment.objects.get(ticket=ticket)
    response = signed_in(employee).get(reverse("desk:attachment", args=[attachment.pk]))
    assert response.status_code == 404


def test_unknown_file_is_404(tier1):
    assert signed_in(tier1).get(reverse("desk:attachment", args=[999999])).status_code == 404


# --- opening a ticket for someone -----------------------------------------------------------


def test_technician_opens_a_ticket_for_a_caller(employee, tier1):
    # given
    client = signed_in(tier1)
    assert client.get(reverse("desk:ticket_create")).status_code == 200
    # when
    response = client.post(
        reverse("desk:ticket_create"),
        {
            "requester": employee.email.upper(),
            "subject": "Monitor flickers",
            "description": "Since the move",
            "impact": 3,
            "urgency": 2,
            "channel": "phone",
        },
    )
    # then
    ticket = Ticket.objects.get(subject="Monitor flickers")
    assert response.status_code == 302 and response["Location"] == page(ticket)
    assert ticket.requester == employee and ticket.channel == "phone"
    assert [e.actor for e in history_of(ticket)] == [tier1]


def test_open_for_unknown_requester_is_a_form_error(tier1):
    response = signed_in(tier1).post(
        reverse("desk:ticket_create"),
        {
            "requester": "ghost",
            "subject": "x",
            "description": "y",
            "impact": 2,
            "urgency": 2,
            "channel": "phone",
        },
    )
    assert response.status_code == 400
    assert "Nobody in the directory matches “ghost”." in response.content.decode()
    assert not Ticket.objects.exists()


def a_new_ticket(**overrides) -> dict:
    data = {
        "subject": "Monitor flickers",
        "description": "Since the move",
        "impact": 2,
        "urgency": 2,
        "channel": "phone",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("typed", ["Erin Employee", "employee", "+44 20 7946 0001", "erin emp"])
def test_new_ticket_finds_the_requester_by_name_email_or_phone(employee, tier1, typed):
    # given: the requester has a phone number
    employee.phone = "+44 20 7946 0001"
    employee.save()
    # when
    response = signed_in(tier1).post(reverse("desk:ticket_create"), a_new_ticket(requester=typed))
    # then
    ticket = Ticket.objects.get(subject="Monitor flickers")
    assert response.status_code == 302
    assert ticket.requester == employee


def test_new_ticket_with_several_matches_offers_them_and_takes_the_pick(tier1):
    # given: two people called Sam
    first = people_factories.UserFactory(username="sam.a", first_name="Sam", last_name="Able")
    second = people_factories.UserFactory(username="sam.b", first_name="Sam", last_name="Baker")
    client = signed_in(tier1)
    # when: typed without a pick (as without JavaScript)
    response = client.post(reverse("desk:ticket_create"), a_new_ticket(requester="Sam"))
    # then: nothing opened, both offered as radio buttons
    html = response.content.decode()
    assert response.status_code == 400
    assert "Several people match: pick one below." in html
    assert f'name="requester_pick" value="{first.pk}"' in html
    assert f'name="requester_pick" value="{second.pk}"' in html
    assert not Ticket.objects.exists()
    # when she picks the second
    response = client.post(
        reverse("desk:ticket_create"),
        a_new_ticket(requester="Sam", requester_pick=second.pk),
    )
    # then
    assert response.status_code == 302
    assert Ticket.objects.get().requester == second


def test_new_ticket_keeps_the_pick_when_another_field_is_refused(tier1):
    # given
    sam = people_factories.UserFactory(username="sam.b", first_name="Sam", last_name="Baker")
    people_factories.UserFactory(username="sam.a", first_name="Sam", last_name="Able")
    # when: picked, but the subject is missing
    response = signed_in(tier1).post(
        reverse("desk:ticket_create"),
        a_new_ticket(requester="Sam", requester_pick=sam.pk, subject=""),
    )
    # then: the pick is still checked
    assert response.status_code == 400
    assert f'name="requester_pick" value="{sam.pk}" checked' in response.content.decode()


def test_new_ticket_needs_a_requester_typed_or_picked(tier1, employee):
    client = signed_in(tier1)
    # when nobody is named
    empty = client.post(reverse("desk:ticket_create"), a_new_ticket(requester=""))
    # then
    assert empty.status_code == 400
    assert "Say who needs help: their name, email or phone." in empty.content.decode()
    assert not Ticket.objects.exists()
    # when only picked
    picked = client.post(
        reverse("desk:ticket_create"), a_new_ticket(requester="", requester_pick=employee.pk)
    )
    # then
    assert picked.status_code == 302
    assert Ticket.objects.get().requester == employee


@pytest.mark.parametrize("junk", ["abc", "99999999999999999999999", "-1"])
def test_new_ticket_with_a_junk_pick_is_refused_clearly(tier1, employee, junk):
    response = signed_in(tier1).post(
        reverse("desk:ticket_create"), a_new_ticket(requester="employee", requester_pick=junk)
    )
    assert response.status_code == 400
    assert "That person is not in the directory." in response.content.decode()
    assert not Ticket.objects.exists()


def test_new_ticket_requester_lookup_answers_radio_buttons_for_the_form(employee, tier1):
    # given
    client = signed_in(tier1)
    # when: the lookup the requester box asks as one types
    response = client.get(
        reverse("desk:person_lookup"), {"pick": "requester_pick", "requester": "erin"}
    )
    # then: the new-ticket form's radio buttons, with no "not in the directory" choice
    html = response.content.decode()
    assert f'name="requester_pick" value="{employee.pk}"' in html
    assert "Not in the directory" not in html
    form = client.get(reverse("desk:ticket_create")).content.decode()
    assert f'hx-get="{reverse("desk:person_lookup")}?pick=requester_pick"' in form
    assert 'type="search" name="requester"' in form


def test_requester_is_sent_to_the_portal_to_open_a_ticket(employee):
    response = signed_in(employee).get(reverse("desk:ticket_create"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:new")


def test_open_with_nothing_filled_in_shows_required_fields(tier1):
    response = signed_in(tier1).post(reverse("desk:ticket_create"), {})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()

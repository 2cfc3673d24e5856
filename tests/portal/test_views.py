"""The requester portal, told as an employee uses it: ask, follow, reply, confirm or reopen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.models import Attachment, Category, Level, Message, Status, Ticket

pytestmark = pytest.mark.django_db


def new_url() -> str:
    return reverse("portal:new")


def ticket_url(ticket: Ticket) -> str:
    return reverse("portal:ticket", args=[ticket.number])


def action_url(ticket: Ticket, action: str) -> str:
    return reverse("portal:ticket_action", args=[ticket.number, action])


def a_request(**overrides) -> dict:
    data = {
        "subject": "Laptop won't connect to Wi-Fi",
        "description": "Since this morning on floor 3.",
        "urgency": str(Level.HIGH),
        "category": "",
    }
    data.update(overrides)
    return data


def resolved(ticket: Ticket, by, *, days_ago: int = 0) -> Ticket:
    services.resolve(ticket=ticket, by=by, resolution_code="fixed", body="Replaced the cable.")
    if days_ago:
        Ticket.objects.filter(pk=ticket.pk).update(
            resolved_at=timezone.now() - timedelta(days=days_ago)
        )
    ticket.refresh_from_db()
    return ticket


# --- signing in ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["home", "new"])
def test_anonymous_is_sent_to_sign_in(client, name):
    # when
    response = client.get(reverse(f"portal:{name}"))
    # then
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_is_sent_to_sign_in_from_a_ticket_and_its_actions(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    page = client.get(ticket_url(ticket))
    post = client.post(action_url(ticket, "reply"), {"body": "hello"})
    # then
    assert page.status_code == post.status_code == 302
    assert page["Location"].startswith(reverse("login"))
    assert not Message.objects.filter(ticket=ticket).exists()


# --- my requests --------------------------------------------------------------------------


def test_home_lists_my_open_requests_newest_first_in_plain_words(client, employee, employee2):
    # given
    older = desk_factories.ticket(employee, subject="Older problem")
    newer = desk_factories.ticket(employee, subject="Newer problem")
    desk_factories.ticket(employee2, subject="Someone else's problem")
    client.force_login(employee)
    # when
    response = client.get(reverse("portal:home"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(newer.subject) < html.index(older.subject)
    assert "Someone else" not in html
    assert "Received, not picked up yet" in html


def test_home_shows_requests_shared_with_me(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee2, subject="Team printer")
    ticket.shared_with.add(employee)
    client.force_login(employee)
    # when
    html = client.get(reverse("portal:home")).content.decode()
    # then
    assert "Team printer" in html
    assert "Asked by" in html


def test_home_splits_open_and_closed(client, employee, tier1):
    # given
    desk_factories.ticket(employee, subject="Still broken")
    done = desk_factories.ticket(employee, subject="All fixed")
    resolved(done, tier1)
    services.confirm_resolution(ticket=done, by=employee)
    client.force_login(employee)
    # when
    open_html = client.get(reverse("portal:home")).content.decode()
    closed_html = client.get(reverse("portal:home"), {"tab": "closed"}).content.decode()
    # then
    assert "Still broken" in open_html and "All fixed" not in open_html
    assert "All fixed" in closed_html and "Still broken" not in closed_html
    assert "Done" in closed_html


def test_home_open_tab_puts_a_request_awaiting_confirmation_first(client, employee, tier1):
    # given: a newer open request and an older one the desk resolved
    fixed = desk_factories.ticket(employee, subject="Fixed printer")
    desk_factories.ticket(employee, subject="Newer problem")
    resolved(fixed, tier1)
    client.force_login(employee)
    # when
    open_html = client.get(reverse("portal:home")).content.decode()
    closed_html = client.get(reverse("portal:home"), {"tab": "closed"}).content.decode()
    # then: it leads the open tab, marked, with the way to answer; it is not under Closed
    assert open_html.index("Fixed printer") < open_html.index("Newer problem")
    assert "request-awaiting" in open_html and "Did this fix it?" in open_html
    assert f"{ticket_url(fixed)}#next-step-title" in open_html
    assert "Fixed printer" not in closed_html
    assert "No closed requests yet" in closed_html


def test_home_a_shared_resolved_request_names_who_confirms(client, employee, employee2, tier1):
    # given: a colleague's resolved request shared with me
    ticket = desk_factories.ticket(employee2, subject="Team printer")
    resolved(ticket, tier1)
    ticket.shared_with.add(employee)
    client.force_login(employee)
    # when
    html = client.get(reverse("portal:home")).content.decode()
    # then: marked, but the confirmation is the requester's
    assert "Did this fix it?" in html and "Waiting for" in html
    assert f"{ticket_url(ticket)}#next-step-title" not in html


def test_home_empty_state_invites_asking_for_help(client, employee):
    # given
    client.force_login(employee)
    # when
    html = client.get(reverse("portal:home")).content.decode()
    # then
    assert "You have no open requests." in html
    assert new_url() in html


def test_home_shows_a_technician_only_their_own_requests(client, employee, tier1):
    # given: a ticket of tier1's team, and one tier1 asked for
    desk_factories.ticket(employee, subject="Team work")
    desk_factories.ticket(tier1, subject="My own monitor")
    client.force_login(tier1)
    # when
    html = client.get(reverse("portal:home")).content.decode()
    # then
    assert "My own monitor" in html
    assert "Team work" not in html


def test_home_pages_long_lists(client, employee, settings):
    # given
    settings.TIERLINE = {**settings.TIERLINE, "PAGE_SIZE": 2}
    for n in range(3):
        desk_factories.ticket(employee, subject=f"Problem {n}")
    client.force_login(employee)
    # when
    first = client.get(reverse("portal:home")).content.decode()
    second = client.get(reverse("portal:home"), {"page": 2}).content.decode()
    # then
    assert "Problem 2" in first and "Problem 0" not in first
    assert "Problem 0" in second and "Page 2 of 2" in second


def test_home_unknown_tab_and_page_fall_back(client, employee):
    # given
    desk_factories.ticket(employee, subject="Mine")
    client.force_login(employee)
    # when
    response = client.get(reverse("portal:home"), {"tab": "<script>", "page": "zz"})
    # then
    assert response.status_code == 200
    assert "Mine" in response.content.decode()


@pytest.mark.parametrize("rows", [3, 30])
def test_home_query_count_does_not_grow_with_rows(
    client, employee, employee2, django_assert_max_num_queries, rows
):
    # given: my requests, some in a category, some shared with me
    category = Category.objects.filter(parent__isnull=False).first()
    for n in range(rows):
        desk_factories.ticket(employee, category=category if n % 2 else None)
    for _ in range(rows // 3):
        desk_factories.ticket(employee2).shared_with.add(employee)
    client.force_login(employee)
    # when / then: session, user, shared ids, tab counts, page count, page ids, page rows
    with django_assert_max_num_queries(7):
        response = client.get(reverse("portal:home"))
    assert response.status_code == 200


# --- asking for help ----------------------------------------------------------------------


def test_new_form_offers_active_categories_in_groups_and_plain_urgency(client, employee):
    # given
    retired = Category.objects.get(name="VPN")
    retired.is_active = False
    retired.save()
    client.force_login(employee)
    # when
    html = client.get(new_url()).content.decode()
    # then
    assert '<optgroup label="Hardware">' in html
    assert "Printer &amp; scanner" in html
    assert ">VPN<" not in html
    for words in ("It stops me working", "It slows me down", "It can wait"):
        assert words in html
    assert 'enctype="multipart/form-data"' in html


def test_submit_request_opens_ticket_and_thanks_with_its_number(client, employee):
    # given
    category = Category.objects.get(name="Wi-Fi")
    client.force_login(employee)
    # when
    response = client.post(new_url(), a_request(category=str(category.pk)), follow=True)
    # then
    ticket = Ticket.objects.get()
    assert response.redirect_chain[-1][0] == ticket_url(ticket)
    assert ticket.requester == employee
    assert ticket.channel == "portal"
    assert ticket.category == category
    assert (ticket.urgency, ticket.impact) == (Level.HIGH, Level.MEDIUM)
    assert f"Thanks, we&#x27;ve got it: {ticket.number}" in response.content.decode()


def test_submit_request_with_attachments_saves_every_file(client, employee):
    # given
    client.force_login(employee)
    files = [
        desk_factories.upload("screen.png"),
        SimpleUploadedFile("log.txt", b"error 42", content_type="text/plain"),
    ]
    # when
    response = client.post(new_url(), {**a_request(), "attachments": files})
    # then
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert sorted(ticket.attachments.values_list("name", flat=True)) == ["log.txt", "screen.png"]
    page = client.get(ticket_url(ticket)).content.decode()
    attachment = ticket.attachments.get(name="log.txt")
    assert reverse("desk:attachment", args=[attachment.pk]) in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subject": ""}, "subject", "Please write a subject."),
        ({"subject": "   "}, "subject", "Please write a subject."),
        ({"subject": "s" * 201}, "subject", "under 200 characters"),
        ({"description": ""}, "description", "Please describe the problem."),
        ({"description": "d" * 20001}, "description", "too long: 20001 characters"),
        ({"urgency": "9"}, "urgency", "Select a valid choice"),
        ({"category": "999999"}, "category", "Select a valid choice"),
    ],
)
def test_bad_request_is_refused_with_the_error_and_nothing_saved(
    client, employee, overrides, field, message
):
    # given
    client.force_login(employee)
    # when
    response = client.post(new_url(), a_request(**overrides))
    # then
    assert response.status_code == 400
    assert message in response.content.decode()
    assert field in response.context["form"].errors
    assert Ticket.objects.count() == 0


def test_inactive_category_is_refused(client, employee):
    # given: the form was loaded, then an administrator retired the category
    category = Category.objects.get(name="VPN")
    client.force_login(employee)
    form_html = client.get(new_url()).content.decode()
    assert ">VPN<" in form_html.replace("\u2003", "")
    Category.objects.filter(pk=category.pk).update(is_active=False)
    # when
    response = client.post(new_url(), a_request(category=str(category.pk)))
    # then
    assert response.status_code == 400
    assert Ticket.objects.count() == 0


@pytest.mark.parametrize("name", ["setup.exe", "page.html", "drawing.SVG"])
def test_refused_file_type_is_shown_next_to_the_field_and_nothing_saved(client, employee, name):
    # given
    client.force_login(employee)
    upload = SimpleUploadedFile(name, b"MZ...", content_type="application/octet-stream")
    # when
    response = client.post(new_url(), {**a_request(), "attachments": [upload]})
    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert "are not accepted" in html
    assert response.context["form"].errors["attachments"]
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_oversize_file_is_refused_and_nothing_saved(client, employee, settings):
    # given
    settings.TIERLINE = {**settings.TIERLINE, "ATTACHMENT_MAX_BYTES": 100}
    client.force_login(employee)
    ok = SimpleUploadedFile("ok.txt", b"small")
    big = SimpleUploadedFile("big.log", b"x" * 101)
    # when
    response = client.post(new_url(), {**a_request(), "attachments": [ok, big]})
    # then
    assert response.status_code == 400
    assert "“big.log” is 0.0 MB; the limit is" in response.content.decode()
    assert Ticket.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_too_many_files_are_refused(client, employee):
    # given
    client.force_login(employee)
    files = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(11)]
    # when
    response = client.post(new_url(), {**a_request(), "attachments": files})
    # then
    assert response.status_code == 400
    assert "At most 10 files at once." in response.content.decode()
    assert Ticket.objects.count() == 0


# --- one request --------------------------------------------------------------------------


def test_requester_sees_own_ticket_in_plain_words(client, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee, subject="Monitor flickers")
    services.take(ticket=ticket, by=tier1)
    services.add_message(ticket=ticket, by=tier1, body="Which monitor model is it?")
    client.force_login(employee)
    # when
    response = client.get(ticket_url(ticket))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "Monitor flickers" in html
    assert "We&#x27;re working on it" in html
    assert "What happens next" in html
    assert "Which monitor model is it?" in html
    assert 'id="reply"' in html


def test_shared_person_sees_the_ticket(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee2)
    ticket.shared_with.add(employee)
    client.force_login(employee)
    # when / then
    assert client.get(ticket_url(ticket)).status_code == 200


def test_another_requesters_ticket_is_not_found(client, employee, employee2):
    # given
    ticket = desk_factories.ticket(employee2)
    client.force_login(employee)
    # when
    page = client.get(ticket_url(ticket))
    reply = client.post(action_url(ticket, "reply"), {"body": "let me in"})
    # then
    assert page.status_code == reply.status_code == 404
    assert not Message.objects.filter(ticket=ticket).exists()


def test_nonexistent_ticket_is_not_found(client, employee):
    # given
    client.force_login(employee)
    # when / then
    assert client.get(reverse("portal:ticket", args=["TL-999999"])).status_code == 404
    assert client.post(reverse("portal:ticket_action", args=["nope", "reply"])).status_code == 404


def test_technician_cannot_read_team_tickets_through_the_portal(client, employee, tier1):
    # given: the desk may see it, but it is not tier1's own request
    ticket = desk_factories.ticket(employee)
    client.force_login(tier1)
    # when / then
    assert client.get(ticket_url(ticket)).status_code == 404


def test_internal_notes_never_reach_the_portal(client, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    services.add_message(ticket=ticket, by=tier1, body="SECRET-NOTE about the user", internal=True)
    services.add_message(ticket=ticket, by=tier1, body="Public answer")
    client.force_login(employee)
    # when
    html = client.get(ticket_url(ticket)).content.decode()
    # then
    assert "Public answer" in html
    assert "SECRET-NOTE" not in html


def test_internal_notes_stay_hidden_from_a_technician_reading_their_own_request(client, tier1):
    # given: tier1 asked for help; a colleague notes something internally and escalates
    colleague = people_factories.technician(1, username="colleague")
    ticket = desk_factories.ticket(tier1)
    services.add_message(ticket=ticket, by=colleague, body="SECRET-NOTE", internal=True)
    services.escalate(ticket=ticket, by=colleague, summary="ESCALATION-SUMMARY")
    client.force_login(tier1)
    # when
    html = client.get(ticket_url(ticket)).content.decode()
    # then
    assert "SECRET-NOTE" not in html
    assert "ESCALATION-SUMMARY" not in html


def test_html_in_the_description_is_shown_as_text(client, employee):
    # given
    ticket = desk_factories.ticket(
        employee,
        description='<p>Hello</p><script>alert("x")</script><img src=x onerror="alert(2)">',
    )
    Ticket.objects.filter(pk=ticket.pk).update(
        # as if written by a route that forgot to clean
        subject="<script>alert('s')</script>",
    )
    Message.objects.create(ticket=ticket, author=employee, body="<script>alert('m')</script>ok")
    client.force_login(employee)
    # when
    html = client.get(ticket_url(ticket)).content.decode()
    # then
    assert "&lt;p&gt;Hello&lt;/p&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#x27;s&#x27;)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#x27;m&#x27;)&lt;/script&gt;ok" in html
    assert "<script>alert" not in html and "<img" not in html and "<p>Hello" not in html


def test_submitted_description_html_is_shown_as_text_on_the_page(client, employee):
    # given
    client.force_login(employee)
    client.post(new_url(), a_request(description="<b>bold</b><script>alert(1)</script>"))
    ticket = Ticket.objects.get()
    # when
    html = client.get(ticket_url(ticket)).content.decode()
    # then
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html and "<script>alert(1)" not in html


# --- actions ------------------------------------------------------------------------------


def test_reply_adds_a_public_message_with_files(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(
        action_url(ticket, "reply"),
        {"body": "Here is a photo.", "attachments": [desk_factories.upload("photo.jpg")]},
    )
    # then
    assert response.status_code == 302
    assert response["Location"] == ticket_url(ticket)
    message = Message.objects.get(ticket=ticket)
    assert (message.body, message.internal, message.author) == ("Here is a photo.", False, employee)
    assert list(message.attachments.values_list("name", flat=True)) == ["photo.jpg"]


def test_reply_by_requester_answers_a_waiting_ticket(client, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    services.change_status(ticket=ticket, by=tier1, status=Status.WAITING_REQUESTER)
    client.force_login(employee)
    # when
    client.post(action_url(ticket, "reply"), {"body": "It's the Dell one."})
    # then
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN


def test_empty_reply_is_refused_clearly(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "reply"), {"body": ""})
    # then
    assert response.status_code == 400
    assert "Please write a message." in response.content.decode()
    assert not Message.objects.filter(ticket=ticket).exists()


def test_reply_with_refused_file_saves_nothing(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(
        action_url(ticket, "reply"),
        {"body": "see file", "attachments": [SimpleUploadedFile("x.exe", b"MZ")]},
    )
    # then
    assert response.status_code == 400
    assert "are not accepted" in response.content.decode()
    assert not Message.objects.filter(ticket=ticket).exists()
    assert not Attachment.objects.filter(ticket=ticket).exists()


def test_reply_to_closed_ticket_is_refused_clearly(client, employee, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee), tier1)
    services.confirm_resolution(ticket=ticket, by=employee)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "reply"), {"body": "One more thing"})
    # then
    html = response.content.decode()
    assert response.status_code == 400
    assert "This ticket is closed." in html
    assert not Message.objects.filter(ticket=ticket, author=employee).exists()


def test_closed_ticket_says_so_and_has_no_reply_box(client, employee, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee), tier1, days_ago=10)
    services.close(ticket=ticket, by=tier1)
    client.force_login(employee)
    # when
    html = client.get(ticket_url(ticket)).content.decode()
    # then
    assert "This request is closed" in html
    assert action_url(ticket, "reply") not in html
    assert action_url(ticket, "reopen") not in html


def test_attach_adds_files_without_a_message(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(
        action_url(ticket, "attach"), {"attachments": [desk_factories.upload("a.pdf")]}
    )
    # then
    assert response.status_code == 302
    assert list(ticket.attachments.values_list("name", flat=True)) == ["a.pdf"]
    assert "a.pdf" in client.get(ticket_url(ticket)).content.decode()


def test_attach_without_files_is_refused(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "attach"), {})
    # then
    assert response.status_code == 400
    assert "Choose at least one file." in response.content.decode()


def test_resolved_ticket_asks_did_this_fix_it_with_the_deadline(client, employee, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee), tier1)
    client.force_login(employee)
    # when
    html = client.get(ticket_url(ticket)).content.decode()
    # then
    deadline = timezone.localtime(services.reopen_deadline(ticket))
    assert "Did this fix it?" in html
    assert f"You can reopen until {deadline.day} {deadline:%b}" in html
    assert action_url(ticket, "confirm") in html
    assert action_url(ticket, "reopen") in html
    assert "Replaced the cable." in html


def test_confirm_closes_the_ticket(client, employee, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee), tier1)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "confirm"), follow=True)
    # then
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert f"{ticket.number} is now closed" in response.content.decode()


def test_confirm_of_an_open_ticket_is_refused_clearly(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "confirm"))
    # then
    assert response.status_code == 400
    assert "Only a resolved ticket can be confirmed." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_confirm_by_someone_it_was_only_shared_with_is_denied(client, employee, employee2, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee2), tier1)
    ticket.shared_with.add(employee)
    client.force_login(employee)
    # when
    page = client.get(ticket_url(ticket)).content.decode()
    response = client.post(action_url(ticket, "confirm"))
    # then
    assert action_url(ticket, "confirm") not in page
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_reopen_within_the_window_works(client, employee, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee), tier1, days_ago=2)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "reopen"), {"reason": "Flickers again."})
    # then
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert Message.objects.filter(ticket=ticket, body="Flickers again.").exists()


def test_reopen_needs_a_reason(client, employee, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee), tier1)
    client.force_login(employee)
    # when
    response = client.post(action_url(ticket, "reopen"), {"reason": "  "})
    # then
    assert response.status_code == 400
    assert "Please tell us what&#x27;s still wrong" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_reopen_after_the_window_is_refused_clearly(client, employee, tier1):
    # given
    ticket = resolved(desk_factories.ticket(employee), tier1, days_ago=30)
    client.force_login(employee)
    # when
    page = client.get(ticket_url(ticket)).content.decode()
    response = client.post(action_url(ticket, "reopen"), {"reason": "Broken again"})
    # then
    assert action_url(ticket, "reopen") not in page
    assert response.status_code == 400
    assert "can&#x27;t be reopened. Please open a new request." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_unknown_action_is_not_found(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when / then
    assert client.post(action_url(ticket, "escalate")).status_code == 404
    assert client.post(action_url(ticket, "delete")).status_code == 404


def test_actions_need_post(client, employee):
    # given
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    # when / then
    assert client.get(action_url(ticket, "confirm")).status_code == 405


@pytest.mark.parametrize("entries", [2, 20])
def test_ticket_page_query_count_does_not_grow_with_the_conversation(
    client, employee, tier1, django_assert_max_num_queries, entries
):
    # given
    ticket = desk_factories.ticket(employee)
    for n in range(entries):
        services.add_message(
            ticket=ticket,
            by=tier1 if n % 2 else employee,
            body=f"message {n}",
            uploads=[SimpleUploadedFile(f"f{n}.txt", b"x")],
        )
    client.force_login(employee)
    # when / then
    with django_assert_max_num_queries(14):
        response = client.get(ticket_url(ticket))
    assert response.status_code == 200

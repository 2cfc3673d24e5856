"""The in-app inbox, its unread count, marking read, the preferences page and the ticket's
watchers panel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk import factories as desk_factories
from tierline.mail.models import Notification, NotificationKind, NotificationPreference, Watcher

pytestmark = pytest.mark.django_db
Kind = NotificationKind


def notice(person, ticket, kind=Kind.REPLY, text=None) -> Notification:
    return Notification.objects.create(
        recipient=person, kind=kind, ticket=ticket, text=text or f"News on {ticket.number}"
    )


def test_the_inbox_lists_my_notifications_newest_first_and_escapes_them(client, tier1, tier2):
    ticket = desk_factories.ticket(subject="Printer")
    notice(tier1, ticket, text="first")
    notice(tier1, ticket, text="<script>alert(1)</script> second")
    notice(tier2, ticket, text="not mine")
    client.force_login(tier1)
    page = client.get(reverse("mail:inbox")).content.decode()
    assert page.index("second") < page.index("first")
    assert "not mine" not in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; second" in page
    assert "2 unread" in page


def test_the_header_count_is_one_query_after_the_page(client, tier1, django_assert_max_num_queries):
    ticket = desk_factories.ticket()
    for _ in range(5):
        notice(tier1, ticket)
    client.force_login(tier1)
    # the page itself carries the link that fetches the count
    page = client.get(reverse("desk:queue")).content.decode()
    assert reverse("mail:inbox_count") in page
    # session, user, the count
    with django_assert_max_num_queries(3):
        answer = client.get(reverse("mail:inbox_count"), HTTP_HX_REQUEST="true")
    assert '<span class="count alert">5</span>' in answer.content.decode()


def test_opening_the_ticket_in_the_workspace_marks_its_notices_read(client, tier1):
    ticket, other = desk_factories.ticket(), desk_factories.ticket()
    notice(tier1, ticket)
    kept = notice(tier1, other)
    client.force_login(tier1)
    assert client.get(reverse("desk:ticket", args=[ticket.number])).status_code == 200
    assert not Notification.objects.filter(ticket=ticket, read_at__isnull=True).exists()
    kept.refresh_from_db()
    assert kept.read_at is None


def test_opening_the_request_in_the_portal_marks_its_notices_read(client, employee):
    ticket = desk_factories.ticket(employee)
    notice(employee, ticket)
    client.force_login(employee)
    assert client.get(reverse("portal:ticket", args=[ticket.number])).status_code == 200
    assert Notification.objects.get().read_at is not None


def test_a_notification_opens_the_ticket_where_the_person_reads_it(client, employee, tier1):
    ticket = desk_factories.ticket(employee)
    mine, theirs = notice(employee, ticket), notice(tier1, ticket)
    client.force_login(employee)
    answer = client.get(reverse("mail:inbox_open", args=[mine.pk]))
    assert answer.url == reverse("portal:ticket", args=[ticket.number])
    # someone else's notification is a 404, and a junk id too
    assert client.get(reverse("mail:inbox_open", args=[theirs.pk])).status_code == 404
    assert client.get("/mail/inbox/99999999999999999999/").status_code == 404
    client.force_login(tier1)
    answer = client.get(reverse("mail:inbox_open", args=[theirs.pk]))
    assert answer.url == reverse("desk:ticket", args=[ticket.number])


def test_mark_all_read(client, tier1, tier2):
    ticket = desk_factories.ticket()
    notice(tier1, ticket), notice(tier1, ticket), notice(tier2, ticket)
    client.force_login(tier1)
    assert client.get(reverse("mail:inbox_read_all")).status_code == 405
    client.post(reverse("mail:inbox_read_all"))
    assert not Notification.objects.filter(recipient=tier1, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=tier2, read_at__isnull=True).count() == 1


def test_the_preferences_page_saves_a_choice_per_kind_and_refuses_junk(client, employee):
    client.force_login(employee)
    page = client.get(reverse("mail:preferences"))
    assert page.status_code == 200 and "Reply on my ticket" in page.content.decode()
    data = dict.fromkeys(Kind.values, "in_app")
    data[Kind.RESOLVED] = "none"
    assert client.post(reverse("mail:preferences"), data).status_code == 302
    assert list(NotificationPreference.objects.values_list("kind", "channel")) == [
        (Kind.REPLY, "in_app"),  # a requester's default for replies is email
        (Kind.RESOLVED, "none"),
    ]
    data[Kind.REPLY] = "carrier-pigeon"
    answer = client.post(reverse("mail:preferences"), data)
    assert answer.status_code == 400
    assert "Select a valid choice" in answer.content.decode()


def test_the_inbox_asks_for_sign_in(client):
    answer = client.get(reverse("mail:inbox"))
    assert answer.status_code == 302 and "login" in answer.url


# --- the watchers panel -----------------------------------------------------------------------


def test_a_technician_adds_and_removes_a_watcher_from_the_ticket_page(client, tier1, tier2):
    ticket = desk_factories.ticket()
    client.force_login(tier1)
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "Watchers" in page and "Nobody watches this ticket." in page
    url = reverse("mail:ticket_watchers", args=[ticket.number])
    client.post(url, {"person": "tier2"})
    assert Watcher.objects.filter(ticket=ticket, person=tier2).exists()
    page = client.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "Theo Two" in page
    client.post(url, {"remove": str(tier2.pk)})
    assert not Watcher.objects.filter(ticket=ticket).exists()


def test_adding_a_watcher_explains_what_went_wrong(client, tier1):
    ticket = desk_factories.ticket()
    client.force_login(tier1)
    url = reverse("mail:ticket_watchers", args=[ticket.number])
    for data, message in [
        ({"person": "nobody-at-all"}, "Nobody matches"),
        ({"person": ""}, "This field is required"),
        ({"person": "bad\x00name"}, "control character"),
        ({"remove": "²"}, "There is no such watcher"),
    ]:
        answer = client.post(url, data, follow=True)
        assert answer.status_code == 200
        assert message in answer.content.decode(), data


def test_a_requester_can_t_change_watchers(client, employee, tier1):
    ticket = desk_factories.ticket(employee)
    client.force_login(employee)
    url = reverse("mail:ticket_watchers", args=[ticket.number])
    assert client.post(url, {"person": "tier1"}).status_code == 403
    assert not Watcher.objects.exists()
    other = desk_factories.ticket()
    assert client.post(reverse("mail:ticket_watchers", args=[other.number])).status_code == 404


@pytest.mark.parametrize("rows", [2, 40])
def test_the_inbox_query_count_does_not_grow_with_rows(
    client, tier1, django_assert_max_num_queries, rows
):
    tickets = [desk_factories.ticket() for _ in range(3)]
    for n in range(rows):
        notice(tier1, tickets[n % 3])
    client.force_login(tier1)
    # session, user, the notifications with their tickets (one query)
    with django_assert_max_num_queries(3):
        answer = client.get(reverse("mail:inbox"))
    assert answer.content.decode().count('class="inbox-item unread"') == rows


def test_a_failing_read_marker_still_shows_the_ticket_page(client, tier1, monkeypatch, caplog):
    """Marking notices read is the mail app's answer to the desk's TicketViewed: if it fails,
    the page is still shown and the failure is logged."""
    from tierline.mail import notify

    ticket = desk_factories.ticket()
    notice(tier1, ticket)

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(notify, "_read_ticket", broken)
    client.force_login(tier1)
    assert client.get(reverse("desk:ticket", args=[ticket.number])).status_code == 200
    assert "could not mark ticket" in caplog.text
    assert Notification.objects.get().read_at is None

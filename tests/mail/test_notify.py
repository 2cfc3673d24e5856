"""Who is told what when the desk's services change a ticket: one notification per person and
transaction, by the channel each chose; watchers; mentions. Transactional: the notices are
written when the service's transaction commits, as in production."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.desk import factories as desk_factories
from tests.mail.factories import mail, mailbox
from tests.people.factories import UserFactory, technician
from tierline.desk import services as desk
from tierline.mail import notify, services, watchers
from tierline.mail.models import (
    Notification,
    NotificationEmail,
    NotificationKind,
    NotificationPreference,
    Watcher,
)

pytestmark = pytest.mark.django_db(transaction=True)
Kind = NotificationKind


def told(person) -> list[tuple[str, str]]:
    """(kind, ticket number) of every notification the person has, oldest first."""
    return [
        (n.kind, n.ticket.number)
        for n in Notification.objects.filter(recipient=person).order_by("pk")
    ]


def test_a_new_ticket_tells_its_team_and_not_the_other_tiers(employee, tier1, tier2):
    # when the employee asks for help (tier 1's team takes new tickets)
    ticket = desk_factories.ticket(employee)
    # then tier 1 hears of it, tier 2 does not, nor the requester who opened it
    assert told(tier1) == [(Kind.NEW_TICKET, ticket.number)]
    assert told(tier2) == []
    assert told(employee) == []


def test_assigning_tells_the_assignee_not_the_one_who_assigned(employee, tier1, lead):
    ticket = desk_factories.ticket(employee)
    # when the lead gives it to tier 1
    desk.assign(ticket=ticket, by=lead, assignee=tier1)
    # then tier 1 is told, the lead is not
    assert told(tier1)[-1] == (Kind.ASSIGNED, ticket.number)
    assert told(lead) == []
    notice = Notification.objects.filter(recipient=tier1).latest("pk")
    assert notice.text.startswith("Lee Lead assigned " + ticket.number)


def test_taking_a_ticket_tells_nobody(employee, tier1):
    ticket = desk_factories.ticket(employee)
    before = Notification.objects.count()
    desk.take(ticket=ticket, by=tier1)
    assert Notification.objects.count() == before


def test_a_public_reply_tells_the_requester_and_a_requester_reply_tells_the_assignee(
    employee, tier1
):
    ticket = desk_factories.ticket(employee)
    desk.take(ticket=ticket, by=tier1)
    # when the technician answers
    desk.add_message(ticket=ticket, by=tier1, body="Try turning it off and on.")
    # then the requester is told
    assert told(employee) == [(Kind.REPLY, ticket.number)]
    # when the requester answers back
    desk.add_message(ticket=ticket, by=employee, body="Still jams.")
    # then the assignee is told, and the requester is not told of their own reply
    assert told(tier1)[-1] == (Kind.REPLY, ticket.number)
    assert told(employee) == [(Kind.REPLY, ticket.number)]


def test_one_resolution_is_one_notice_per_person_not_one_per_field(employee, employee2, tier1):
    # given a ticket shared with a colleague, watched by a technician
    ticket = desk_factories.ticket(employee)
    desk.share_ticket(ticket=ticket, by=employee, colleague=employee2)
    tier2 = technician(2, username="watching")
    Watcher.objects.create(ticket=ticket, person=tier2)
    desk.take(ticket=ticket, by=tier1)
    Notification.objects.all().delete()
    # when tier 1 resolves it (a public note, a status change, the resolution: three events)
    desk.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Replaced the roller.")
    # then each person hears once, of the resolution
    assert told(employee) == [(Kind.RESOLVED, ticket.number)]
    assert told(employee2) == [(Kind.RESOLVED, ticket.number)]
    assert told(tier2) == [(Kind.RESOLVED, ticket.number)]
    assert told(tier1) == []


def test_a_reopened_ticket_tells_its_assignee(employee, tier1):
    ticket = desk_factories.ticket(employee)
    desk.take(ticket=ticket, by=tier1)
    desk.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    # when the requester says it is not fixed
    desk.reopen(ticket=ticket, by=employee, reason="It jams again.")
    # then the assignee hears it was reopened (one notice, not the reason's message too)
    assert told(tier1)[-1] == (Kind.REOPENED, ticket.number)
    assert [k for k, _ in told(tier1)].count(Kind.REPLY) == 0


def test_an_escalation_tells_the_team_it_went_to(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    # when tier 1 escalates it
    desk.escalate(ticket=ticket, by=tier1, summary="Reseated the cable; still down.")
    # then tier 2 is told
    assert told(tier2) == [(Kind.ESCALATED, ticket.number)]


def test_a_work_order_tells_its_field_technician(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    desk.escalate(ticket=ticket, by=tier1, summary="Needs a visit.")
    ticket.refresh_from_db()
    field = technician(2, username="field")
    # when tier 2 schedules a visit for the field technician
    desk_factories.work_order(ticket, by=tier2, technician=field)
    # then the field technician is told (of the visit, the strongest reason)
    assert told(field)[-1] == (Kind.WORK_ORDER, ticket.number)


def test_a_mention_in_an_internal_note_tells_that_technician(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    # when tier 1 writes an internal note naming tier 2 (and an email address, not a mention)
    desk.add_message(
        ticket=ticket,
        by=tier1,
        body="@Tier2 can you look? Mail bob@tier1.example if not.",
        internal=True,
    )
    # then tier 2 is told of the mention; the requester hears nothing of the note
    assert told(tier2) == [(Kind.MENTION, ticket.number)]
    assert told(employee) == []


def test_mentions_are_read_from_the_note():
    assert notify.mentioned_usernames("@ann, @bob. and mail@carl.example (@dee)") == {
        "ann",
        "bob",
        "dee",
    }


def test_a_person_may_turn_a_kind_off_or_ask_for_email(employee, tier1):
    # given tier 1 wants no new-ticket notices and email for replies
    notify.set_preferences(person=tier1, channels={Kind.NEW_TICKET: "none", Kind.REPLY: "email"})
    # when a ticket arrives and the requester writes on it
    ticket = desk_factories.ticket(employee)
    assert told(tier1) == []
    desk.take(ticket=ticket, by=tier1)
    desk.add_message(ticket=ticket, by=employee, body="Any news?")
    # then tier 1 has the reply in the app and an email "to send"
    assert told(tier1) == [(Kind.REPLY, ticket.number)]
    email = NotificationEmail.objects.get(notification__recipient=tier1)
    assert email.to == tier1.email and email.sent_at is None
    assert email.subject.startswith(f"[{ticket.number}] ")


def test_a_default_is_kept_as_no_row(tier1):
    notify.set_preferences(person=tier1, channels={Kind.ASSIGNED: "in_app"})
    notify.set_preferences(person=tier1, channels={Kind.ASSIGNED: "email"})  # the default
    assert not NotificationPreference.objects.filter(person=tier1).exists()
    assert notify.channels_of(tier1)[Kind.ASSIGNED] == "email"
    with pytest.raises(ValueError):
        notify.set_preferences(person=tier1, channels={"nonsense": "email"})


def test_requesters_are_emailed_about_replies_by_default(employee, tier1):
    ticket = desk_factories.ticket(employee)
    desk.take(ticket=ticket, by=tier1)
    desk.add_message(ticket=ticket, by=tier1, body="On my way.")
    assert NotificationEmail.objects.filter(to=employee.email).count() == 1


def test_nothing_is_told_when_the_change_rolls_back(employee, tier1):
    ticket = desk_factories.ticket(employee)
    before = Notification.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        desk.add_message(ticket=ticket, by=tier1, body="Never sent.")
        raise RuntimeError("the request failed after the service")
    assert Notification.objects.count() == before


def test_a_broken_notifier_never_undoes_the_desk_s_change(employee, tier1, monkeypatch):
    ticket = desk_factories.ticket(employee)

    def broken(batch):
        raise RuntimeError("notifier down")

    monkeypatch.setattr(notify, "notify", broken)
    message = desk.add_message(ticket=ticket, by=tier1, body="Saved anyway.")
    assert message.pk is not None
    assert ticket.messages.filter(pk=message.pk).exists()


# --- watchers -------------------------------------------------------------------------------


def test_cc_d_known_people_on_mail_become_watchers_and_hear_of_replies(employee, tier1):
    mailbox()
    colleague = technician(1, username="cc-tech", email="cc-tech@example.com")
    stranger = UserFactory(username="outsider", email="outsider@example.com")
    # when the employee mails the help desk with a technician and a requester in CC
    raw = mail(
        subject="VPN down",
        headers={"Cc": "cc-tech@example.com, outsider@example.com, x@nowhere.test"},
    )
    ticket = services.receive(raw).inbound.ticket
    # then the technician (who reads the ticket) watches it; the other requester may not read
    # it, so is not made a watcher
    assert set(watchers.watcher_ids(ticket.pk)) == {colleague.pk}
    # and hears of the desk's public reply
    desk.take(ticket=ticket, by=tier1)
    desk.add_message(ticket=ticket, by=tier1, body="Looking at it.")
    assert told(colleague)[-1] == (Kind.REPLY, ticket.number)
    assert told(stranger) == []


def test_a_transaction_s_replies_read_their_tickets_followers_once(employee, employee2, tier1):
    first, second = desk_factories.ticket(employee), desk_factories.ticket(employee)
    desk.share_ticket(ticket=first, by=employee, colleague=employee2)
    follower = technician(1, username="w-tech", email="w-tech@example.com")
    Watcher.objects.create(ticket=second, person=follower, added_by=tier1)
    desk.take(ticket=first, by=tier1)
    desk.take(ticket=second, by=tier1)
    # when one transaction replies on both (a spool batch of mail does)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        desk.add_message(ticket=first, by=tier1, body="On it.")
        desk.add_message(ticket=second, by=tier1, body="On it too.")
    # then each follower hears of their own ticket, read in one query for both
    assert told(employee2) == [(Kind.REPLY, first.number)]
    assert told(follower)[-1] == (Kind.REPLY, second.number)
    assert (Kind.REPLY, first.number) not in told(follower)
    assert len([q for q in queries.captured_queries if '"mail_watcher"' in q["sql"]]) == 1


def test_sharing_from_the_portal_makes_the_colleague_follow_the_request(employee, employee2, tier1):
    ticket = desk_factories.ticket(employee)
    desk.share_ticket(ticket=ticket, by=employee, colleague=employee2)
    assert employee2.pk in watchers.watcher_ids(ticket.pk)
    desk.take(ticket=ticket, by=tier1)
    desk.add_message(ticket=ticket, by=tier1, body="Fixed the cable.")
    assert told(employee2) == [(Kind.REPLY, ticket.number)]


def test_a_technician_adds_and_removes_a_watcher_with_a_history_entry(employee, tier1, tier2):
    ticket = desk_factories.ticket(employee)
    assert watchers.add_watcher(ticket=ticket, by=tier1, person=tier2) is True
    assert watchers.add_watcher(ticket=ticket, by=tier1, person=tier2) is False
    assert watchers.remove_watcher(ticket=ticket, by=tier1, person=tier2) is True
    from tierline.core.history import history_of

    actions = list(history_of(ticket).values_list("action", flat=True))
    assert actions.count("watcher added") == 1 and actions.count("watcher removed") == 1


def test_a_requester_can_t_add_watchers_nor_be_added_to_a_ticket_they_can_t_read(
    employee, employee2, tier1
):
    from django.core.exceptions import PermissionDenied, ValidationError

    ticket = desk_factories.ticket(employee)
    with pytest.raises(PermissionDenied):
        watchers.add_watcher(ticket=ticket, by=employee, person=tier1)
    with pytest.raises(ValidationError):
        watchers.add_watcher(ticket=ticket, by=tier1, person=employee2)
    assert not Watcher.objects.filter(ticket=ticket).exists()

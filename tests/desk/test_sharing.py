"""desk.services.share_ticket / unshare_ticket: who may, what is written, what changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests.desk import factories as desk_factories
from tests.people.factories import UserFactory
from tierline.core.history import history_of
from tierline.desk import permissions as perms
from tierline.desk import services

pytestmark = pytest.mark.django_db


def test_share_and_unshare_write_one_history_entry_each(employee, employee2):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    first = services.share_ticket(ticket=ticket, by=employee, colleague=employee2)
    again = services.share_ticket(ticket=ticket, by=employee, colleague=employee2)
    # then: shared once, one entry, and the colleague reads it as a requester
    assert (first, again) == (True, False)
    assert perms.can_read_ticket(employee2, ticket)
    assert not perms.internal_visible(employee2, ticket)
    assert [e.action for e in history_of(ticket).filter(field="shared_with")] == ["shared"]
    # when
    removed = services.unshare_ticket(ticket=ticket, by=employee, colleague=employee2)
    removed_again = services.unshare_ticket(ticket=ticket, by=employee, colleague=employee2)
    # then
    assert (removed, removed_again) == (True, False)
    employee2 = type(employee2).objects.get(pk=employee2.pk)  # no cached shared ids
    assert not perms.can_read_ticket(employee2, ticket)
    assert [e.action for e in history_of(ticket).filter(field="shared_with")] == [
        "shared",
        "unshared",
    ]


@pytest.mark.parametrize("who", ["tier1", "lead", "employee2"])
def test_only_the_requester_shares(request, employee, employee2, who):
    # given: the desk and a colleague it is shared with
    ticket = desk_factories.ticket(employee)
    ticket.shared_with.add(employee2)
    actor = request.getfixturevalue(who)
    third = UserFactory(username="third")
    # when / then
    with pytest.raises(PermissionDenied):
        services.share_ticket(ticket=ticket, by=actor, colleague=third)
    with pytest.raises(PermissionDenied):
        services.unshare_ticket(ticket=ticket, by=actor, colleague=employee2)
    assert list(ticket.shared_with.all()) == [employee2]
    assert not history_of(ticket).filter(field="shared_with").exists()


def test_sharing_with_oneself_or_someone_who_cannot_sign_in_is_refused(employee):
    ticket = desk_factories.ticket(employee)
    gone = UserFactory(username="gone", is_active=False)
    for colleague in (employee, gone):
        with pytest.raises(ValidationError):
            services.share_ticket(ticket=ticket, by=employee, colleague=colleague)
    assert not ticket.shared_with.exists()

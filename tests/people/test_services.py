"""Changes to the directory: system users for the integrations."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from tests.people.factories import UserFactory
from tierline.core import batch
from tierline.people import services
from tierline.people.models import User

pytestmark = pytest.mark.django_db


def test_a_system_user_is_made_once_and_cannot_sign_in(client):
    # given no system user yet
    assert not User.objects.filter(is_system=True).exists()
    # when the scheduler asks for its own twice
    first = services.system_user("scheduler")
    again = services.system_user("scheduler")
    # then there is one, marked as a system user, who can't sign in
    assert first.pk == again.pk
    assert first.username == "tierline-scheduler"
    assert first.is_system and not first.is_active
    assert not first.has_usable_password()
    assert str(first) == "Tierline scheduler"
    response = client.post(reverse("login"), {"username": "tierline-scheduler", "password": ""})
    assert response.status_code == 200  # the form again, not a redirect into the desk
    assert "_auth_user_id" not in client.session


def test_each_integration_has_its_own_system_user():
    users = {key: services.system_user(key) for key in services.SYSTEM_USERS}
    assert len({u.pk for u in users.values()}) == len(services.SYSTEM_USERS)


def test_an_unknown_integration_is_refused_with_the_known_ones_named():
    with pytest.raises(ValueError, match="Unknown system user 'robot'; known: scheduler"):
        services.system_user("robot")


def test_a_person_who_took_the_username_is_not_made_a_system_user():
    # given a real person called tierline-mail
    person = UserFactory(username="tierline-mail")
    # when mail asks for its system user
    with pytest.raises(ValueError, match="taken by a person"):
        services.system_user("mail")
    # then the person is unchanged
    person.refresh_from_db()
    assert not person.is_system


def test_a_requester_from_email_is_made_once_per_address():
    # when two first mails come from one address, in two cases
    first = services.requester_from_email(address="Jo.Doe@Example.com", name="Jo  Doe")
    again = services.requester_from_email(address="jo.doe@example.com", name="Jo")
    # then one requester, named as the From said, who has no password yet
    assert first.pk == again.pk
    assert (first.first_name, first.last_name) == ("Jo", "Doe")
    assert first.role == User.Role.REQUESTER and not first.has_usable_password()
    assert first.username == "jo.doe@example.com"


def test_a_requester_from_email_gets_a_free_username():
    UserFactory(username="sam@example.com", email="other@example.com")
    person = services.requester_from_email(address="sam@example.com")
    assert person.username == "sam@example.com-2"


def test_a_requester_from_email_needs_an_address():
    with pytest.raises(ValidationError, match="is not an email address"):
        services.requester_from_email(address="not an address")


def test_in_a_batch_a_system_user_is_read_once(django_assert_num_queries):
    made = services.system_user("sla")
    with batch.scope(), django_assert_num_queries(1):
        assert services.system_user("sla") == made
        assert services.system_user("sla") == made


def test_a_system_user_made_in_a_savepoint_that_rolls_back_is_not_remembered_by_the_batch():
    with batch.scope(), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            services.system_user("assets")
            raise RuntimeError("the message's savepoint rolls back")
        assert not User.objects.filter(username="tierline-assets").exists()
        again = services.system_user("assets")
        assert User.objects.filter(pk=again.pk, is_system=True).exists()

"""The person's page in Django's admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_dates_django_sets_are_shown_not_offered_as_unlabelled_boxes(
    client, admin_user, employee
):
    # given
    client.force_login(admin_user)
    # when
    html = client.get(reverse("admin:people_user_change", args=[employee.pk])).content.decode()
    # then: the split date/time boxes (no label for either, axe "label") are gone; the dates show
    assert 'name="date_joined_0"' not in html and 'name="last_login_0"' not in html
    assert "Date joined" in html and "Last login" in html

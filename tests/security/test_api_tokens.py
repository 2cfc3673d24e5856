"""API tokens are stored as hashes, shown once, can expire and be revoked (issue 8, point 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tierline.core.history import history_of
from tierline.core.models import ApiToken
from tierline.core.tokens import digest, issue_token, revoke_token

pytestmark = pytest.mark.django_db


def get_tickets(key: str):
    return APIClient().get("/api/v1/tickets/", HTTP_AUTHORIZATION=f"Token {key}")


def test_api_tokens_are_stored_only_as_a_hash(employee):
    # given a new token
    token, key = issue_token(user=employee, name="report script")
    # when the database is read as a thief would
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608
        rows = cursor.fetchall()
    # then the key is nowhere in it, only its digest and first characters
    dump = repr(rows)
    assert key not in dump
    assert digest(key) in dump
    assert key.startswith(token.prefix) and len(token.prefix) < len(key) // 3
    assert get_tickets(key).status_code == 200


def test_a_revoked_token_signs_no_one_in_and_the_revocation_is_recorded(employee, admin_user):
    token, key = issue_token(user=employee)
    revoke_token(token=token, by=admin_user)
    revoke_token(token=token, by=admin_user)  # twice changes nothing
    response = get_tickets(key)
    assert response.status_code == 401
    assert response.json()["detail"] == "This token was revoked."
    assert [e.action for e in history_of(token)] == ["issued", "revoked"]


def test_an_expired_token_signs_no_one_in(employee):
    token, key = issue_token(user=employee, expires_at=timezone.now() + timedelta(days=1))
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = get_tickets(key)
    assert response.status_code == 401
    assert response.json()["detail"] == "This token has expired."


def test_a_token_cannot_be_issued_already_expired(employee):
    with pytest.raises(ValueError, match="expire in the future"):
        issue_token(user=employee, expires_at=timezone.now() - timedelta(days=1))
    assert not ApiToken.objects.exists()


def test_an_administrator_revokes_a_token_on_the_persons_page(client, admin_user, employee):
    # given two tokens of one person
    keep, keep_key = issue_token(user=employee, name="keep")
    stop, stop_key = issue_token(user=employee, name="stop")
    client.force_login(admin_user)
    url = reverse("admin:people_user_change", args=[employee.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "API tokens" in html and stop.prefix in html
    assert stop_key not in html and keep_key not in html
    # when the administrator ticks Revoke on one and saves the person
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and not isinstance(value, list | tuple)
    }
    data.update(
        {
            "username": employee.username,
            "role": employee.role,
            "date_joined_0": employee.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": employee.date_joined.strftime("%H:%M:%S"),
            "is_active": "on",
        }
    )
    prefix = "api_tokens"
    tokens = list(ApiToken.objects.filter(user=employee))
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(len(tokens)),
            f"{prefix}-INITIAL_FORMS": str(len(tokens)),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    )
    for i, token in enumerate(tokens):
        data[f"{prefix}-{i}-id"] = str(token.pk)
        data[f"{prefix}-{i}-user"] = str(employee.pk)
        if token.pk == stop.pk:
            data[f"{prefix}-{i}-revoke"] = "on"
    response = client.post(url, data)
    # then only that token stops working
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert get_tickets(stop_key).status_code == 401
    assert get_tickets(keep_key).status_code == 200

"""Fixtures for every test: the people of a small help desk."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory, technician
from tierline.people.models import User


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def employee(db) -> User:
    return UserFactory(username="employee", first_name="Erin", last_name="Employee")


@pytest.fixture
def employee2(db) -> User:
    return UserFactory(username="employee2", first_name="Omar", last_name="Other")


@pytest.fixture
def tier1(db) -> User:
    return technician(1, username="tier1", first_name="Tess", last_name="One")


@pytest.fixture
def tier2(db) -> User:
    return technician(2, username="tier2", first_name="Theo", last_name="Two")


@pytest.fixture
def tier3(db) -> User:
    return technician(3, username="tier3", first_name="Thea", last_name="Three")


@pytest.fixture
def lead(db) -> User:
    return UserFactory(username="lead", role=User.Role.LEAD, first_name="Lee", last_name="Lead")


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="admin", role=User.Role.ADMIN, is_staff=True, is_superuser=True)

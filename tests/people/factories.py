"""Factories for the directory: people, departments, locations, teams."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from tierline.people.models import Department, Location, Team, User


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Department {n}")


class LocationFactory(DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Site {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = User.Role.REQUESTER
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        if create and extracted:
            self.teams.set(extracted)


def team(tier: int) -> Team:
    """The default team of a tier (created by the migrations)."""
    return Team.objects.get(tier=tier, is_tier_default=True)


def technician(tier: int, **kwargs) -> User:
    return UserFactory(role=User.Role.TECHNICIAN, teams=[team(tier)], **kwargs)


def restricted_team(tier: int = 2, name: str = "HR Systems", members: tuple = ()) -> Team:
    """A team whose tickets only its members, leads and administrators read (HR, security)."""
    team, _ = Team.objects.get_or_create(name=name, defaults={"tier": tier, "is_restricted": True})
    team.members.add(*members)
    return team

"""What the people API shows: the directory (for the help desk) and the teams."""

from __future__ import annotations

from rest_framework import serializers

from tierline.core.api import OutputSerializer
from tierline.people.models import Team, User


def _email() -> serializers.CharField:
    # Not `format: email`: a person or team without an address has "".
    return serializers.CharField(
        read_only=True, help_text="Email address; empty when there is none."
    )


class PersonSerializer(OutputSerializer):
    """One person of the directory, as the help desk looks them up (say, for a call)."""

    name = serializers.SerializerMethodField()
    department = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    location = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    email = _email()
    teams = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "role",
            "job_title",
            "department",
            "location",
            "desk",
            "teams",
        ]
        read_only_fields = fields

    def get_name(self, person: User) -> str:
        return str(person)


class TeamSerializer(OutputSerializer):
    email = _email()

    class Meta:
        model = Team
        fields = ["id", "name", "tier", "description", "is_tier_default", "email"]
        read_only_fields = fields

"""The people API: the directory (help desk only) and the teams that work tickets."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets

from tierline.core.api import IsStaffMember
from tierline.core.text import normalise_text
from tierline.people.api.serializers import PersonSerializer, TeamSerializer
from tierline.people.models import Team, User
from tierline.people.queries import search_people


@extend_schema_view(
    list=extend_schema(
        operation_id="list_people",
        summary="Search the directory",
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, description="Words of a name, email or phone number."
            )
        ],
    ),
    retrieve=extend_schema(operation_id="get_person", summary="Read one person"),
)
@extend_schema(tags=["people"])
class PersonViewSet(viewsets.ReadOnlyModelViewSet):
    """Active people of the directory; for the help desk only."""

    serializer_class = PersonSerializer
    permission_classes = [permissions.IsAuthenticated, IsStaffMember]
    filter_backends: list = []
    queryset = User.objects.none()

    def get_queryset(self) -> QuerySet[User]:
        qs = (
            User.objects.filter(is_active=True)
            .select_related("department", "location")
            .prefetch_related("teams")
        )
        try:
            typed = normalise_text(
                self.request.query_params.get("q", ""), label="The search", multiline=False
            )
        except ValidationError as refused:
            raise serializers.ValidationError({"q": refused.messages}) from None
        if text := typed.strip()[:200]:
            qs = search_people(qs, text)
        return qs


@extend_schema_view(
    list=extend_schema(operation_id="list_teams", summary="List the teams (tiers)"),
    retrieve=extend_schema(operation_id="get_team", summary="Read one team"),
)
@extend_schema(tags=["teams"])
class TeamViewSet(viewsets.ReadOnlyModelViewSet):
    """The teams that work tickets, by tier."""

    serializer_class = TeamSerializer
    queryset = Team.objects.all()
    filter_backends: list = []

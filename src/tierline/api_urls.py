"""Everything under /api/v1/."""

from django.urls import include, path

urlpatterns = [
    path("", include("tierline.desk.api.urls")),
    path("", include("tierline.people.api.urls")),
    path("", include("tierline.sla.api.urls")),
    path("", include("tierline.assets.api.urls")),
    path("", include("tierline.changes.api.urls")),
]

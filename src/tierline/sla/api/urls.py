"""Service-target routes under /api/v1/."""

from django.urls import path

from tierline.sla.api.views import DueSoonView

urlpatterns = [path("sla/due/", DueSoonView.as_view(), name="api-sla-due")]

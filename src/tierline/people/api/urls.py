"""People routes under /api/v1/."""

from rest_framework.routers import SimpleRouter

from tierline.people.api import views

router = SimpleRouter()
router.register("people", views.PersonViewSet, basename="api-person")
router.register("teams", views.TeamViewSet, basename="api-team")
urlpatterns = router.urls

"""Change routes under /api/v1/."""

from rest_framework.routers import SimpleRouter

from tierline.changes.api import views

router = SimpleRouter()
router.register("changes", views.ChangeViewSet, basename="api-change")
urlpatterns = router.urls

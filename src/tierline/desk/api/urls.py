"""Desk routes under /api/v1/."""

from rest_framework.routers import SimpleRouter

from tierline.desk.api import views

router = SimpleRouter()
router.register("tickets", views.TicketViewSet, basename="api-ticket")
router.register("categories", views.CategoryViewSet, basename="api-category")
router.register("work-orders", views.WorkOrderViewSet, basename="api-work-order")
router.register("calls", views.CallViewSet, basename="api-call")
urlpatterns = router.urls

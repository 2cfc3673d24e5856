from django.urls import path

from tierline.changes import views

app_name = "changes"

urlpatterns = [
    path("", views.change_list, name="list"),
    path("new", views.change_create, name="create"),
    path("calendar/", views.change_calendar, name="calendar"),
    path("<int:pk>/", views.change_detail, name="detail"),
    path("<int:pk>/edit", views.change_edit, name="edit"),
    path("<int:pk>/move", views.change_move, name="move"),
    path("<int:pk>/approvals/<int:approval_pk>", views.approval_decide, name="decide"),
    path("<int:pk>/tickets", views.change_link_ticket, name="link_ticket"),
    path("<int:pk>/assets", views.change_link_asset, name="link_asset"),
]

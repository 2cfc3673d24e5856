from django.urls import path

from tierline.sla import views

app_name = "sla"

urlpatterns = [
    path("oncall/", views.oncall, name="oncall"),
    path("intake/", views.intake, name="intake"),
    path("teams/<str:team_id>/rota.ics", views.rota_ics, name="rota_ics"),
]

from django.urls import path

from tierline.assist import views, views_answers

app_name = "assist"

urlpatterns = [
    path("suggestions/<str:pk>/<str:verb>/", views.decide, name="decide"),
    path("wording/<str:number>/", views.check_wording, name="check_wording"),
    path("duplicates/<str:pk>/<str:verb>/", views.decide_duplicate, name="duplicate"),
    path("similar/<str:number>/", views_answers.similar, name="similar"),
    path("deflection/", views_answers.deflection_report, name="deflection"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<str:pk>/", views.incident, name="incident"),
    path("incidents/<str:pk>/<str:verb>/", views.decide_incident, name="incident_decide"),
]

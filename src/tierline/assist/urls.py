from django.urls import path

from tierline.assist import views

app_name = "assist"

urlpatterns = [
    path("suggestions/<str:pk>/<str:verb>/", views.decide, name="decide"),
    path("wording/<str:number>/", views.check_wording, name="check_wording"),
]

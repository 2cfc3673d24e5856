from django.urls import path

from tierline.assets import views

app_name = "assets"

urlpatterns = [
    path("", views.asset_list, name="list"),
    path("<int:pk>/", views.asset_detail, name="detail"),
    path("<int:pk>/status", views.asset_status, name="status"),
    path("<int:pk>/tickets", views.asset_link_ticket, name="link_ticket"),
]

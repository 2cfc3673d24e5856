from django.urls import path

from tierline.mail import views

app_name = "mail"

urlpatterns = [
    path("emails/<int:pk>/", views.original, name="original"),
    path("emails/<int:pk>.eml", views.eml, name="eml"),
]

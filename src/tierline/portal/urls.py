"""The requester portal under /portal/."""

from django.urls import path

from tierline.portal import help, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new, name="new"),
    path("tickets/<str:number>/", views.detail, name="ticket"),
    path("tickets/<str:number>/do/<slug:action>/", views.action, name="ticket_action"),
    path("help/", help.help_home, name="help"),
    path("help/<str:pk>/", help.help_article, name="help_article"),
    path("help/<str:pk>/feedback/", help.help_feedback, name="help_feedback"),
]

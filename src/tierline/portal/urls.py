"""The requester portal under /portal/."""

from django.urls import path

from tierline.knowledge import views_guides
from tierline.portal import help, suggest, views

app_name = "portal"
PORTAL = {"where": views_guides.PORTAL}
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.new, name="new"),
    path("new/might-solve/", suggest.might_solve, name="might_solve"),
    path("new/solved/", suggest.solved, name="solved"),
    path("tickets/<str:number>/", views.detail, name="ticket"),
    path("tickets/<str:number>/do/<slug:action>/", views.action, name="ticket_action"),
    path("help/", help.help_home, name="help"),
    # Troubleshooting guides (the knowledge app's runner, public guides only); before help/<pk>/.
    path("help/guides/<str:pk>/run/", views_guides.guide_start, PORTAL, name="guide_start"),
    path("help/guides/runs/<str:pk>/", views_guides.guide_run, PORTAL, name="guide_run"),
    path(
        "help/guides/runs/<str:pk>/answer/",
        views_guides.guide_answer,
        PORTAL,
        name="guide_answer",
    ),
    path("help/guides/runs/<str:pk>/back/", views_guides.guide_back, PORTAL, name="guide_back"),
    path(
        "help/guides/runs/<str:pk>/restart/",
        views_guides.guide_restart,
        PORTAL,
        name="guide_restart",
    ),
    path("help/<str:pk>/", help.help_article, name="help_article"),
    path("help/<str:pk>/feedback/", help.help_feedback, name="help_feedback"),
]

from django.urls import path

from tierline.knowledge import views, views_guides
from tierline.knowledge.search import views as search_views

app_name = "knowledge"
DESK = {"where": views_guides.DESK}

urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_new, name="new"),
    path("search/", search_views.search, name="search"),
    # Troubleshooting guides, run by the help desk (the portal's are under /portal/help/guides/).
    path("guides/", views_guides.guide_list, name="guides"),
    path("guides/<str:pk>/run/", views_guides.guide_start, DESK, name="guide_start"),
    path("guides/runs/<str:pk>/", views_guides.guide_run, DESK, name="guide_run"),
    path("guides/runs/<str:pk>/answer/", views_guides.guide_answer, DESK, name="guide_answer"),
    path("guides/runs/<str:pk>/back/", views_guides.guide_back, DESK, name="guide_back"),
    path("guides/runs/<str:pk>/restart/", views_guides.guide_restart, DESK, name="guide_restart"),
    path("guides/runs/<str:pk>/write/", views_guides.guide_write, name="guide_write"),
    # Before "<pk>/": a ticket's links are "tickets/TL-…/…".
    path("tickets/<str:number>/link/", views.ticket_link, name="ticket_link"),
    path("tickets/<str:number>/unlink/<str:pk>/", views.ticket_unlink, name="ticket_unlink"),
    path("<str:pk>/", views.article_detail, name="article"),
    path("<str:pk>/edit/", views.article_edit, name="edit"),
    path("<str:pk>/history/", views.article_history, name="history"),
    path("<str:pk>/versions/<str:number>/", views.article_version, name="version"),
    path("<str:pk>/versions/<str:number>/restore/", views.article_restore, name="restore"),
    path("<str:pk>/feedback/", views.article_feedback, name="feedback"),
]

from django.urls import path

from tierline.knowledge import views
from tierline.knowledge.search import views as search_views

app_name = "knowledge"

urlpatterns = [
    path("", views.article_list, name="list"),
    path("new/", views.article_new, name="new"),
    path("search/", search_views.search, name="search"),
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

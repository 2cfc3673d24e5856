from django.urls import path

from tierline.mail import views

app_name = "mail"

urlpatterns = [
    path("emails/<int:pk>/", views.original, name="original"),
    path("emails/<int:pk>.eml", views.eml, name="eml"),
    path("emails/<int:pk>/images/<int:number>/", views.inline_image, name="inline_image"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/count/", views.inbox_count, name="inbox_count"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("inbox/<int:pk>/", views.inbox_open, name="inbox_open"),
    path("inbox/preferences/", views.preferences, name="preferences"),
    path("tickets/<str:number>/watchers/", views.ticket_watchers, name="ticket_watchers"),
]

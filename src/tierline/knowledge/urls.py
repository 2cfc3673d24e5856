from django.urls import path

from tierline.knowledge.views import search

app_name = "knowledge"

urlpatterns = [
    path("search/", search.search, name="search"),
]

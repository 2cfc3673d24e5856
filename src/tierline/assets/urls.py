from django.urls import path

from tierline.assets import views

app_name = "assets"

urlpatterns = [
    path("", views.asset_list, name="list"),
    path("export.csv", views.asset_export, name="export"),
    path("board/", views.status_board, name="board"),
    path("changes/", views.estate_changes, name="changes"),
    path("import/", views.import_upload, name="import"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_preview, name="import_preview"),
    path("import/<int:pk>/apply", views.import_apply, name="import_apply"),
    path("<int:pk>/", views.asset_detail, name="detail"),
    path("<int:pk>/status", views.asset_status, name="status"),
    path("<int:pk>/tickets", views.asset_link_ticket, name="link_ticket"),
]

from django.urls import path

from tierline.assets import (
    compliance_views,
    report_views,
    views,
    views_diagnostics,
    views_relations,
)

app_name = "assets"

urlpatterns = [
    path("", views.asset_list, name="list"),
    path("export.csv", views.asset_export, name="export"),
    path("board/", views.status_board, name="board"),
    path("changes/", views.estate_changes, name="changes"),
    path("compliance/", compliance_views.compliance_report, name="compliance"),
    path("compliance/export.csv", compliance_views.compliance_export, name="compliance_export"),
    path("reports/", report_views.estate_report, name="reports"),
    path("reports/estate.csv", report_views.estate_report_csv, name="report_csv"),
    path("reports/estate.pdf", report_views.estate_report_pdf, name="report_pdf"),
    path("labels.pdf", report_views.asset_labels, name="labels"),
    path("import/", views.import_upload, name="import"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_preview, name="import_preview"),
    path("import/<int:pk>/apply", views.import_apply, name="import_apply"),
    path("<int:pk>/", views.asset_detail, name="detail"),
    path("<int:pk>/status", views.asset_status, name="status"),
    path("<int:pk>/tickets", views.asset_link_ticket, name="link_ticket"),
    path("<int:pk>/diagnostics", views_diagnostics.asset_diagnostic, name="diagnostic"),
    path("<int:pk>/relations", views_relations.relation_add, name="relation_add"),
    path("<int:pk>/relations/remove", views_relations.relation_remove, name="relation_remove"),
]

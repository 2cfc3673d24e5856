"""Asset and agent routes under /api/v1/."""

from django.urls import path

from tierline.assets.api.diagnostics import DiagnosticResultView, PendingDiagnosticsView
from tierline.assets.api.views import (
    AssetList,
    EnrolView,
    ReportView,
    SystemChangeList,
    UnchangedReportView,
)

urlpatterns = [
    path("assets/", AssetList.as_view(), name="api-assets"),
    path("system-changes/", SystemChangeList.as_view(), name="api-system-changes"),
    path("agent/enrol", EnrolView.as_view(), name="api-agent-enrol"),
    path("agent/report", ReportView.as_view(), name="api-agent-report"),
    path(
        "agent/report/unchanged", UnchangedReportView.as_view(), name="api-agent-report-unchanged"
    ),
    path("agent/diagnostics", PendingDiagnosticsView.as_view(), name="api-agent-diagnostics"),
    path(
        "agent/diagnostics/<int:pk>/result",
        DiagnosticResultView.as_view(),
        name="api-agent-diagnostic-result",
    ),
]

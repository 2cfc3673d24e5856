"""The technician workspace under /desk/."""

from django.urls import path

from tierline.desk.views import calls, queue, reports, ticket, work_orders

app_name = "desk"
urlpatterns = [
    # queues and lists (views/queue.py)
    path("", queue.queue, name="queue"),
    path("export.csv", queue.export_csv, name="queue_export"),
    path("bulk/", queue.bulk, name="bulk"),
    path("views/save/", queue.save_view, name="save_view"),
    path("views/<int:pk>/delete/", queue.delete_view, name="delete_view"),
    path("search/", queue.search, name="search"),
    path("canned/", ticket.canned_options, name="canned_options"),
    # one ticket (views/ticket.py)
    path("tickets/new/", ticket.create, name="ticket_create"),
    path("tickets/<str:number>/", ticket.detail, name="ticket"),
    path("tickets/<str:number>/do/<slug:action>/", ticket.action, name="ticket_action"),
    path("files/<int:pk>/", ticket.download, name="attachment"),
    path("files/<int:pk>/preview/", ticket.preview, name="attachment_preview"),
    # calls (views/calls.py)
    path("calls/", calls.call_list, name="calls"),
    path("calls/new/", calls.call_new, name="call_new"),
    path("calls/report/", calls.call_report, name="call_report"),
    path("calls/report.csv", calls.call_report_csv, name="call_report_csv"),
    path("people/lookup/", calls.person_lookup, name="person_lookup"),
    # work orders (views/work_orders.py)
    path("work-orders/", work_orders.day_list, name="work_orders"),
    path("tickets/<str:number>/work-orders/new/", work_orders.create, name="work_order_create"),
    path("work-orders/<str:number>/", work_orders.detail, name="work_order"),
    path(
        "work-orders/<str:number>/do/<slug:action>/", work_orders.action, name="work_order_action"
    ),
    # reports (views/reports.py)
    path("reports/escalations/", reports.escalation_report, name="escalation_report"),
    path("sidebar/", reports.sidebar, name="sidebar"),
]

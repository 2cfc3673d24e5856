"""Work orders: open one for a ticket, a technician's day of visits, one visit and its actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tierline.core.errors import StaleEdit
from tierline.core.history import history_of
from tierline.core.inputs import parse_date, parse_id
from tierline.core.sanitise import render_text
from tierline.desk import lists, services
from tierline.desk import permissions as perms
from tierline.desk.forms_lists import (
    WorkOrderCancelForm,
    WorkOrderCompleteForm,
    WorkOrderForm,
    WorkOrderUpdateForm,
    checklist_from_lines,
)
from tierline.desk.models import Ticket, WorkOrder
from tierline.desk.views.queue import error_text, staff_required
from tierline.people import queries as directory

VISITS_A_DAY = 200  # more than anyone visits in a day; the day list has no pages

_FIELDS = (
    "technician",
    "scheduled_start",
    "scheduled_end",
    "location",
    "desk",
    "device",
    "instructions",
)


def _add_service_errors(form: Form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(key if key in form.fields else None, error)
    else:
        form.add_error(None, error_text(exc))


def _work_order_for(user: Any, number: str) -> WorkOrder:
    """The work order if the user may see its ticket or is its technician; 404 otherwise."""
    wo = (
        WorkOrder.objects.select_related(
            "ticket", "ticket__requester", "location", "technician", "created_by"
        )
        .filter(number=number)
        .first()
    )
    if wo is None or not perms.can_read_work_order(user, wo):
        raise Http404("No such work order.")
    return wo


# --- create ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def create(request: HttpRequest, number: str) -> HttpResponse:
    ticket = perms.ticket_for(
        request.user, number, Ticket.objects.select_related("requester", "requester__location")
    )
    if not perms.can_open_work_order(request.user, ticket):
        return _render_create(request, ticket, None, refused=True, status=403)
    if request.method == "GET":
        start = (timezone.localtime() + timedelta(hours=1)).replace(
            minute=0, second=0, microsecond=0
        )
        form = WorkOrderForm(
            initial={
                "technician": request.user,
                "scheduled_start": start,
                "scheduled_end": start + timedelta(hours=1),
                "location": ticket.requester.location,
                "desk": ticket.requester.desk,
            }
        )
        return _render_create(request, ticket, form)
    form = WorkOrderForm(request.POST)
    if not form.is_valid():
        return _render_create(request, ticket, form, status=400)
    data = form.cleaned_data
    try:
        wo = services.create_work_order(
            ticket=ticket,
            by=request.user,
            technician=data["technician"],
            scheduled_start=data["scheduled_start"],
            scheduled_end=data["scheduled_end"],
            location=data["location"],
            desk=data["desk"],
            device=data["device"],
            instructions=data["instructions"],
            checklist=checklist_from_lines(data["checklist"]),
        )
    except ValidationError as exc:
        _add_service_errors(form, exc)
        return _render_create(request, ticket, form, status=400)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return _render_create(request, ticket, None, refused=True, status=403)
    when = timezone.localtime(wo.scheduled_start)
    messages.success(
        request,
        f"Work order {wo.number} for {ticket.number}: {wo.technician} visits "
        f"{when:%a %d %b %H:%M}.",
    )
    return redirect("desk:work_order", number=wo.number)


def _render_create(
    request: HttpRequest,
    ticket: Ticket,
    form: WorkOrderForm | None,
    *,
    refused: bool = False,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "desk/work_order_form.html",
        {"ticket": ticket, "form": form, "refused": refused},
        status=status,
    )


# --- the day list ---------------------------------------------------------------------------


@require_GET
@staff_required
def day_list(request: HttpRequest) -> HttpResponse:
    """One technician's visits on one day; leads may look at anyone's."""
    day = parse_date(request.GET.get("date", "")) or timezone.localdate()
    technician = request.user
    technicians: list = []
    if perms.sees_everything(request.user):
        technicians = list(directory.staff_people().order_by("first_name", "last_name", "username"))
        wanted = request.GET.get("technician", "")
        wanted_id = parse_id(wanted)
        if wanted_id is not None:
            technician = next((t for t in technicians if t.pk == wanted_id), technician)
    # One technician's day of the work-order list (desk/lists.py): its visibility, its order,
    # and a page as long as a day can be.
    visits_of_day, _ = lists.WORK_ORDERS.filter(
        request.user,
        {"date": day.isoformat(), "sort": "scheduled"},
        scope=WorkOrder.objects.filter(technician=technician),
    )
    # One query, not ids first: a day is one short page, with no rows to skip.
    visits = list(
        visits_of_day.select_related("ticket", "ticket__requester", "location")[:VISITS_A_DAY]
    )
    return render(
        request,
        "desk/work_orders.html",
        {
            "day": day,
            "previous": day - timedelta(days=1),
            "next": day + timedelta(days=1),
            "today": timezone.localdate(),
            "visits": visits,
            "technician": technician,
            "technicians": technicians,
        },
    )


# --- one work order -------------------------------------------------------------------------


def _update_initial(wo: WorkOrder) -> dict:
    return {
        **{name: getattr(wo, name) for name in _FIELDS},
        "checklist": "\n".join(item["text"] for item in wo.checklist or []),
        "version": wo.version,
    }


def _render_detail(
    request: HttpRequest, wo: WorkOrder, *, status: int = 200, **forms: Form
) -> HttpResponse:
    forms.setdefault("update_form", WorkOrderUpdateForm(initial=_update_initial(wo)))
    forms.setdefault(
        "complete_form",
        WorkOrderCompleteForm(
            work_order=wo,
            initial={
                "version": wo.version,
                "signoff_name": str(wo.ticket.requester),
                "done": [i for i, item in enumerate(wo.checklist or []) if item.get("done")],
            },
        ),
    )
    forms.setdefault("cancel_form", WorkOrderCancelForm())
    finished = wo.status in (WorkOrder.Status.DONE, WorkOrder.Status.CANCELLED)
    return render(
        request,
        "desk/work_order.html",
        {
            "wo": wo,
            "ticket": wo.ticket,
            "finished": finished,
            "can_change": perms.can_change_work_order(request.user, wo),
            # Stored text is cleaned by the services; cleaned again here so the page never relies
            # on every writer having done it.
            "instructions_html": render_text(wo.instructions),
            "outcome_html": render_text(wo.outcome),
            "history": list(history_of(wo)),
            **forms,
        },
        status=status,
    )


@require_GET
@staff_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    return _render_detail(request, _work_order_for(request.user, number))


@require_POST
@staff_required
def action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    wo = _work_order_for(request.user, number)
    handler = _ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    return handler(request, wo)


def _refused(
    request: HttpRequest, wo: WorkOrder, exc: ValidationError, form_name: str, form: Form
) -> HttpResponse:
    """Show a service's refusal on the page, with the form as it was filled in."""
    _add_service_errors(form, exc)
    messages.error(request, error_text(exc))
    wo = _work_order_for(request.user, wo.number)  # what is saved now, not what was tried
    return _render_detail(
        request, wo, status=409 if isinstance(exc, StaleEdit) else 400, **{form_name: form}
    )


def _update(request: HttpRequest, wo: WorkOrder) -> HttpResponse:
    form = WorkOrderUpdateForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, wo, status=400, update_form=form)
    data = form.cleaned_data
    changes = {name: data[name] for name in _FIELDS}
    changes["checklist"] = checklist_from_lines(data["checklist"], wo.checklist)
    try:
        services.update_work_order(
            work_order=wo, by=request.user, expected_version=data["version"], **changes
        )
    except ValidationError as exc:
        return _refused(request, wo, exc, "update_form", form)
    messages.success(request, f"Work order {wo.number} updated.")
    return redirect("desk:work_order", number=wo.number)


def _start(request: HttpRequest, wo: WorkOrder) -> HttpResponse:
    version = request.POST.get("version", "")
    try:
        services.update_work_order(
            work_order=wo,
            by=request.user,
            expected_version=parse_id(version),
            status=WorkOrder.Status.IN_PROGRESS,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("desk:work_order", number=wo.number)
    messages.success(request, f"Work order {wo.number} started.")
    return redirect("desk:work_order", number=wo.number)


def _complete(request: HttpRequest, wo: WorkOrder) -> HttpResponse:
    form = WorkOrderCompleteForm(request.POST, work_order=wo)
    if not form.is_valid():
        return _render_detail(request, wo, status=400, complete_form=form)
    data = form.cleaned_data
    try:
        services.complete_work_order(
            work_order=wo,
            by=request.user,
            outcome=data["outcome"],
            signoff_name=data["signoff_name"],
            time_spent_minutes=data["time_spent_minutes"],
            checklist=form.checklist(),
            expected_version=data["version"],
        )
    except ValidationError as exc:
        return _refused(request, wo, exc, "complete_form", form)
    messages.success(request, f"Work order {wo.number} done, signed off by {wo.signoff_name}.")
    return redirect("desk:work_order", number=wo.number)


def _cancel(request: HttpRequest, wo: WorkOrder) -> HttpResponse:
    form = WorkOrderCancelForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, wo, status=400, cancel_form=form)
    try:
        services.cancel_work_order(
            work_order=wo, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        return _refused(request, wo, exc, "cancel_form", form)
    messages.success(request, f"Work order {wo.number} cancelled.")
    return redirect("desk:work_order", number=wo.number)


_ACTIONS = {"update": _update, "start": _start, "complete": _complete, "cancel": _cancel}

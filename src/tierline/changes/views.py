"""The change pages for the help desk: the list, the calendar, a change's page, the form, and
the posts that move a change along. Thin: parse, call `changes.services`, render."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tierline.changes import queries, services
from tierline.changes.forms import (
    ChangeForm,
    DecisionForm,
    LinkAssetForm,
    LinkTicketForm,
    MoveForm,
)
from tierline.changes.models import ChangeApproval, ChangeRequest, Kind, Risk, Status
from tierline.core.paging import page_of
from tierline.desk import permissions as perms
from tierline.desk.views.queue import staff_required

SEARCH_MAX = 100


def _choice(request: HttpRequest, name: str, allowed: list[str]) -> str:
    value = request.GET.get(name) or ""
    return value if value in allowed else ""


@require_GET
@staff_required
def change_list(request: HttpRequest) -> HttpResponse:
    """Filters: text (number or title), status, kind, risk; ?sort=; paged by ids first."""
    queryset = queries.changes_for_list()
    q = (request.GET.get("q") or "").strip()[:SEARCH_MAX].replace("\x00", "")
    if q:
        queryset = queryset.filter(Q(number__iexact=q) | Q(title__icontains=q))
    status = _choice(request, "status", Status.values)
    kind = _choice(request, "kind", Kind.values)
    risk = _choice(request, "risk", Risk.values)
    if status:
        queryset = queryset.filter(status=status)
    if kind:
        queryset = queryset.filter(kind=kind)
    if risk:
        queryset = queryset.filter(risk=risk)
    sort = request.GET.get("sort") or queries.DEFAULT_ORDER
    if sort not in queries.ORDERS:
        sort = queries.DEFAULT_ORDER
    page = page_of(request, queryset.order_by(*queries.ORDERS[sort]))
    kept = request.GET.copy()
    kept.pop("page", None)
    unsorted = kept.copy()
    unsorted.pop("sort", None)
    return render(
        request,
        "changes/list.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "kind": kind,
            "risk": risk,
            "statuses": Status.choices,
            "kinds": Kind.choices,
            "risks": Risk.choices,
            "sort": sort,
            "filtered": bool(q or status or kind or risk),
            "query": kept.urlencode(),
            "unsorted": unsorted.urlencode(),
        },
    )


def _change(pk: int) -> ChangeRequest:
    change = queries.change_page(pk)
    if change is None:
        raise Http404("No such change.")
    return change


def _detail(
    request: HttpRequest,
    change: ChangeRequest,
    *,
    move_form: MoveForm | None = None,
    decision_form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    approvals = queries.approvals_of(change)
    mine = next(
        (a for a in approvals if a.approver_id == request.user.pk and a.decision == "pending"),
        None,
    )
    allowed = services.EMERGENCY_DECIDING if change.kind == Kind.EMERGENCY else services.DECIDING
    tickets = perms.visible_tickets(request.user).filter(pk__in=queries.linked_ticket_ids(change))
    moves = services.moves_for(change, request.user)
    return render(
        request,
        "changes/detail.html",
        {
            "change": change,
            "approvals": approvals,
            "my_approval": mine if change.status in allowed else None,
            "decision_form": decision_form or DecisionForm(),
            "moves": [(to, dict(MoveFormChoices)[to]) for to in moves],
            "move_form": move_form
            or MoveForm(
                initial={
                    "version": change.version,
                    "window_start": change.window_start,
                    "window_end": change.window_end,
                }
            ),
            "wants_window": Status.SCHEDULED in moves,
            "tickets": list(tickets.order_by("-created_at")[:50]),
            "assets": queries.linked_assets(change),
            "history": list(queries.history_for(change)[:200]),
            "editable": change.status == Status.DRAFT,
        },
        status=status,
    )


MoveFormChoices = [(str(v), str(label)) for v, label in MoveForm.base_fields["to"].choices]


@require_GET
@staff_required
def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _change(pk))


def _form_page(
    request: HttpRequest, form: ChangeForm, change: ChangeRequest | None, status: int = 200
) -> HttpResponse:
    return render(request, "changes/form.html", {"form": form, "change": change}, status=status)


def _put_back(form: ChangeForm, error: services.ChangeError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))


def _values(form: ChangeForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {name: data.get(name) for name in services.EDITABLE}


@require_http_methods(["GET", "POST"])
@staff_required
def change_create(request: HttpRequest) -> HttpResponse:
    form = ChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.create_change(
                by=request.user, approvers=form.cleaned_data["approvers"], **_values(form)
            )
        except services.ChangeError as error:
            _put_back(form, error)
        else:
            messages.success(request, f"{change.number} saved as a draft.")
            return redirect("changes:detail", pk=change.pk)
    return _form_page(request, form, None, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@staff_required
def change_edit(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(pk)
    if request.method == "GET":
        if change.status != Status.DRAFT:
            messages.error(request, "Only a draft is edited; this change has been submitted.")
            return redirect("changes:detail", pk=change.pk)
        return _form_page(request, ChangeForm(initial=ChangeForm.initial_for(change)), change)
    form = ChangeForm(request.POST)
    if form.is_valid():
        try:
            services.update_change(
                change=change,
                by=request.user,
                version=form.cleaned_data.get("version"),
                approvers=form.cleaned_data["approvers"],
                **_values(form),
            )
        except services.ChangeError as error:
            _put_back(form, error)
        else:
            return redirect("changes:detail", pk=change.pk)
    return _form_page(request, form, change, status=400)


@require_POST
@staff_required
def change_move(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _detail(request, change, move_form=form, status=400)
    data = form.cleaned_data
    to, note, version = data["to"], data.get("note") or "", data["version"]
    try:
        if to == Status.SUBMITTED:
            services.submit(change=change, by=request.user, version=version)
        elif to == Status.SCHEDULED:
            services.schedule(
                change=change,
                by=request.user,
                version=version,
                window_start=data.get("window_start"),
                window_end=data.get("window_end"),
            )
        elif to == Status.IN_PROGRESS:
            services.start(change=change, by=request.user, version=version, reason=note)
        elif to == Status.CANCELLED:
            services.cancel(change=change, by=request.user, version=version, reason=note)
        else:
            services.finish(
                change=change, by=request.user, version=version, outcome=to, result=note
            )
    except services.ChangeError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return _detail(request, change, move_form=form, status=400)
    return redirect("changes:detail", pk=change.pk)


@require_POST
@staff_required
def approval_decide(request: HttpRequest, pk: int, approval_pk: int) -> HttpResponse:
    """Only the approver's own approval is found: anyone else's answers 404."""
    change = _change(pk)
    approval = ChangeApproval.objects.filter(
        pk=approval_pk, change=change, approver=request.user
    ).first()
    if approval is None:
        raise Http404("No such approval of yours.")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, change, decision_form=form, status=400)
    try:
        services.decide(
            approval=approval,
            by=request.user,
            decision=form.cleaned_data["decision"],
            comment=form.cleaned_data.get("comment") or "",
        )
    except services.ChangeError as error:
        messages.error(request, str(error))
    return redirect("changes:detail", pk=change.pk)


@require_POST
@staff_required
def change_link_ticket(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(pk)
    form = LinkTicketForm(request.POST)
    number = (request.POST.get("ticket") or "").strip().upper()[:30]
    if not form.is_valid() or not number:
        messages.error(request, "Give a ticket number, like TL-000123.")
        return redirect("changes:detail", pk=change.pk)
    try:
        ticket = perms.ticket_for(request.user, number)
    except Http404:
        messages.error(request, f"No ticket “{number}” that you can read.")
        return redirect("changes:detail", pk=change.pk)
    services.link_ticket(change=change, ticket=ticket, by=request.user)
    return redirect("changes:detail", pk=change.pk)


@require_POST
@staff_required
def change_link_asset(request: HttpRequest, pk: int) -> HttpResponse:
    change = _change(pk)
    form = LinkAssetForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the asset's number (a positive whole number).")
        return redirect("changes:detail", pk=change.pk)
    try:
        services.link_asset(change=change, asset_id=form.cleaned_data["asset"], by=request.user)
    except services.ChangeError as error:
        messages.error(request, str(error))
    return redirect("changes:detail", pk=change.pk)


def _month(raw: str | None) -> tuple[int, int]:
    """?month=YYYY-MM; anything else (or a year out of range) is this month."""
    today = timezone.localdate()
    try:
        year_text, month_text = (raw or "").split("-")
        year, month = int(year_text), int(month_text)
        if 1900 <= year <= 2999 and 1 <= month <= 12:
            return year, month
    except ValueError:
        pass
    return today.year, today.month


@require_GET
@staff_required
def change_calendar(request: HttpRequest) -> HttpResponse:
    year, month = _month(request.GET.get("month"))
    previous = (year - (month == 1), 12 if month == 1 else month - 1)
    following = (year + (month == 12), 1 if month == 12 else month + 1)
    return render(
        request,
        "changes/calendar.html",
        {
            "first": date(year, month, 1),
            "days": queries.calendar_month(year, month),
            "previous": f"{previous[0]:04d}-{previous[1]:02d}",
            "following": f"{following[0]:04d}-{following[1]:02d}",
            "today": timezone.localdate(),
        },
    )

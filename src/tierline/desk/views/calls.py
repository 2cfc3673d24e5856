"""The call log: log a call, list calls, and the per-technician call report."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from tierline.core.csv_export import csv_response
from tierline.core.inputs import parse_id
from tierline.desk import lists, queries, services
from tierline.desk import permissions as perms
from tierline.desk.forms_lists import CallForm, DateRangeForm
from tierline.desk.models import Call, Ticket
from tierline.desk.views.queue import error_text, staff_required
from tierline.people import queries as directory

# Service error keys -> the form field that shows them.
_CALL_FIELDS = {
    "caller": "caller_lookup",
    "duration_seconds": "duration",
    "ticket": "ticket_number",
}


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the site's time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def _technician_scope(request: HttpRequest) -> tuple[Any, list]:
    """Whose calls: the signed-in person unless another technician (?technician=ID) or everyone
    ("all") is picked; the list holds only calls the user may read (perms.visible_calls), the
    same as the API's."""
    user = request.user
    wanted = request.GET.get("technician", "")
    technicians = list(directory.staff_people().order_by("first_name", "last_name", "username"))
    if wanted == "all":
        return None, technicians
    wanted_id = parse_id(wanted)
    if wanted_id is not None:
        chosen = next((t for t in technicians if t.pk == wanted_id), None)
        if chosen is not None:
            return chosen, technicians
    return user, technicians


def _visible_ticket(user, number: str) -> Ticket | None:
    number = number.strip().upper()
    if not number:
        return None
    pk = parse_id(number)
    if pk is not None:
        number = services.ticket_number(pk)
    return perms.visible_tickets(user).filter(number=number).first()


# --- log a call -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required
def call_new(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        initial: dict[str, Any] = {}
        ticket = _visible_ticket(request.user, request.GET.get("ticket", "")[:20])
        if ticket is not None and not perms.can_log_call(request.user, ticket):
            # Read only as a requester (their own restricted-team ticket): a plain call form.
            ticket = None
        if ticket is not None:
            initial = {
                "ticket_number": ticket.number,
                "outcome": Call.Outcome.EXISTING_TICKET,
                "caller": ticket.requester,
                "caller_lookup": str(ticket.requester),
            }
        ringing = _ringing(request)
        if ringing is not None:
            initial["caller_phone"] = ringing.phone
            if ringing.caller is not None and ticket is None:
                initial["caller"] = ringing.caller
                initial["caller_lookup"] = str(ringing.caller)
        form = CallForm(initial=initial)
        return _render_call_form(request, form, ticket=ticket, ringing=ringing)

    form = CallForm(request.POST)
    if not form.is_valid():
        return _render_call_form(request, form, status=400)
    data = form.cleaned_data
    ticket = None
    if data["outcome"] == Call.Outcome.EXISTING_TICKET and data["ticket_number"]:
        ticket = _visible_ticket(request.user, data["ticket_number"])
        if ticket is None:
            form.add_error(
                "ticket_number", f"There is no ticket {data['ticket_number']} you can see."
            )
            return _render_call_form(request, form, status=400)
    duration = data["duration"]
    try:
        call = services.log_call(
            by=request.user,
            outcome=data["outcome"],
            caller=data.get("caller"),
            caller_name=data["caller_name"],
            caller_phone=data["caller_phone"],
            started_at=timezone.now() - timedelta(seconds=min(duration, 24 * 3600)),
            duration_seconds=duration,
            notes=data["notes"],
            direction=data["direction"],
            ticket=ticket,
            subject=data["subject"],
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for key, errors in exc.message_dict.items():
                field = _CALL_FIELDS.get(key, key)
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            form.add_error(None, error_text(exc))
        return _render_call_form(request, form, status=400)
    except PermissionDenied as exc:
        form.add_error(None, str(exc) or "You are not allowed to do that.")
        return _render_call_form(request, form, status=403)
    if call.ticket is not None:
        verb = "opened" if call.outcome == Call.Outcome.NEW_TICKET else "added to"
        messages.success(request, f"Call logged and {verb} ticket {call.ticket.number}.")
        if perms.can_read_as_technician(request.user, call.ticket):
            return redirect("desk:ticket", number=call.ticket.number)
    else:
        messages.success(request, "Call logged as solved on the call.")
    return redirect("desk:calls")


def _ringing(request: HttpRequest) -> queries.Ringing | None:
    """?phone=: a phone system's screen pop (or the inbound-call API's `log_call_url`): who has
    that number, and their open tickets this technician may read. None without a usable number."""
    phone = request.GET.get("phone", "").strip()[:40]
    if not directory.looks_like_phone(phone):
        return None
    return queries.who_is_calling(phone, request.user)


def _render_call_form(
    request: HttpRequest,
    form: CallForm,
    *,
    ticket: Ticket | None = None,
    status: int = 200,
    ringing: queries.Ringing | None = None,
) -> HttpResponse:
    if form.is_bound:
        selected = getattr(form, "cleaned_data", {}).get("caller")
    else:
        selected = form.initial.get("caller")
    matches = list(form.matches)
    if selected is not None and selected not in matches:
        matches.insert(0, selected)
    return render(
        request,
        "desk/calls_new.html",
        {
            "form": form,
            "ticket": ticket,
            "matches": matches,
            "selected": selected,
            "ringing": ringing,
        },
        status=status,
    )


@require_GET
@staff_required
def person_lookup(request: HttpRequest) -> HttpResponse:
    """People matching the typed text, at most 10, as radio buttons: the call form's caller
    (?caller_lookup= or ?q=), or the new-ticket form's requester (?pick=requester_pick, the text
    in ?requester=)."""
    pick = "requester_pick" if request.GET.get("pick") == "requester_pick" else "caller"
    typed = request.GET.get("requester") if pick == "requester_pick" else None
    text = (typed or request.GET.get("caller_lookup") or request.GET.get("q") or "").strip()[:120]
    people = directory.people_matching(text, limit=10) if len(text) >= 2 else []
    return render(
        request,
        "desk/calls_people.html",
        {"matches": people, "lookup": text, "selected": None, "pick": pick},
    )


# --- list -----------------------------------------------------------------------------------


@require_GET
@staff_required
def call_list(request: HttpRequest) -> HttpResponse:
    technician, technicians = _technician_scope(request)
    range_form = DateRangeForm(request.GET, default_days=None)
    start, end = range_form.range()
    # Whose calls is this page's own choice (?technician= is an id or "all" here); the dates, the
    # visibility, the order and the paging are the call list's (desk/lists.py).
    scope = Call.objects.all() if technician is None else Call.objects.filter(technician=technician)
    params = {
        "start": start.isoformat() if start else "",
        "end": end.isoformat() if end else "",
        "sort": request.GET.get("sort", ""),
        "page": request.GET.get("page"),
    }
    page, _ = lists.CALLS.page(request.user, params, scope=scope)
    return render(
        request,
        "desk/calls.html",
        {
            "page": page,
            "calls": page.object_list,
            "range_form": range_form,
            "technician": technician,
            "technicians": technicians,
            "chosen": request.GET.get("technician", ""),
        },
    )


# --- report ---------------------------------------------------------------------------------


def _report_rows(request: HttpRequest) -> tuple[DateRangeForm, date, date, list[dict]]:
    """Calls, talk time and outcomes per technician per day: one aggregate query."""
    form = DateRangeForm(request.GET, default_days=7)
    start, end = form.range()
    low, high = _day_bounds(start, end)
    calls = perms.visible_calls(
        request.user, Call.objects.filter(started_at__gte=low, started_at__lt=high)
    )
    if not perms.sees_everything(request.user):
        calls = calls.filter(technician=request.user)
    rows = list(
        calls.annotate(day=TruncDate("started_at", tzinfo=timezone.get_current_timezone()))
        .values(
            "day",
            "technician_id",
            "technician__first_name",
            "technician__last_name",
            "technician__username",
        )
        .annotate(
            calls=Count("pk"),
            talk_seconds=Sum("duration_seconds"),
            solved=Count("pk", filter=Q(outcome=Call.Outcome.SOLVED)),
            new_ticket=Count("pk", filter=Q(outcome=Call.Outcome.NEW_TICKET)),
            existing_ticket=Count("pk", filter=Q(outcome=Call.Outcome.EXISTING_TICKET)),
        )
        .order_by("day", "technician__first_name", "technician__last_name", "technician_id")
    )
    for row in rows:
        full = f"{row['technician__first_name']} {row['technician__last_name']}".strip()
        row["technician"] = full or row["technician__username"]
        row["talk_seconds"] = row["talk_seconds"] or 0
        row["talk"] = _hms(row["talk_seconds"])
    return form, start, end, rows


def _hms(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@require_GET
@staff_required
def call_report(request: HttpRequest) -> HttpResponse:
    form, start, end, rows = _report_rows(request)
    totals = {
        key: sum(r[key] for r in rows)
        for key in ("calls", "talk_seconds", "solved", "new_ticket", "existing_ticket")
    }
    totals["talk"] = _hms(totals["talk_seconds"])
    return render(
        request,
        "desk/call_report.html",
        {
            "form": form,
            "start": start,
            "end": end,
            "rows": rows,
            "totals": totals,
            "everyone": perms.sees_everything(request.user),
        },
    )


@require_GET
@staff_required
def call_report_csv(request: HttpRequest) -> HttpResponseBase:
    _, start, end, rows = _report_rows(request)
    header = [
        "Day",
        "Technician",
        "Calls",
        "Talk time (seconds)",
        "Talk time",
        "Solved on the call",
        "New ticket",
        "Existing ticket",
    ]
    return csv_response(
        f"tierline-calls-{start:%Y%m%d}-{end:%Y%m%d}.csv",
        header,
        (
            (
                r["day"].isoformat(),
                r["technician"],
                r["calls"],
                r["talk_seconds"],
                r["talk"],
                r["solved"],
                r["new_ticket"],
                r["existing_ticket"],
            )
            for r in rows
        ),
    )

"""Every change of state of a ticket, work order or call, by topic.

Each public function is one transaction, takes keyword arguments, checks permission and state,
writes its history entries, publishes its events (`desk.events`) and is called alike by the
web views, the API and background jobs. Callers import this package
(`from tierline.desk import services`); the modules are:

    tickets       open, route and prioritise, change fields and status, assign
    messages      replies and internal notes
    escalation    escalate and de-escalate between tiers
    lifecycle     resolve, confirm, close (and the auto-close job), reopen, spam
    relations     merge, link, child tickets
    sharing       a request shared with colleagues (and no longer)
    attachments   files on tickets
    work_orders   visits
    calls         the call log
    canned        canned responses (reply templates) and macros
    notices       history entries other apps write on a ticket without changing it;
                  ticket_viewed (a page was opened: TicketViewed)
    saved_views   a technician's saved filters
    bulk          one action over many tickets
    matrix        the impact × urgency matrix (the admin's grid)
    status        set_status, the one path of every status change; TRANSITIONS
    saving        save_versioned, the optimistic-locking save of tickets and work orders;
                  lock_current and append_to_ticket (appends), ensure_current (edits)
"""

from tierline.desk.defaults import DEFAULT_MATRIX
from tierline.desk.services.attachments import (
    add_attachments,
    normalise_name,
    preview_png,
    validate_upload,
)
from tierline.desk.services.bulk import BulkResult, bulk_assign, bulk_change_status
from tierline.desk.services.calls import log_call
from tierline.desk.services.canned import apply_macro, save_canned_response
from tierline.desk.services.common import conf, ticket_number
from tierline.desk.services.escalation import de_escalate, escalate
from tierline.desk.services.lifecycle import (
    can_requester_reopen,
    close,
    close_resolved_tickets,
    confirm_resolution,
    mark_spam,
    reopen,
    reopen_deadline,
    resolve,
)
from tierline.desk.services.matrix import priority_matrix, set_priority_matrix
from tierline.desk.services.messages import add_message
from tierline.desk.services.notices import record_on_ticket, ticket_viewed
from tierline.desk.services.relations import create_child, link, merge, unlink
from tierline.desk.services.saved_views import delete_saved_view, save_view
from tierline.desk.services.saving import ensure_current
from tierline.desk.services.sharing import share_ticket, unshare_ticket
from tierline.desk.services.status import TRANSITIONS
from tierline.desk.services.tickets import (
    assign,
    change_fields,
    change_status,
    default_team_for,
    open_ticket,
    priority_for,
    take,
)
from tierline.desk.services.work_orders import (
    cancel_work_order,
    complete_work_order,
    create_work_order,
    update_work_order,
)

__all__ = [
    "DEFAULT_MATRIX",
    "TRANSITIONS",
    "BulkResult",
    "add_attachments",
    "add_message",
    "assign",
    "bulk_assign",
    "bulk_change_status",
    "can_requester_reopen",
    "cancel_work_order",
    "change_fields",
    "change_status",
    "close",
    "close_resolved_tickets",
    "complete_work_order",
    "conf",
    "confirm_resolution",
    "create_child",
    "create_work_order",
    "de_escalate",
    "default_team_for",
    "ensure_current",
    "apply_macro",
    "save_canned_response",
    "delete_saved_view",
    "escalate",
    "link",
    "log_call",
    "mark_spam",
    "merge",
    "open_ticket",
    "priority_for",
    "record_on_ticket",
    "ticket_viewed",
    "priority_matrix",
    "reopen",
    "reopen_deadline",
    "resolve",
    "save_view",
    "share_ticket",
    "set_priority_matrix",
    "take",
    "ticket_number",
    "unlink",
    "unshare_ticket",
    "update_work_order",
    "validate_upload",
    "normalise_name",
    "preview_png",
]

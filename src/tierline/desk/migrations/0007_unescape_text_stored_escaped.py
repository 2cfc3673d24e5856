"""Repair text the old code stored HTML-escaped (issue 8, point 1).

Until this change every service ran typed text through nh3 on the way in: subjects, names and
phone numbers came out escaped (`Printer &amp; scanner &lt;2nd floor&gt;`), descriptions,
messages, summaries and notes likewise outside the few tags it kept. Text is now stored as
typed and escaped when shown, so those rows would show `&amp;` on every page. This migration
decodes, once, the entities the old code wrote: `&amp; &lt; &gt; &quot; &#x27; &#39; &nbsp;`,
in one pass (`&amp;lt;`, a typed `&lt;`, becomes `&lt;` again, not `<`).

Careful and idempotent: a value is decoded only when it reads as the old code wrote it: every
`&` starts one of those entities and every `<` or `>` belongs to a tag nh3 kept. Decoded text
that held a typed `&`, `<` or `>` no longer reads so, and a second run leaves it alone. (The
one case a second run would still change is text whose only specials are a typed entity,
such as a reply that says just "write &amp;lt;": running the migration backwards and forwards
again would decode it once more. Backwards is a no-op for that reason.)

What it can't recover: whatever nh3 deleted is gone: anything in angle brackets that was not
one of its tags (`<DeviceNotFound>`, `<john@example.com>`), scripts and styles with their
content, attributes it dropped, and the `rel="noopener noreferrer nofollow"` it added to
links stays. Text it kept as tags (`<p>`, `<b>`) was typed as such, and now shows as typed.
"""

from __future__ import annotations

import re

from django.db import migrations
from django.db.models import Q

ENTITIES = {
    "&amp;": "&",
    "&lt;": "<",
    "&gt;": ">",
    "&quot;": '"',
    "&#x27;": "'",
    "&#39;": "'",
    "&nbsp;": "\xa0",
}
_ENTITY = re.compile("|".join(re.escape(entity) for entity in ENTITIES))
# The tags the old sanitiser kept (core.sanitise's mail tags), as it wrote them.
_KEPT_TAG = re.compile(
    r"</?(?:a|b|blockquote|br|code|em|i|li|ol|p|pre|strong|ul)(?:\s[^<>]*)?/?>", re.IGNORECASE
)

# model: the text fields the old code ran through nh3.
TEXT_FIELDS = {
    "Ticket": ("subject", "description", "resolution_note"),
    "Message": ("body",),
    "Escalation": ("summary",),
    "WorkOrder": ("desk", "device", "instructions", "outcome", "signoff_name"),
    "Call": ("caller_name", "caller_phone", "notes"),
    "SavedView": ("name",),
    "Attachment": ("name",),
}
HISTORY_FIELDS = ("summary", "old_value", "new_value")


def unescape_old_text(text: str) -> str:
    """`text` with the old code's entities decoded, when it reads as the old code wrote it;
    otherwise `text` unchanged."""
    if not text or "&" not in text:
        return text
    outside_tags = _KEPT_TAG.sub("", text)
    if "<" in outside_tags or ">" in outside_tags:
        return text  # a bare bracket: not the old code's output (or already repaired)
    if outside_tags.count("&") != len(_ENTITY.findall(outside_tags)):
        return text  # a bare "&": likewise
    return _ENTITY.sub(lambda match: ENTITIES[match.group()], text)


def _repair_rows(queryset, fields, counts, label) -> None:
    has_ampersand = Q()
    for name in fields:
        has_ampersand |= Q(**{f"{name}__contains": "&"})
    rows = queryset.filter(has_ampersand).values_list("pk", *fields)
    for pk, *values in rows.iterator(chunk_size=1000):
        changes = {}
        for name, value in zip(fields, values, strict=True):
            repaired = unescape_old_text(value or "")
            if repaired != (value or ""):
                changes[name] = repaired
        if changes:
            queryset.filter(pk=pk).update(**changes)
            counts[label] = counts.get(label, 0) + 1


def repair_escaped_text(apps, schema_editor=None) -> dict[str, int]:
    """Decode every desk row (and the desk's history entries) the old code stored escaped;
    returns how many rows of each model changed."""
    counts: dict[str, int] = {}
    for model_name, fields in TEXT_FIELDS.items():
        model = apps.get_model("desk", model_name)
        _repair_rows(model.objects.all(), fields, counts, model_name)
    WorkOrder = apps.get_model("desk", "WorkOrder")
    for pk, checklist in WorkOrder.objects.exclude(checklist=[]).values_list("pk", "checklist"):
        if not isinstance(checklist, list):
            continue
        repaired = [
            {**item, "text": unescape_old_text(item["text"])}
            if isinstance(item, dict) and isinstance(item.get("text"), str)
            else item
            for item in checklist
        ]
        if repaired != checklist:
            WorkOrder.objects.filter(pk=pk).update(checklist=repaired)
            counts["WorkOrder checklist"] = counts.get("WorkOrder checklist", 0) + 1
    HistoryEntry = apps.get_model("core", "HistoryEntry")
    desk_history = HistoryEntry.objects.filter(content_type__app_label="desk")
    _repair_rows(desk_history, HISTORY_FIELDS, counts, "HistoryEntry")
    return counts


class Migration(migrations.Migration):
    dependencies = [
        ("desk", "0006_list_orders_backed_by_indexes"),
        ("core", "0002_initial"),  # history entries name their target here
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(repair_escaped_text, migrations.RunPython.noop)]

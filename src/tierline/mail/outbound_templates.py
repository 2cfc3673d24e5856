"""The words of outgoing mail: a template per event, editable in the admin (`MailTemplate`),
with the defaults here for an event that has no row.

Rendering is Django's template engine on an engine of its own (no loaders, so no `include` or
`extends`), from a context of plain values only (text and numbers, never a model), so a
template reaches nothing but what it is given. Only a few tags are allowed (`if`, `for`,
`with`, `firstof`, `comment`) and only the event's placeholders; `validate` says what is wrong
in words the admin shows. The subject and plain text are rendered without autoescape (they are
not HTML; the subject is then made one line), the HTML part with it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Lexer, TokenType

from tierline.core.sanitise import render_text


@dataclass(frozen=True)
class Kind:
    """One kind of outgoing mail: its key, what it is for, its placeholders and default words."""

    key: str
    label: str
    placeholders: Mapping[str, str]
    subject: str
    text: str
    html: str = ""


_TICKET = {
    "ticket_number": "the ticket's number, TL-000123",
    "ticket_subject": "the ticket's subject",
    "ticket_url": "the address of the request on the portal",
    "requester_name": "the requester's name",
    "help_desk": "the help desk's name (TIERLINE_MAIL_FROM_NAME)",
}

KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind of mail (the notify helper's events add theirs the same way)."""
    KINDS[kind.key] = kind
    return kind


ACKNOWLEDGEMENT = register(
    Kind(
        key="acknowledgement",
        label="New ticket: acknowledgement to the requester",
        placeholders=_TICKET,
        subject="We received your request: {{ ticket_subject }}",
        text=(
            "Hello {{ requester_name }},\n\n"
            "We received your request and gave it the number {{ ticket_number }}. "
            "We will answer as soon as we can.\n\n"
            "Follow it here: {{ ticket_url }}\n"
            "To add something, reply to this email and keep {{ ticket_number }} in the subject.\n\n"
            "{{ help_desk }}"
        ),
    )
)
REPLY = register(
    Kind(
        key="reply",
        label="Public reply by the help desk",
        placeholders={
            **_TICKET,
            "message": "the reply's text",
            "author_name": "who wrote the reply",
        },
        subject="{{ ticket_subject }}",
        text=(
            "{{ message }}\n\n"
            "{{ author_name }}, {{ help_desk }}\n\n"
            "Reply to this email to answer, or follow your request here: {{ ticket_url }}"
        ),
    )
)
RESOLVED = register(
    Kind(
        key="resolved",
        label="Ticket resolved: notice to the requester",
        placeholders={
            **_TICKET,
            "resolution": "the resolution note",
            "reopen_days": "how many days the requester may reopen it",
        },
        subject="Resolved: {{ ticket_subject }}",
        text=(
            "Hello {{ requester_name }},\n\n"
            "We think your request {{ ticket_number }} is solved:\n\n"
            "{{ resolution }}\n\n"
            "If it is not, reply to this email within {{ reopen_days }} days and it opens "
            "again, or tell us on the portal: {{ ticket_url }}\n\n"
            "{{ help_desk }}"
        ),
    )
)
NOTIFICATION = register(
    Kind(
        key="notification",
        label="Notification by email (a person chose email for this event)",
        placeholders={
            "notification": "what happened, one line (e.g. “Ann replied on TL-000123 …”)",
            "ticket_number": _TICKET["ticket_number"],
            "ticket_subject": _TICKET["ticket_subject"],
            "ticket_url": "the address of the ticket (the workspace for staff, the portal for "
            "requesters)",
            "recipient_name": "the name of the person told",
            "help_desk": _TICKET["help_desk"],
        },
        subject="{{ notification }}",
        text=(
            "Hello {{ recipient_name }},\n\n"
            "{{ notification }}\n\n"
            "Open it: {{ ticket_url }}\n\n"
            "You chose to be told of this by email; change it on your notification settings "
            "page.\n\n"
            "{{ help_desk }}"
        ),
    )
)
REJECTED = register(
    Kind(
        key="rejected",
        label="Mail from an unknown sender refused (mailbox policy: reject)",
        placeholders={
            "original_subject": "the subject of the refused mail",
            "help_desk": _TICKET["help_desk"],
        },
        subject="Not delivered to the help desk: {{ original_subject }}",
        text=(
            "Hello,\n\n"
            "Your message “{{ original_subject }}” did not reach the help desk: it takes "
            "requests only from addresses it knows. If you work with us, write from your work "
            "address or ask a colleague to open a request for you.\n\n"
            "This is an automatic reply; answers to it are not read.\n\n"
            "{{ help_desk }}"
        ),
    )
)

# What a template may use beyond placeholders: tags that only shape the text.
ALLOWED_TAGS = frozenset(
    {
        *("if", "elif", "else", "endif", "for", "empty", "endfor", "with", "endwith"),
        *("firstof", "comment", "endcomment"),
    }
)
_ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], libraries={}, autoescape=True)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _check(source: str, placeholders: Mapping[str, str], label: str) -> list[str]:
    problems: list[str] = []
    loop_names: set[str] = {"forloop"}
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            bits = token.split_contents()
            name = bits[0] if bits else ""
            if name not in ALLOWED_TAGS:
                problems.append(f"{label}: the tag “{{% {name} %}}” is not allowed here.")
            if name == "for" and "in" in bits:
                loop_names.update(b.strip(",") for b in bits[1 : bits.index("in")])
            if name == "with":
                loop_names.update(b.split("=", 1)[0] for b in bits[1:] if "=" in b)
        elif token.token_type == TokenType.VAR:
            match = _NAME.match(token.contents.strip())
            root = match.group(0) if match else ""
            if root and root not in placeholders and root not in loop_names:
                known = ", ".join("{{ " + p + " }}" for p in placeholders)
                problems.append(f"{label}: unknown placeholder “{{{{ {root} }}}}”; use {known}.")
    if problems:
        return problems
    try:
        _ENGINE.from_string(source)
    except TemplateSyntaxError as exc:
        problems.append(f"{label}: {exc}")
    return problems


def validate(key: str, *, subject: str, text: str, html: str = "") -> None:
    """Raise ValidationError (by field) if these words cannot be rendered for `key`."""
    kind = KINDS.get(key)
    if kind is None:
        raise ValidationError({"key": f"Unknown kind of mail “{key}”."})
    errors: dict[str, list[str]] = {}
    for field, source, label in (
        ("subject", subject, "Subject"),
        ("text", text, "Plain text"),
        ("html", html, "HTML"),
    ):
        found = _check(source or "", kind.placeholders, label)
        if found:
            errors[field] = found
    if errors:
        raise ValidationError(errors)


def _render(source: str, context: Mapping[str, object], *, autoescape: bool) -> str:
    return _ENGINE.from_string(source).render(Context(dict(context), autoescape=autoescape))


def render(
    key: str, context: Mapping[str, object], *, subject: str, text: str, html: str = ""
) -> Rendered:
    """The words rendered from plain values: subject on one line, text as typed, HTML escaped
    (or, with no HTML template, the text shown as the pages show text)."""
    plain = {k: v for k, v in context.items() if isinstance(v, str | int | float) or v is None}
    rendered_text = _render(text, plain, autoescape=False).replace("\r\n", "\n").strip()
    rendered_html = (
        _render(html, plain, autoescape=True) if html.strip() else str(render_text(rendered_text))
    )
    one_line = " ".join(_render(subject, plain, autoescape=False).split())
    return Rendered(subject=one_line, text=rendered_text, html=rendered_html)

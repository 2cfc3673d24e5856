"""Mail that no person wrote: automatic replies, bounces, lists and our own mail coming back.

Such mail is recorded and ignored: no ticket, no reply, so two help desks (or a help desk and
an out-of-office) never answer each other in a loop. The rules, in order, are those of issue 9
point 11; the first that matches is the reason.

Tierline's own outbound mail will carry `LOOP_HEADER`; a message that has it came from us (or
pretends to): ignoring it is the safe direction, and nothing else is ever trusted from it.
"""

from __future__ import annotations

from email.message import Message

from tierline.mail.parsing import ParsedMail, raw_header_values

LOOP_HEADER = "X-Tierline-Loop"
PRECEDENCE_AUTOMATIC = frozenset({"bulk", "junk", "list", "auto_reply"})
SUPPRESS_TOKENS = frozenset({"all", "autoreply", "oof"})
DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})


def _first(msg: Message, name: str) -> str | None:
    values = raw_header_values(msg, name)
    return values[0].strip() if values else None


def envelope_sender_of(msg: Message, given: str | None) -> str | None:
    """The envelope sender: the SMTP MAIL FROM when known, else the Return-Path an MDA wrote;
    None when neither is known. "" means the null sender `<>` (bounces, automatic replies)."""
    value = given
    if value is None:
        value = _first(msg, "return-path")
    if value is None:
        return None
    return value.strip().strip("<>").strip()


def automatic_reason(
    msg: Message,
    parsed: ParsedMail,
    *,
    envelope_sender: str | None,
    own_addresses: frozenset[str],
) -> str | None:
    """Why this message is machine-generated (a reason to record), or None if a person wrote
    it."""
    if raw_header_values(msg, LOOP_HEADER):
        return f"our own loop header ({LOOP_HEADER})"
    sender = parsed.sender.lower()
    if sender and sender in own_addresses:
        return f"from our own address {sender}"
    try:
        report = msg.get_content_type() == "multipart/report" and (
            str(msg.get_param("report-type") or "").lower() == "delivery-status"
        )
    except Exception:  # noqa: BLE001 - an unreadable Content-Type is no report
        report = False
    if report:
        about = f" for {parsed.bounced_address}" if parsed.bounced_address else ""
        return f"bounce (delivery status report{about})"
    if raw_header_values(msg, "x-failed-recipients"):
        return "bounce (X-Failed-Recipients)"
    envelope = envelope_sender_of(msg, envelope_sender)
    if envelope is not None and envelope == "":
        return "empty envelope sender (a bounce or an automatic reply)"
    local_part = sender.rpartition("@")[0]
    if local_part in DAEMON_LOCAL_PARTS:
        return f"from {local_part}@ (a mail system)"
    auto = _first(msg, "auto-submitted")
    if auto is not None and auto.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto[:60]}"
    for name in ("Precedence", "X-Precedence"):
        value = (_first(msg, name) or "").lower()
        if value in PRECEDENCE_AUTOMATIC:
            return f"{name}: {value}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Loop", "List-Id"):
        if raw_header_values(msg, name):
            return f"automatic ({name})" if name != "List-Id" else "a mailing list (List-Id)"
    for value in raw_header_values(msg, "x-auto-response-suppress"):
        tokens = {token.strip().lower() for token in value.split(",")}
        found = sorted(tokens & SUPPRESS_TOKENS)
        if found:
            return f"X-Auto-Response-Suppress: {', '.join(found)}"
    return None

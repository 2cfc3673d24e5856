"""Files on tickets: checked before they are stored, recorded in the ticket's history."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from tierline.core.errors import ActionRefused
from tierline.core.history import record
from tierline.core.sanitise import clean_text
from tierline.desk import permissions as perms
from tierline.desk.models import Attachment, Message, Status, Ticket
from tierline.desk.services.common import conf
from tierline.desk.services.saving import append_to_ticket, lock_current
from tierline.people.models import User


def validate_upload(upload: UploadedFile) -> None:
    """Refuse files over the size limit and types that could run in a browser or on a PC."""
    name = clean_text(PurePosixPath(upload.name or "file").name)[:200] or "file"
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in conf()["ATTACHMENT_REFUSED_EXTENSIONS"]:
        raise ValidationError(
            {"attachments": f"“{name}”: files of type {suffix} are not accepted."}
        )
    limit = conf()["ATTACHMENT_MAX_BYTES"]
    if upload.size > limit:
        raise ValidationError(
            {
                "attachments": f"“{name}” is {upload.size / 2**20:.1f} MB; "
                f"the limit is {limit / 2**20:.0f} MB."
            }
        )


def attach(
    ticket: Ticket,
    by: User | None,
    uploads: Sequence[UploadedFile],
    message: Message | None = None,
) -> list[Attachment]:
    """Store `uploads` on `ticket` (and `message`), one history entry each; all checked first."""
    for upload in uploads:
        validate_upload(upload)
    saved = []
    for upload in uploads:
        name = clean_text(PurePosixPath(upload.name or "file").name)[:200] or "file"
        attachment = Attachment(
            ticket=ticket,
            message=message,
            name=name,
            size=upload.size,
            content_type=(mimetypes.guess_type(name)[0] or "application/octet-stream")[:100],
            uploaded_by=by,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        record(ticket, by, "attached", field="attachment", new=name)
        saved.append(attachment)
    return saved


@transaction.atomic
def add_attachments(
    *, ticket: Ticket, by: User, uploads: Sequence[UploadedFile]
) -> list[Attachment]:
    lock_current(ticket)  # appending is not editing: checked against the row as it is now
    perms.ensure(perms.can_reply_ticket(by, ticket))
    if ticket.status == Status.CLOSED:
        raise ActionRefused("This ticket is closed: files can no longer be added.")
    saved = attach(ticket, by, uploads)
    append_to_ticket(ticket)  # the ticket was updated now; its version stays
    return saved

"""Factories for the desk: tickets and work orders, made through the services as real ones are."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from tests.people.factories import UserFactory
from tierline.desk import services
from tierline.desk.models import Channel, Level
from tierline.desk.services.tickets import REQUESTER_CHANNELS
from tierline.people import services as people_services
from tierline.people.models import User


def ticket(requester: User | None = None, **kwargs):
    """A ticket opened through the service, as every real ticket is."""
    kwargs.setdefault("subject", "Printer on floor 2 jams")
    kwargs.setdefault("description", "It jams on every second page since this morning.")
    kwargs.setdefault("impact", Level.MEDIUM)
    kwargs.setdefault("urgency", Level.MEDIUM)
    kwargs.setdefault("channel", Channel.PORTAL)
    judged = kwargs["impact"] != Level.MEDIUM or kwargs["channel"] not in REQUESTER_CHANNELS
    if "by" not in kwargs and (judged or kwargs.get("team") is not None):
        # Impact, a phone channel and the team are the help desk's to set, not a requester's:
        # the triage assistant records them, as it will for real.
        kwargs["by"] = people_services.system_user("assistant")
    return services.open_ticket(requester=requester or UserFactory(), **kwargs)


def work_order(ticket, by: User, technician: User | None = None, start: datetime | None = None):
    """A one-hour visit (tomorrow unless `start` says), opened through the service."""
    start = start or timezone.now() + timedelta(days=1)
    return services.create_work_order(
        ticket=ticket,
        by=by,
        technician=technician or by,
        scheduled_start=start,
        scheduled_end=start + timedelta(hours=1),
    )


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (16, 12)) -> bytes:
    """A real picture (Pillow), as a phone or a screenshot tool would send it."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, format=fmt)
    return out.getvalue()


PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def upload(name: str = "log.txt", content: bytes | None = None) -> SimpleUploadedFile:
    """A file as a browser sends it. Without `content`, real content for its type: a PNG or
    JPEG picture, a PDF, or a line of text."""
    if content is None:
        suffix = name.rsplit(".", 1)[-1].lower()
        fmt = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
        if suffix in fmt:
            content = image_bytes(fmt[suffix])
        elif suffix == "pdf":
            content = PDF_BYTES
        else:
            content = b"printer log: error 42\n"
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")

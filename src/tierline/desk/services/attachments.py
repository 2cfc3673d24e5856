"""Files on tickets: checked before they are stored, recorded in the ticket's history.

A file is accepted when its name, once normalised as Windows would read it, ends in a type of
the allow-list (settings TIERLINE["ATTACHMENT_TYPES"]) and its content really is that type: the
magic bytes (puremagic), the parts of an Office or OpenDocument zip, an image Pillow can read.
`evil.exe.` and `evil.exe ` are `evil.exe` to Windows, so they are to us; a `.docx` carrying a
macro project is refused like a `.docm`.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from typing import IO

import puremagic
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from tierline.core.errors import ActionRefused
from tierline.core.history import record
from tierline.desk import permissions as perms
from tierline.desk.models import Attachment, Message, Status, Ticket
from tierline.desk.services.common import conf
from tierline.desk.services.saving import append_to_ticket, lock_current
from tierline.people.models import User

# Characters Windows does not allow in a name (":" would also open an alternate data stream).
_RESERVED_CHARS = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Device names Windows opens instead of a file, whatever follows the first dot.
_RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
    | {"com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³"}
)
_HEAD_BYTES = 64 * 1024
# An image over this many pixels is refused: decoding it for a preview would take the memory
# of a decompression bomb.
MAX_IMAGE_PIXELS = 40_000_000

OOXML_MAIN_PART = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/document.xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/workbook.xml",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (
        "ppt/presentation.xml"
    ),
}
TEXT_TYPES = frozenset({"text/plain", "text/csv"})
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def normalise_name(raw: str | None) -> str:
    """The file's name as it will be stored and shown: its last path part, Unicode NFC, no
    control, format (right-to-left override) or reserved characters, no trailing dots or
    spaces (Windows drops them: `evil.exe.` runs as `evil.exe`), no device name (`CON.txt`),
    at most 200 characters with its extension kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf"})
    name = _RESERVED_CHARS.sub("_", name)
    while name != (trimmed := name.strip().strip(". ")):
        name = trimmed
    if name.split(".")[0].strip().lower() in _RESERVED_NAMES:
        name = f"_{name}"
    if len(name) > 200:
        stem, dot, suffix = name.rpartition(".")
        name = f"{stem[: 199 - len(suffix)]}.{suffix}" if dot and len(suffix) < 20 else name[:200]
    return name or "file"


def suffix_of(name: str) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f".{suffix.lower()}" if dot and stem else ""


def _refuse(name: str, why: str) -> ValidationError:
    return ValidationError({"attachments": f"“{name}”: {why}"})


def _zip_type(upload: IO[bytes]) -> str | None:
    """The Office Open XML or OpenDocument type of a zip, if it is one; refused with macros."""
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if any(n.lower().endswith("vbaproject.bin") for n in names):
                return "macros"
            if "[Content_Types].xml" in names:
                types = archive.read("[Content_Types].xml")
                if b"macroenabled" in types.lower():
                    return "macros"
                for mime, main_part in OOXML_MAIN_PART.items():
                    if main_part in names:
                        return mime
            if "mimetype" in names:  # OpenDocument; macros live under Basic/ or Scripts/
                if any(n.startswith(("Basic/", "Scripts/")) for n in names):
                    return "macros"
                return archive.read("mimetype")[:100].decode("ascii", "replace").strip()
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return None
    return "application/zip"


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the end of the sample is still text; else a legacy
        # code page (Windows-1252 CSV): text unless it is full of control bytes.
        if exc.start < len(head) - 4:
            controls = sum(1 for b in head if b < 9 or 13 < b < 32)
            return controls < len(head) // 100 + 1
    return True


def detected_type(upload: IO[bytes]) -> str | None:
    """What the content is (a MIME type), read from the content alone; None if unknown."""
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    upload.seek(0)
    try:
        if head.startswith(b"PK\x03\x04"):
            return _zip_type(upload)
        try:
            found = puremagic.from_string(head, mime=True) or None
        except puremagic.PureError:
            found = None
        if found is None or found in TEXT_TYPES:
            return "text/plain" if _looks_like_text(head) else found
        return found
    finally:
        upload.seek(0)


def _check_image(upload: IO[bytes], name: str) -> None:
    try:
        with Image.open(upload) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _refuse(name, "the image is too large to show (over 40 megapixels).")
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        raise _refuse(name, "the image cannot be read.") from exc
    finally:
        upload.seek(0)


def validate_upload(upload: UploadedFile) -> tuple[str, str]:
    """The file's normalised name and its real type, or a ValidationError saying why not:
    over the size limit, a type not on the allow-list, or content that is not what its name
    says."""
    name = normalise_name(upload.name)
    suffix = suffix_of(name)
    allowed = conf()["ATTACHMENT_TYPES"]
    if suffix in conf()["ATTACHMENT_REFUSED_EXTENSIONS"]:
        raise _refuse(name, f"files of type {suffix} are not accepted: they can run programs.")
    if suffix not in allowed:
        kinds = ", ".join(sorted(allowed))
        what = f"files of type {suffix}" if suffix else "files without a type"
        raise _refuse(name, f"{what} are not accepted. Accepted: {kinds}.")
    limit = conf()["ATTACHMENT_MAX_BYTES"]
    if upload.size > limit:
        size = f"{upload.size / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB."
        raise ValidationError({"attachments": f"“{name}” is {size}"})
    expected = allowed[suffix]
    found = detected_type(upload)
    if found == "macros":
        raise _refuse(name, "documents with macros are not accepted.")
    if found != expected and not (expected in TEXT_TYPES and found == "text/plain"):
        raise _refuse(name, f"the content is not a {suffix} file.")
    if expected in IMAGE_TYPES:
        _check_image(upload, name)
    return name, expected


def attach(
    ticket: Ticket,
    by: User | None,
    uploads: Sequence[UploadedFile],
    message: Message | None = None,
    *,
    internal: bool = False,
) -> list[Attachment]:
    """Store `uploads` on `ticket` (and `message`), one history entry each; all checked first.
    An internal note's files are internal."""
    checked = [(upload, *validate_upload(upload)) for upload in uploads]
    internal = internal or bool(message and message.internal)
    saved = []
    for upload, name, content_type in checked:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            name=name,
            size=upload.size,
            content_type=content_type,
            uploaded_by=by,
            internal=internal,
        )
        attachment.file.save(name, upload, save=False)
        if content_type in IMAGE_TYPES:
            upload.seek(0)
            png = thumbnail_png(upload)
            if png is not None:
                attachment.preview.save(f"{name}.png", ContentFile(png), save=False)
        attachment.save()
        record(
            ticket,
            by,
            "attached",
            field="attachment",
            new=name,
            summary="internal" if internal else "",
        )
        saved.append(attachment)
    return saved


@transaction.atomic
def add_attachments(
    *, ticket: Ticket, by: User, uploads: Sequence[UploadedFile], internal: bool = False
) -> list[Attachment]:
    """Files on their own: public (the requester sees them) or internal (only those who read
    the ticket as a technician)."""
    lock_current(ticket)  # appending is not editing: checked against the row as it is now
    perms.ensure(perms.can_reply_ticket(by, ticket))
    if internal:
        perms.ensure(
            perms.internal_visible(by, ticket),
            "Only the help desk reading this ticket adds internal files.",
        )
    if ticket.status == Status.CLOSED:
        raise ActionRefused("This ticket is closed: files can no longer be added.")
    saved = attach(ticket, by, uploads, internal=internal)
    append_to_ticket(ticket)  # the ticket was updated now; its version stays
    return saved


PREVIEW_SIZE = (800, 800)


def thumbnail_png(handle: IO[bytes]) -> bytes | None:
    """A PNG thumbnail re-encoded from an image's pixels: no metadata, no script, no polyglot
    trailer of the original survives. None if it cannot be read."""
    try:
        with Image.open(handle) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return None
            image.draft("RGB", PREVIEW_SIZE)  # a JPEG decodes at a fraction of its size
            image = ImageOps.exif_transpose(image)
            image.thumbnail(PREVIEW_SIZE)
            clean = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            out = io.BytesIO()
            clean.save(out, format="PNG")
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        return None
    finally:
        handle.seek(0)


def preview_png(attachment: Attachment) -> bytes | None:
    """An image file's preview: the thumbnail drawn when it was attached (drawn now for a file
    attached before previews existed); None if the file is not an image. Never the original."""
    if not attachment.has_preview:
        return None
    try:
        if attachment.preview:
            with attachment.preview.open("rb") as handle:
                return handle.read()
        with attachment.file.open("rb") as handle:
            return thumbnail_png(handle)
    except (FileNotFoundError, ValueError):
        return None

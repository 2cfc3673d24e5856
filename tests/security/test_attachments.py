"""Attachments done safely (issue 8, point 4): names normalised before the type check, an
allow-list checked against the content, a body over the limit refused before it is read, images
previewed only as re-encoded thumbnails, and files a technician marks internal kept from the
requester."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from tests.desk import factories as desk_factories
from tierline.desk import permissions as perms
from tierline.desk import services
from tierline.desk.models import Attachment, Message, Ticket

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def office_zip(main_part: str, *extra: str, content_types: bytes = b"<Types/>") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr(main_part, "<document/>")
        for name in extra:
            archive.writestr(name, b"\x00binary")
    return out.getvalue()


def refusal(name: str, content: bytes = b"MZ\x90\x00" + b"\x00" * 60) -> str:
    with pytest.raises(ValidationError) as refused:
        services.validate_upload(SimpleUploadedFile(name, content))
    return refused.value.message_dict["attachments"][0]


# --- names, normalised before the check ------------------------------------------------------


def test_trailing_dot_exe_is_refused():
    assert "files of type .exe are not accepted" in refusal("evil.exe.")


def test_trailing_space_exe_is_refused():
    assert "files of type .exe are not accepted" in refusal("evil.exe ")


@pytest.mark.parametrize(
    "name",
    ["evil.exe. . .", "EVIL.EXE", "C:\\Users\\me\\evil.exe", "../../evil.exe", "evil.exe\x00"],
)
def test_exe_dressed_up_is_refused_like_exe(name):
    assert "files of type .exe are not accepted" in refusal(name)


def test_right_to_left_override_cannot_hide_an_exe():
    # "invoice\u202egpj.exe" shows as "invoiceexe.jpg" in a browser
    assert "files of type .exe are not accepted" in refusal("invoice\u202egpj.exe")


def test_alternate_data_stream_name_is_not_a_txt():
    # "notes.txt:evil.exe" would write a stream of notes.txt on NTFS
    assert "files of type .exe are not accepted" in refusal("notes.txt:evil.exe")


@pytest.mark.parametrize(
    "suffix", [".lnk", ".iso", ".chm", ".cpl", ".reg", ".wsf", ".vbe", ".docm", ".xlsm", ".mht"]
)
def test_dangerous_types_are_refused(suffix):
    assert f"files of type {suffix} are not accepted" in refusal(f"file{suffix}")


def test_a_type_not_on_the_allow_list_is_refused():
    assert "files of type .xyz are not accepted. Accepted:" in refusal("data.xyz", b"hello")
    assert "files without a type are not accepted" in refusal("README", b"hello")


def test_names_are_stored_nfc_and_without_windows_device_names(employee):
    # when
    ticket = desk_factories.ticket(
        employee,
        uploads=[
            desk_factories.upload("cafe\u0301.txt"),  # e + combining accent
            desk_factories.upload("CON.txt"),
            desk_factories.upload("report.pdf.  ", desk_factories.PDF_BYTES),
        ],
    )
    # then
    names = sorted(ticket.attachments.values_list("name", flat=True))
    assert names == ["_CON.txt", "café.txt", "report.pdf"]


# --- the content is what the name says ----------------------------------------------------------


def test_a_program_renamed_pdf_is_refused():
    assert "the content is not a .pdf file" in refusal("invoice.pdf")


def test_a_web_page_renamed_txt_is_refused():
    page = b"<html><body><script>alert(1)</script></body></html>"
    assert "the content is not a .txt file" in refusal("notes.txt", page)


def test_a_docx_carrying_macros_is_refused_like_a_docm():
    docx = office_zip("word/document.xml", "word/vbaProject.bin")
    assert "documents with macros are not accepted" in refusal("report.docx", docx)


def test_an_xlsx_that_is_really_a_docx_is_refused():
    assert "not a .xlsx file" in refusal("sheet.xlsx", office_zip("word/document.xml"))


def test_a_broken_image_is_refused():
    assert "the image cannot be read" in refusal("shot.png", desk_factories.image_bytes()[:40])


def test_real_files_of_every_kind_are_accepted(employee):
    # when
    files = [
        desk_factories.upload("screen.png"),
        desk_factories.upload("photo.jpeg"),
        desk_factories.upload("scan.pdf"),
        desk_factories.upload("error.log"),
        desk_factories.upload("export.csv", "naïve;10\n".encode("cp1252")),
        SimpleUploadedFile("report.docx", office_zip("word/document.xml")),
        SimpleUploadedFile("sheet.xlsx", office_zip("xl/workbook.xml")),
    ]
    ticket = desk_factories.ticket(employee, uploads=files)
    # then each is stored with the type its content has, not the one the browser claimed
    types = dict(ticket.attachments.values_list("name", "content_type"))
    assert types["screen.png"] == "image/png" and types["scan.pdf"] == "application/pdf"
    assert types["export.csv"] == "text/csv"
    assert types["sheet.xlsx"].endswith("spreadsheetml.sheet")


def test_refused_file_in_the_portal_gives_a_clear_error_and_saves_nothing(client, employee):
    # when
    client.force_login(employee)
    response = client.post(
        reverse("portal:new"),
        {
            "subject": "Printer",
            "description": "Jams",
            "urgency": 2,
            "attachments": [desk_factories.upload("log.txt"), desk_factories.upload("x.lnk")],
        },
    )
    # then
    assert response.status_code == 400
    assert "files of type .lnk are not accepted" in response.content.decode()
    assert not Ticket.objects.exists() and not Attachment.objects.exists()


# --- a body over the limit is refused before it is read -------------------------------------------


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):  # noqa: ARG002
        raise AssertionError("the body was read")

    readline = read


def test_oversized_body_is_refused_before_it_is_read(employee, settings):
    # given
    settings.TIERLINE = {**settings.TIERLINE, "REQUEST_MAX_BYTES": 1000}
    ticket = desk_factories.ticket(employee)
    client = signed_in(employee)
    # when a 5 GB upload is announced to the portal
    response = client.generic(
        "POST",
        reverse("portal:ticket_action", args=[ticket.number, "attach"]),
        data=b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(5 * 2**30),
        **{"wsgi.input": UnreadableBody()},
    )
    # then it is answered 413 with a page that says what to do, and nothing was saved
    assert response.status_code == 413
    page = response.content.decode()
    assert "too much to send at once" in page and "5120.0 MB" in page
    assert not Attachment.objects.exists()


def test_oversized_api_body_is_refused_before_it_is_read_with_json(api, employee, settings):
    # given
    settings.TIERLINE = {**settings.TIERLINE, "REQUEST_MAX_BYTES": 1000}
    # when
    response = api(employee).generic(
        "POST",
        "/api/v1/tickets/",
        data=b"",
        content_type="application/json",
        CONTENT_LENGTH="1001",
        **{"wsgi.input": UnreadableBody()},
    )
    # then
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]
    assert not Ticket.objects.exists()


def test_a_content_length_that_is_not_a_number_is_a_400(api, employee):
    response = api(employee).generic(
        "POST",
        "/api/v1/tickets/",
        data=b"{}",
        content_type="application/json",
        CONTENT_LENGTH="12abc",
    )
    assert response.status_code == 400


def test_a_body_under_the_limit_goes_through(api, employee):
    response = api(employee).post(
        "/api/v1/tickets/", {"subject": "s", "description": "d"}, format="json"
    )
    assert response.status_code == 201


# --- previews -----------------------------------------------------------------------------------


def test_image_preview_is_a_reencoded_png_never_the_original(employee):
    # given a JPEG with a script appended after its end (a polyglot a browser might sniff)
    polyglot = desk_factories.image_bytes("JPEG", (1600, 1200)) + b"<script>alert(1)</script>"
    ticket = desk_factories.ticket(employee, uploads=[desk_factories.upload("photo.jpg", polyglot)])
    attachment = ticket.attachments.get()
    client = signed_in(employee)
    # when
    preview = client.get(reverse("desk:attachment_preview", args=[attachment.pk]))
    download = client.get(reverse("desk:attachment", args=[attachment.pk]))
    # then the preview is a small PNG made from the pixels, shown inline but never sniffed
    assert preview.status_code == 200
    assert preview["Content-Type"] == "image/png"
    assert preview["Content-Disposition"].startswith("inline")
    assert preview["X-Content-Type-Options"] == "nosniff"
    assert b"<script>" not in preview.content and preview.content != polyglot
    with Image.open(io.BytesIO(preview.content)) as image:
        assert image.format == "PNG" and max(image.size) <= 800
    # and the original stays a download
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["X-Content-Type-Options"] == "nosniff"
    # and the portal shows the preview next to the link
    page = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    assert reverse("desk:attachment_preview", args=[attachment.pk]) in page


def test_a_file_that_is_not_an_image_has_no_preview(employee):
    ticket = desk_factories.ticket(employee, uploads=[desk_factories.upload("scan.pdf")])
    attachment = ticket.attachments.get()
    response = signed_in(employee).get(reverse("desk:attachment_preview", args=[attachment.pk]))
    assert response.status_code == 404


def test_someone_elses_image_has_no_preview_for_you(employee, employee2):
    ticket = desk_factories.ticket(employee2, uploads=[desk_factories.upload("screen.png")])
    attachment = ticket.attachments.get()
    response = signed_in(employee).get(reverse("desk:attachment_preview", args=[attachment.pk]))
    assert response.status_code == 404


# --- public or internal ---------------------------------------------------------------------------


def attach_url(ticket: Ticket) -> str:
    return reverse("desk:ticket_action", args=[ticket.number, "attach"])


def test_the_attach_form_asks_public_or_internal_in_plain_words(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    page = signed_in(tier1).get(attach_url(ticket)).content.decode()
    # then
    assert "Who can see these files?" in page
    assert "Public: the requester and the help desk" in page
    assert "Internal: only the help desk" in page


def test_attaching_without_choosing_who_sees_it_is_refused(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = signed_in(tier1).post(attach_url(ticket), {"attachments": [desk_factories.upload()]})
    # then
    assert response.status_code == 400
    assert "Choose whether the requester can see these files." in response.content.decode()
    assert not Attachment.objects.exists()


def test_an_internal_file_is_kept_from_the_requester(employee, tier1):
    # given a technician attaches one public and one internal file
    ticket = desk_factories.ticket(employee)
    desk = signed_in(tier1)
    for name, visibility in (("steps.txt", "public"), ("admin-password.png", "internal")):
        response = desk.post(
            attach_url(ticket),
            {"attachments": [desk_factories.upload(name)], "visibility": visibility},
        )
        assert response.status_code == 302
    internal = Attachment.objects.get(name="admin-password.png")
    public = Attachment.objects.get(name="steps.txt")
    requester = signed_in(employee)
    # when the requester looks
    portal = requester.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    # then they see the public file only, and cannot fetch the internal one or its preview
    assert "steps.txt" in portal and "admin-password.png" not in portal
    assert requester.get(reverse("desk:attachment", args=[public.pk])).status_code == 200
    assert requester.get(reverse("desk:attachment", args=[internal.pk])).status_code == 404
    preview = reverse("desk:attachment_preview", args=[internal.pk])
    assert requester.get(preview).status_code == 404
    # and the technician's timeline says plainly which is which
    timeline = desk.get(reverse("desk:ticket", args=[ticket.number])).content.decode()
    assert "attached an internal file" in timeline
    assert "Internal: only the help desk sees it" in timeline
    assert "attached a file the requester can see" in timeline
    assert desk.get(preview).status_code == 200


def test_a_requester_cannot_add_an_internal_file(employee):
    ticket = desk_factories.ticket(employee)
    with pytest.raises(PermissionDenied):
        services.add_attachments(
            ticket=ticket, by=employee, uploads=[desk_factories.upload()], internal=True
        )
    assert not Attachment.objects.exists()


def test_an_internal_notes_files_are_internal(employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    services.add_message(
        ticket=ticket,
        by=tier1,
        body="Config dump",
        internal=True,
        uploads=[desk_factories.upload("dump.txt")],
    )
    # then
    attachment = Attachment.objects.get()
    assert attachment.internal and attachment.message == Message.objects.get(internal=True)
    assert not perms.can_read_attachment(employee, attachment)


def test_the_preview_is_drawn_once_when_attached_and_for_older_images_when_shown(employee):
    # given an image attached now, and one stored before previews existed
    ticket = desk_factories.ticket(employee, uploads=[desk_factories.upload("new.png")])
    new = ticket.attachments.get()
    old = Attachment(
        ticket=ticket, name="old.png", size=1, content_type="image/png", uploaded_by=employee
    )
    old.file.save("old.png", ContentFile(desk_factories.image_bytes()))
    # when
    client = signed_in(employee)
    shown = [client.get(reverse("desk:attachment_preview", args=[a.pk])) for a in (new, old)]
    # then the new one's thumbnail was stored with it, and both are PNGs made from the pixels
    with new.preview.open("rb") as stored:
        assert stored.read() == shown[0].content
    assert all(r.status_code == 200 and r.content.startswith(b"\x89PNG") for r in shown)


def test_the_migration_marks_files_of_internal_notes_internal(employee, tier1):
    # given a file of an internal note stored before Attachment.internal existed
    import importlib

    from django.apps import apps

    migration = importlib.import_module(
        "tierline.desk.migrations.0008_attachment_internal_and_preview"
    )
    ticket = desk_factories.ticket(employee, uploads=[desk_factories.upload("public.txt")])
    services.add_message(
        ticket=ticket, by=tier1, body="n", internal=True, uploads=[desk_factories.upload()]
    )
    Attachment.objects.update(internal=False)
    # when
    migration.mark_internal_notes_files(apps, None)
    # then
    assert dict(Attachment.objects.values_list("name", "internal")) == {
        "public.txt": False,
        "log.txt": True,
    }

"""The API's file upload (POST /api/v1/tickets/{number}/attachments/, multipart): the same
service and the same checks as the web forms, and the only operation that is not JSON."""

from __future__ import annotations

import pytest

from tests.desk import factories as desk_factories
from tests.people import factories as people_factories
from tierline.desk import services
from tierline.desk.models import Attachment, Status

pytestmark = pytest.mark.django_db


def url(number: str) -> str:
    return f"/api/v1/tickets/{number}/attachments/"


def post_files(client, number: str, *files, **fields):
    return client.post(url(number), {"attachments": list(files), **fields}, format="multipart")


# --- good files ----------------------------------------------------------------------------------


def test_a_requester_attaches_public_files_to_their_own_ticket(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = post_files(
        api(employee),
        ticket.number,
        desk_factories.upload("screen.png"),
        desk_factories.upload("printer.log"),
    )
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [(f["name"], f["content_type"], f["internal"]) for f in body] == [
        ("screen.png", "image/png", False),
        ("printer.log", "text/plain", False),
    ]
    assert all(f["uploaded_by"] == "employee" and f["size"] > 0 for f in body)
    stored = Attachment.objects.filter(ticket=ticket).order_by("pk")
    assert [a.name for a in stored] == ["screen.png", "printer.log"]
    # and the help desk lists them too
    listed = api(tier1).get(url(ticket.number)).json()
    assert [f["id"] for f in listed] == [f["id"] for f in body]


def test_the_help_desk_attaches_internal_files_the_requester_never_lists(api, employee, tier1):
    # given
    ticket = desk_factories.ticket(employee)
    # when
    response = post_files(
        api(tier1), ticket.number, desk_factories.upload("trace.txt"), internal="true"
    )
    # then
    assert response.status_code == 201, response.json()
    assert response.json()[0]["internal"] is True
    assert Attachment.objects.get(ticket=ticket).internal
    assert api(employee).get(url(ticket.number)).json() == []
    assert [f["name"] for f in api(tier1).get(url(ticket.number)).json()] == ["trace.txt"]


def test_a_name_is_normalised_as_windows_reads_it(api, employee):
    ticket = desk_factories.ticket(employee)
    response = post_files(api(employee), ticket.number, desk_factories.upload("notes.txt. . "))
    assert response.status_code == 201, response.json()
    assert response.json()[0]["name"] == "notes.txt"


# --- who may ------------------------------------------------------------------------------------


def test_a_requester_cannot_add_internal_files(api, employee):
    ticket = desk_factories.ticket(employee)
    response = post_files(
        api(employee), ticket.number, desk_factories.upload("a.txt"), internal="true"
    )
    assert response.status_code == 403
    assert "internal" in response.json()["detail"]
    assert not Attachment.objects.exists()


def test_a_requester_cannot_attach_to_someone_elses_ticket(api, employee, employee2):
    ticket = desk_factories.ticket(employee2)
    response = post_files(api(employee), ticket.number, desk_factories.upload("a.txt"))
    assert response.status_code == 404
    assert api(employee).get(url(ticket.number)).status_code == 404
    assert not Attachment.objects.exists()


def test_a_technician_reading_a_restricted_ticket_as_its_requester_adds_no_internal_file(
    api, tier1
):
    # given a ticket tier1 asked HR for help with (they read it as a requester)
    hr = people_factories.restricted_team(members=())
    ticket = desk_factories.ticket(tier1, team=hr)
    # when
    refused = post_files(api(tier1), ticket.number, desk_factories.upload("a.txt"), internal="1")
    public = post_files(api(tier1), ticket.number, desk_factories.upload("b.txt"))
    # then
    assert refused.status_code == 403
    assert public.status_code == 201, public.json()
    assert list(Attachment.objects.values_list("name", "internal")) == [("b.txt", False)]


def test_no_files_on_a_closed_ticket(api, employee, tier1):
    ticket = desk_factories.ticket(employee)
    services.resolve(ticket=ticket, by=tier1, resolution_code="fixed", body="Done.")
    services.confirm_resolution(ticket=ticket, by=employee)
    assert ticket.status == Status.CLOSED
    response = post_files(api(employee), ticket.number, desk_factories.upload("a.txt"))
    assert response.status_code == 400
    assert "closed" in response.json()["non_field_errors"][0]
    assert not Attachment.objects.exists()


# --- bad files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "files of type .exe are not accepted"),
        ("evil.exe.", b"MZ\x90\x00" + b"\x00" * 60, "files of type .exe are not accepted"),
        ("photo.png", b"just some text\n", "the content is not a .png file"),
        ("report.pdf", b"MZ\x90\x00" + b"\x00" * 60, "the content is not a .pdf file"),
        ("archive.zip", b"PK\x03\x04", "files of type .zip are not accepted"),
    ],
)
def test_a_file_the_web_form_refuses_is_refused_with_the_reason(api, employee, name, content, says):
    ticket = desk_factories.ticket(employee)
    response = post_files(api(employee), ticket.number, desk_factories.upload(name, content))
    assert response.status_code == 400
    assert says in response.json()["attachments"][0]
    assert not Attachment.objects.exists()


def test_a_file_over_the_size_limit_is_refused(api, employee, settings):
    settings.TIERLINE = {**settings.TIERLINE, "ATTACHMENT_MAX_BYTES": 2**20}
    ticket = desk_factories.ticket(employee)
    big = desk_factories.upload("big.txt", b"a line of a long log\n" * 60_000)
    response = post_files(api(employee), ticket.number, big)
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.json()["attachments"][0]
    assert not Attachment.objects.exists()


def test_one_bad_file_refuses_the_whole_upload(api, employee):
    ticket = desk_factories.ticket(employee)
    response = post_files(
        api(employee),
        ticket.number,
        desk_factories.upload("fine.txt"),
        desk_factories.upload("bad.exe", b"MZ" + b"\x00" * 62),
    )
    assert response.status_code == 400
    assert not Attachment.objects.exists()


def test_an_empty_file_is_refused(api, employee):
    ticket = desk_factories.ticket(employee)
    response = post_files(api(employee), ticket.number, desk_factories.upload("empty.txt", b""))
    assert response.status_code == 400
    assert "empty" in str(response.json()["attachments"])


def test_no_file_at_all_is_a_400_naming_the_field(api, employee):
    ticket = desk_factories.ticket(employee)
    response = api(employee).post(url(ticket.number), {"internal": "false"}, format="multipart")
    assert response.status_code == 400
    assert "attachments" in response.json()


def test_more_files_than_one_upload_takes_is_refused(api, employee):
    ticket = desk_factories.ticket(employee)
    files = [desk_factories.upload(f"f{i}.txt") for i in range(21)]
    response = post_files(api(employee), ticket.number, *files)
    assert response.status_code == 400
    assert "attachments" in response.json()
    assert not Attachment.objects.exists()


def test_more_files_than_django_reads_is_a_400_that_says_so(api, employee):
    ticket = desk_factories.ticket(employee)
    files = [desk_factories.upload(f"f{i}.txt") for i in range(101)]
    response = post_files(api(employee), ticket.number, *files)
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files in one request: send at most 100."}
    assert not Attachment.objects.exists()


def test_a_json_body_is_refused_as_the_wrong_media_type(api, employee):
    ticket = desk_factories.ticket(employee)
    response = api(employee).post(url(ticket.number), {"attachments": []}, format="json")
    assert response.status_code == 415
    assert response.json()["detail"] == 'Unsupported media type "application/json" in request.'


def test_the_same_upload_with_an_idempotency_key_is_stored_once(api, employee):
    ticket = desk_factories.ticket(employee)
    client = api(employee)
    client.credentials(
        HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"],
        HTTP_IDEMPOTENCY_KEY="upload-1",
    )
    first = post_files(client, ticket.number, desk_factories.upload("a.txt"))
    again = post_files(client, ticket.number, desk_factories.upload("a.txt"))
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Attachment.objects.count() == 1

"""The IMAP password is write-only and sealed: the admin never sends it back to the browser
(sealed or not), saving the page without typing it again keeps the stored one (it is not
blanked), and the database holds it only sealed."""

from __future__ import annotations

import pytest

from tests.mail.factories import mailbox
from tests.mail.test_imap_admin import SECRET, change_url, form_data
from tierline.mail import sealing
from tierline.mail.models import ImapAccount

pytestmark = pytest.mark.django_db


def test_the_password_is_not_in_the_page_and_a_blank_field_keeps_it(client, admin_user):
    box = mailbox()
    account = ImapAccount.objects.create(
        mailbox=box, host="imap.example.org", username="helpdesk", password=sealing.seal(SECRET)
    )
    sealed = account.password
    client.force_login(admin_user)
    # the change page does not carry the password
    page = client.get(change_url(box)).content.decode()
    assert SECRET not in page and sealed not in page and sealed[len("fernet:") :] not in page
    assert 'name="imap-0-password"' in page
    # saving without typing it keeps it; typing a new one replaces it
    response = client.post(change_url(box), form_data(box, account, username="other"))
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.username, account.password) == ("other", sealed)
    client.post(change_url(box), form_data(box, account, password="new-one"))
    account.refresh_from_db()
    assert "new-one" not in account.password
    assert sealing.unseal(account.password) == "new-one"

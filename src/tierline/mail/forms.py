"""The notification preferences page and the ticket's watchers form."""

from __future__ import annotations

from django import forms

from tierline.core.text import accepts_plain_text
from tierline.mail.models import NotificationChannel, NotificationKind


class PreferencesForm(forms.Form):
    """One choice of channel per kind of event."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            self.fields[kind] = forms.ChoiceField(label=label, choices=NotificationChannel.choices)


@accepts_plain_text()
class WatcherForm(forms.Form):
    person = forms.CharField(
        label="Add a watcher",
        max_length=200,
        help_text="A name, username or email address.",
    )

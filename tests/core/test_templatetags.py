"""Template helpers."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory


def test_query_with_replaces_and_drops_parameters():
    request = RequestFactory().get("/desk/", {"queue": "team", "page": "3", "sort": "priority"})
    html = Template("{% load tierline %}{% query_with page=None sort='-created' %}").render(
        Context({"request": request})
    )
    assert html == "?queue=team&amp;sort=-created"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (10, "just now"),
        (50, "a minute ago"),
        (61, "1 minute ago"),
        (3 * 3600 + 5, "3 hours ago"),
        (86400, "1 day ago"),
        (15 * 86400, "2 weeks ago"),
        (400 * 86400, "1 year ago"),
        (-2 * 86400, "in 2 days"),
    ],
)
def test_relative_times_read_naturally(seconds, words):
    from datetime import timedelta

    from django.utils import timezone

    from tierline.core.templatetags.tierline import relative

    now = timezone.now()
    assert relative(now - timedelta(seconds=seconds), now) == words

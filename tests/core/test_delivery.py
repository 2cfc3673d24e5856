"""core.delivery: the back-off, the signature and the POST's refusals shared by on-call pages,
rule emails and webhook deliveries (their queues are tested in tests/sla and tests/mail)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tierline.core import delivery


def test_backoff_doubles_from_a_minute_up_to_the_cap():
    waits = [delivery.backoff(n) for n in range(1, 9)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert waits[-1] == timedelta(minutes=60)
    assert delivery.backoff(5, cap_minutes=10) == timedelta(minutes=10)
    assert delivery.backoff(0) == timedelta(minutes=1)


def test_a_receiver_verifies_the_exact_body_and_nothing_else():
    body = b'{"event":"page"}'
    header = delivery.signature("s3cret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert delivery.verify("s3cret", body, header)
    assert not delivery.verify("s3cret", body + b" ", header)
    assert not delivery.verify("other", body, header)
    assert not delivery.verify("s3cret", body, "")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/", "javascript:x", ""])
def test_signed_post_refuses_an_address_that_is_not_http(url):
    with pytest.raises(ValueError, match="not an http"):
        delivery.signed_post(url, b"{}", secret="s", timeout=1.0)

"""`tierline mailserver`: an SMTP (or LMTP) listener for the mailboxes' addresses that writes
each message to the spool, durably, before it answers 250; a 4xx when it cannot store, so the
sending server keeps the message and tries again.

The listener (aiosmtpd) runs in its own thread with its own event loop and never touches the
database: the mailboxes' addresses are read when it starts, and the spool is drained by the
command's main thread (and by the `mail-spool` periodic job), through `services.receive`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from tierline.mail import spool

logger = logging.getLogger(__name__)

# Larger than any message the desk would take (ten files at its limit, and their encoding).
MAX_MESSAGE_BYTES = 150 * 2**20


class SpoolHandler:
    """Accepts mail for `addresses` (any address when empty) and spools it."""

    def __init__(self, addresses: Iterable[str]) -> None:
        self.addresses = frozenset(a.lower() for a in addresses)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook names
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if self.addresses and address.lower() not in self.addresses:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                None,
                lambda: spool.write(
                    raw, mail_from=envelope.mail_from or "", recipients=envelope.rcpt_tos
                ),
            )
        except OSError as exc:
            logger.error("mailserver: could not spool a message: %s", exc)
            return self._answer(
                server, envelope, "451 4.3.0 Could not store the message; try again later"
            )
        return self._answer(server, envelope, "250 2.0.0 Stored")

    @staticmethod
    def _answer(server: SMTP, envelope: Envelope, status: str) -> str:
        # LMTP answers DATA once per recipient (RFC 2033); one spool file serves them all.
        if isinstance(server, LMTP):
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


class _LMTPController(Controller):
    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def listener(addresses: Iterable[str], *, host: str, port: int, lmtp: bool = False) -> Controller:
    """A started-on-demand listener (call `.start()` and `.stop()`)."""
    kind = _LMTPController if lmtp else Controller
    return kind(
        SpoolHandler(addresses),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        decode_data=False,
        server_hostname="tierline",
    )

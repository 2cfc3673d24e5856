"""What a spool batch knows of its senders before it processes them: who they are and how
many messages each sent in the last hour, read in two queries for the batch instead of two
per message.

The drain hands the batch's messages to `expect` first. Inside the batch (`core.batch`), then:
- `person` answers from the batch's read when it found the sender (a person who existed when
  the batch began, as they were then); an address it did not find is asked of the database
  again, since an earlier message of the batch may have made that sender a requester (in a
  savepoint that may yet roll back: the batch never remembers a row it created);
- `recent_count` answers from the batch's count plus every message of this sender the batch
  has taken since (`saw`: an upper bound of the rows it added), as long as that stays under the
  limit; near the limit it counts in the database, exactly as a message alone does. Another
  worker's messages committed during the batch (it lasts under a second) are counted by the
  next batch.
Outside a batch (a single message, `tierline mail ingest`, IMAP), both ask the database each
time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count

from tierline.core import batch
from tierline.mail import parsing
from tierline.mail.models import Inbound
from tierline.people import queries as people
from tierline.people.models import User

_PEOPLE = "mail:senders:people"
_COUNTS = "mail:senders:counts"
_SINCE = "mail:senders:since"
_SAW = "mail:senders:saw"


def expect(raws: Iterable[bytes], *, since: datetime) -> None:
    """Read, for the open batch, the people the raw messages come from (their From, read from
    their headers alone) and each sender's messages since `since` (an hour ago). Nothing
    outside a batch."""
    if not batch.active():
        return
    senders = {sender[:320] for sender in map(parsing.sender_of_raw, raws) if sender}
    if not senders:
        return
    batch.remember(_PEOPLE, people.people_by_email(senders))
    counted = (
        Inbound.objects.filter(sender__in=senders, created_at__gte=since)
        .values("sender")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(senders, 0)
    counts.update({row["sender"]: row["n"] for row in counted})
    batch.remember(_COUNTS, counts)
    batch.remember(_SINCE, since)
    batch.remember(_SAW, Counter())


def person(address: str) -> User | None:
    """`people.person_by_email(address)`, from the batch's read when it found that person."""
    known: dict[str, User] = batch.memo(_PEOPLE, dict)
    found = known.get((address or "").strip().upper())
    return found if found is not None else people.person_by_email(address)


def saw(sender: str) -> None:
    """The batch took a message from `sender` (it writes an Inbound row with that sender)."""
    if sender:
        seen: Counter[str] = batch.memo(_SAW, Counter)
        seen[sender] += 1


def recent_count(sender: str, *, since: datetime, limit: int, exclude_pk: int | None) -> int:
    """How many messages `sender` sent since `since`, this one not included: exact when it
    reaches `limit`; below it, possibly the batch's upper bound instead."""
    counts: dict[str, int] = batch.memo(_COUNTS, dict)
    counted_since: datetime | None = batch.memo(_SINCE, lambda: None)
    if sender in counts and counted_since is not None and counted_since <= since:
        seen: Counter[str] = batch.memo(_SAW, Counter)
        # `saw` counted this message too: the bound holds it, one more than needed.
        bound = counts[sender] + seen[sender]
        if bound < limit:
            return bound
    others = Inbound.objects.filter(sender=sender, created_at__gte=since)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    return others.count()

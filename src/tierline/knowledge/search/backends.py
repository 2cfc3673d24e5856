"""The SQL of each database, in one place: created by the migration, asked by queries.py.

SQLite: an FTS5 table (porter stemming over unicode61 tokens, accents folded) with the
document table as its external content, kept in step by three triggers; bm25 ranks (a title
match weighs five times a body match), snippet() and highlight() mark what matched.

PostgreSQL: a stored generated tsvector column (english configuration; title weight A, body
B) with a GIN index, plainto_tsquery (see terms.py), ts_rank_cd, ts_headline.

Matches are marked with the control characters START and STOP, which stored text can never
hold (core.text refuses control characters at every door), so a snippet is escaped whole
and only then are the marks turned into <mark> elements.
"""

from __future__ import annotations

import json
import warnings

from django.db import DatabaseError, connection, transaction

DOCS = "knowledge_searchdocument"
FTS = "knowledge_search_fts"
START, STOP = "\x02", "\x03"
LANGUAGE = "english"

SQLITE_CREATE = [
    f"""CREATE VIRTUAL TABLE {FTS} USING fts5(
        title, body, content='{DOCS}', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER knowledge_search_ai AFTER INSERT ON {DOCS} BEGIN
        INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",  # noqa: S608 (our constants; typed text only through %s)
    f"""CREATE TRIGGER knowledge_search_ad AFTER DELETE ON {DOCS} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    END""",  # noqa: S608 (our constants; typed text only through %s)
    f"""CREATE TRIGGER knowledge_search_au AFTER UPDATE ON {DOCS} BEGIN
        INSERT INTO {FTS}({FTS}, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO {FTS}(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",  # noqa: S608 (our constants; typed text only through %s)
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS knowledge_search_au",
    "DROP TRIGGER IF EXISTS knowledge_search_ad",
    "DROP TRIGGER IF EXISTS knowledge_search_ai",
    f"DROP TABLE IF EXISTS {FTS}",
]

POSTGRES_CREATE = [
    f"""ALTER TABLE {DOCS} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('{LANGUAGE}'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('{LANGUAGE}'::regconfig, coalesce(body, '')), 'B')) STORED""",
    f"CREATE INDEX searchdoc_vector_gin ON {DOCS} USING GIN (search_vector)",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS searchdoc_vector_gin",
    f"ALTER TABLE {DOCS} DROP COLUMN IF EXISTS search_vector",
]


def create_structures(schema_editor) -> None:
    """The migration's forward step: the full-text structures of this database."""
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_CREATE, "postgresql": POSTGRES_CREATE}.get(vendor, []):
        schema_editor.execute(sql)


def drop_structures(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}.get(vendor, []):
        schema_editor.execute(sql)


WORDS = "knowledge_searchword"
_trigrams: dict[str, bool] = {}


def create_trigram_index(schema_editor) -> bool:
    """The words' trigram index (typo tolerance) on PostgreSQL: pg_trgm, when this database
    lets us create it. False (and a warning) when it does not: words.py then compares words
    of the same first letter instead."""
    connection_ = schema_editor.connection
    if connection_.vendor != "postgresql":
        return False
    try:
        with transaction.atomic(using=connection_.alias):  # a savepoint: a refusal is undone
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as error:
        warnings.warn(
            f"pg_trgm could not be created ({error}); typo tolerance compares words of the same "
            "first letter instead. A superuser can run CREATE EXTENSION pg_trgm and migrate "
            "again.",
            stacklevel=1,
        )
        return False
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS searchword_trgm ON {WORDS} USING GIN (word gin_trgm_ops)"
    )
    return True


def drop_trigram_index(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS searchword_trgm")


def has_trigrams() -> bool:
    """The words' trigram index exists here (asked once per database and process)."""
    if not is_postgres():
        return False
    if connection.alias not in _trigrams:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'searchword_trgm'")
            _trigrams[connection.alias] = cursor.fetchone() is not None
    return _trigrams[connection.alias]


def similar_words(word: str, *, limit: int) -> list[str] | None:
    """Known words sharing trigrams with `word` (pg_trgm's `%`, most similar first), or None
    where there is no trigram index."""
    if not has_trigrams():
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT word FROM {WORDS} WHERE word %% %s
                ORDER BY similarity(word, %s) DESC, word LIMIT %s""",  # noqa: S608 (our constant; typed text only through %s)
            [word, word, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def analyze() -> None:
    """PostgreSQL: fresh statistics of the index after a bulk rebuild. Its planner reads from
    them how many documents a word matches, and so whether to walk the newest documents or
    collect the matches from the GIN index; stale ones (a bulk load before autovacuum came
    by) made it collect 52,000 matches and read them all: 1.4 s instead of 25 ms."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DOCS}")


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def matching_ids_sql(*, kinds: tuple[str, ...], internal: bool | None) -> str:
    """SELECT of the documents' ticket ids matching the one query parameter (see match_param),
    of these kinds, internal or not (None: both)."""
    kind_list = ", ".join(f"'{kind}'" for kind in kinds)  # our own constants, never typed text
    where = [f"d.kind IN ({kind_list})"]
    if internal is not None:
        where.append("d.internal" if internal else "NOT d.internal")
    if is_postgres():
        where.append(f"d.search_vector @@ plainto_tsquery('{LANGUAGE}', %s)")
        return f"SELECT d.ticket_id FROM {DOCS} d WHERE " + " AND ".join(where)  # noqa: S608 (table names and kinds are our constants)
    # SQLite: the matches drive (FTS5 first), each looked up by its row id.
    where.insert(0, f"{FTS} MATCH %s")
    return (
        f"SELECT d.ticket_id FROM {FTS} CROSS JOIN {DOCS} d ON d.id = {FTS}.rowid WHERE "  # noqa: S608 (table names and kinds are our constants)
        + " AND ".join(where)
    )


def few_matching(terms, *, kinds: tuple[str, ...], internal: bool | None, bound: int):
    """PostgreSQL: the (id, ticket_id) of every document of these kinds (internal or not; None:
    both) matching `terms`, when at most `bound` do; None when more do.

    Its planner reads how many documents a word matches from ANALYZE's statistics: right for
    the words frequent enough to be listed there, a guess for every other word (the least
    listed frequency, halved: about 3,500 of 4,000,000 documents). A word guessed that common
    but held by few documents made a list walk its whole order index, probing each ticket's
    documents for a match that never came: "tl-17" (the query 'tl' & '-17': every document
    has 'tl', none '-17') took 20-32 s over 1,000,000 tickets, "bench17" (5,000 documents)
    1.3 s in a lead's counted queue. So the matches are counted first, as on SQLite
    (has_many_matches): when the planner expects at most `bound` (a listed word it expects
    more of is as common as it says), they are read from the GIN index, at most bound + 1,
    by a bitmap scan (forced: that costs what the matches cost, however common the guess).
    """
    where = [f"d.search_vector @@ plainto_tsquery('{LANGUAGE}', %s)", "d.kind = ANY(%s)"]
    params: list = [match_param(terms), list(kinds)]
    if internal is not None:
        where.append("d.internal" if internal else "NOT d.internal")
    select = f"SELECT d.id, d.ticket_id FROM {DOCS} d WHERE " + " AND ".join(where)  # noqa: S608 (our constants; typed text only through %s)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + select, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str | bytes):
        plan = json.loads(plan)
    if plan[0]["Plan"]["Plan Rows"] > bound:
        return None
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to this transaction (a savepoint when one is open: set back below).
        cursor.execute(
            "SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan'), "
            "set_config('enable_seqscan', 'off', true), set_config('enable_indexscan', 'off', true)"
        )
        seqscan, indexscan, _, _ = cursor.fetchone()
        cursor.execute(select + " LIMIT %s", [*params, bound + 1])
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT set_config('enable_seqscan', %s, true), set_config('enable_indexscan', %s, true)",
            [seqscan, indexscan],
        )
    return rows if len(rows) <= bound else None


def matching_rowids_sql() -> str:
    """SQLite: SELECT of the row ids of the documents matching the one query parameter."""
    return f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s"  # noqa: S608 (our constants)


def has_many_matches(terms, at_least: int) -> bool:
    """SQLite: do at least `at_least` documents match? (reads at most that many row ids)"""
    sql = f"SELECT count(*) FROM (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s LIMIT %s)"  # noqa: S608 (our constants)
    with connection.cursor() as cursor:
        cursor.execute(sql, [match_param(terms), at_least])
        return cursor.fetchone()[0] >= at_least


def match_param(terms) -> str:
    """The query text for this database: an FTS5 expression or plainto_tsquery input."""
    return terms.as_postgres() if is_postgres() else terms.as_fts5()


def ranked(terms, *, where: tuple[str, list], window: int, limit: int) -> list[tuple]:
    """(id, kind, object_id, ticket_id, internal, rank) of the best `limit` among the newest
    `window` matches that pass `where`, best first.

    `where` is SQL over the document table by its own name (DOCS, never aliased: the queries
    compile it from the ORM, visibility included), so the database walks the matches newest
    first, keeps the readable ones and stops at `window`: only those are ranked (bm25 or
    ts_rank_cd), however many documents match a common word.
    """
    where_sql, where_params = where
    if is_postgres():
        sql = f"""SELECT id, kind, object_id, ticket_id, internal,
                         ts_rank_cd(search_vector, plainto_tsquery('{LANGUAGE}', %s)) AS rank
                  FROM (SELECT {DOCS}.id, {DOCS}.kind, {DOCS}.object_id, {DOCS}.ticket_id,
                               {DOCS}.internal, {DOCS}.search_vector
                        FROM {DOCS}
                        WHERE {DOCS}.search_vector @@ plainto_tsquery('{LANGUAGE}', %s)
                          AND ({where_sql})
                        ORDER BY {DOCS}.id DESC LIMIT %s) newest
                  ORDER BY rank DESC, id DESC LIMIT %s"""  # noqa: S608 (our constants and compiled ORM SQL; typed text only through %s)
        params = [match_param(terms), match_param(terms), *where_params, window, limit]
    else:
        sql = f"""SELECT * FROM (
                    SELECT {DOCS}.id, {DOCS}.kind, {DOCS}.object_id, {DOCS}.ticket_id,
                           {DOCS}.internal, bm25({FTS}, 5.0, 1.0) AS rank
                    FROM {FTS} CROSS JOIN {DOCS} ON {DOCS}.id = {FTS}.rowid
                    WHERE {FTS} MATCH %s AND ({where_sql})
                    ORDER BY {FTS}.rowid DESC LIMIT %s)
                  ORDER BY rank, id DESC LIMIT %s"""  # noqa: S608 (our constants and compiled ORM SQL; typed text only through %s)
        params = [match_param(terms), *where_params, window, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def snippets(terms, ids: list[int]) -> dict[int, tuple[str, str]]:
    """For these documents: (title, body excerpt), matches between START and STOP (raw text)."""
    if not ids:
        return {}
    placeholders = ", ".join(["%s"] * len(ids))
    if is_postgres():
        sql = f"""SELECT d.id,
                    ts_headline('{LANGUAGE}', d.title, q, %s),
                    ts_headline('{LANGUAGE}', d.body, q, %s)
                  FROM {DOCS} d, plainto_tsquery('{LANGUAGE}', %s) q
                  WHERE d.id IN ({placeholders})"""  # noqa: S608 (our constants; typed text only through %s)
        marks = f'StartSel="{START}", StopSel="{STOP}"'
        params = [
            f"{marks}, HighlightAll=true",
            f'{marks}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "',
            match_param(terms),
            *ids,
        ]
    else:
        sql = f"""SELECT {FTS}.rowid,
                    highlight({FTS}, 0, %s, %s),
                    snippet({FTS}, 1, %s, %s, ' … ', 24)
                  FROM {FTS} WHERE {FTS} MATCH %s AND +{FTS}.rowid IN ({placeholders})
                    AND {FTS}.rowid BETWEEN %s AND %s"""  # noqa: S608 (our constants; typed text only through %s)
        # FTS5 walks the matches within the page's row id range (cheap), and the list is
        # checked per row (`+`): asked one row id at a time, FTS5 seeks every term each time.
        params = [START, STOP, START, STOP, match_param(terms), *ids, min(ids), max(ids)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: (row[1] or "", row[2] or "") for row in cursor.fetchall()}

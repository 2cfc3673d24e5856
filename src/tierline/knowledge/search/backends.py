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

from django.db import connection

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
    else:
        where.append(f"d.id IN (SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s)")  # noqa: S608 (table names and kinds are our constants)
    return f"SELECT d.ticket_id FROM {DOCS} d WHERE " + " AND ".join(where)  # noqa: S608 (table names and kinds are our constants)


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
                  FROM {FTS} WHERE {FTS} MATCH %s AND {FTS}.rowid IN ({placeholders})"""  # noqa: S608 (our constants; typed text only through %s)
        params = [START, STOP, START, STOP, match_param(terms), *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: (row[1] or "", row[2] or "") for row in cursor.fetchall()}

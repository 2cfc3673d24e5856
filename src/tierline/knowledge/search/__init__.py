"""One search over tickets, replies and notes, and people (issue 11, point 2).

backends.py       the SQL of each database: SQLite FTS5, PostgreSQL tsvector + GIN
terms.py          what a typed search becomes: words, a ticket number, an email address
index.py          writing the index (one document per ticket, message, person)
queries.py        reading it: the lists' ticket filter, the ranked search page
subscriptions.py  kept up to date from the desk's events, after commit
tasks.py          the indexing tasks those handlers queue
"""

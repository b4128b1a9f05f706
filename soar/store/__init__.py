"""The case store: the queryable SQL projection of what the workflows do.

Temporal holds the live state; idempotent activities (:mod:`soar.store.activities`)
write it here for search, reports, metrics and audit. :class:`soar.store.db.Store`
opens it, migrates it and answers queries.
"""

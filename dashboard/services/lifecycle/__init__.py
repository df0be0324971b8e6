"""The data lifecycle: Clerk's webhooks, a user's export and erasure, retention of archives.

Each job runs in short transactions of LIFECYCLE_BATCH_SIZE rows, so a user with a million
messages never holds a long lock, and a run that stops halfway is finished by running it
again. The search index follows on both databases by itself: PostgreSQL's tsvector column is
generated from the content, SQLite's FTS5 triggers fire on the same UPDATE and DELETE.
Imported by views, the webhooks blueprint and the CLI; imports only models and services.
"""

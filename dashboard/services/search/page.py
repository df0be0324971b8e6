"""Loading the page a strategy found: messages, authors, threads and snippets in one query.

Snippets are made only for the rows shown: the backend's snippet column marks the words with
the search's sentinels, and snippets.py turns that into text plus offsets.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Message, Thread, User
from . import snippets
from .backends.base import Backend
from .compile import Query
from .result import Hit, Pair, Record

# What a result shows of each row (the Search page's records): no secrets, no JSON to decode.
_RECORD_SKIP = {"meta", "password_hash", "session_version", "email"}
_Layout = list[tuple[str, list[tuple[str, int]]]]
_PAGE_QUERIES: dict[tuple[str, bool], tuple[Any, _Layout]] = {}


def load_hits(pairs: list[Pair], q: Query, backend: Backend, *, with_relations: bool) -> list[Hit]:
    """The page's messages with author, thread and snippet in one query (+2 for relations).

    Without relations (the Search page) the rows are read as plain columns into read-only
    records: building 3 ORM objects per hit costs more than the query itself.
    """
    if not pairs:
        return []
    if not with_relations:
        return _load_records(pairs, q, backend)
    backend.finish()  # the ORM's queries below run with the database's own settings
    ids = [i for i, _ in pairs]
    with_snippet = bool(q.plan.any_of)
    cols: list[Any] = [Message, User, Thread]
    if with_snippet:
        cols.append(backend.snippet_expr().label("snippet"))
    stmt = (
        sa.select(*cols)
        .join(User, User.id == Message.user_id)
        .join(Thread, Thread.id == Message.thread_id)
        .where(Message.id.in_(ids))
        .options(selectinload(Message.mentions), selectinload(Message.attachments))
    )
    params = backend.snippet_params(q) if with_snippet else {}
    rows = {r[0].id: r for r in db.session.execute(stmt, params)}
    hits = []
    for i in ids:
        row = rows.get(i)
        if row is None:
            continue
        msg, author, thread = row[0], row[1], row[2]
        raw = row[3] if with_snippet else None
        hits.append(Hit(msg, author, thread, _snippet(backend, q, raw, msg.content)))
    return hits


def _snippet(backend: Backend, q: Query, raw: str | None, content: str) -> snippets.Snippet:
    marked = backend.marked_text(raw) if raw is not None else None
    return snippets.from_marked(marked, content, q.sentinels)


def _columns(model: Any, prefix: str) -> list[tuple[str, Any]]:
    """(attribute name, labelled column) for each column of a model a result may show."""
    return [
        (attr.key, attr.columns[0].label(f"{prefix}{attr.key}"))
        for attr in sa.inspect(model).column_attrs
        if attr.key not in _RECORD_SKIP
    ]


def _page_query(backend: Backend, with_snippet: bool) -> tuple[Any, _Layout]:
    """The page's statement (built once per database and kind) and where each record's
    columns are in its rows."""
    key = (backend.dialect, with_snippet)
    if key not in _PAGE_QUERIES:
        groups = [
            ("m", _columns(Message, "m_")),
            ("u", _columns(User, "u_")),
            ("t", _columns(Thread, "t_")),
        ]
        cols = [c for _, g in groups for _, c in g]
        layout, n = [], 0
        for k, g in groups:
            layout.append((k, [(name, n + i) for i, (name, _) in enumerate(g)]))
            n += len(g)
        if with_snippet:
            cols.append(backend.snippet_expr().label("snippet"))
        stmt = (
            sa.select(*cols)
            .select_from(Message)
            .join(User, User.id == Message.user_id)
            .join(Thread, Thread.id == Message.thread_id)
            .where(Message.id.in_(sa.bindparam("ids", expanding=True)))
        )
        _PAGE_QUERIES[key] = (stmt, layout)
    return _PAGE_QUERIES[key]


def _load_records(pairs: list[Pair], q: Query, backend: Backend) -> list[Hit]:
    """One query for the page: message, author and thread columns, and the snippet."""
    with_snippet = bool(q.plan.any_of)
    stmt, layout = _page_query(backend, with_snippet)
    ids = [i for i, _ in pairs]
    result = backend.page_rows(
        stmt, layout, ids, backend.snippet_params(q) if with_snippet else None
    )
    rows = {}
    for row in result:
        rec = {k: Record(**{name: row[i] for name, i in cols}) for k, cols in layout}
        rows[rec["m"].id] = (rec, row[-1] if with_snippet else None)
    hits = []
    for i in ids:
        got = rows.get(i)
        if got is None:
            continue
        rec, raw = got
        hits.append(Hit(rec["m"], rec["u"], rec["t"], _snippet(backend, q, raw, rec["m"].content)))
    return hits

"""Finding 11: usernames, order numbers, emails and URLs are found by free text (both backends).

The index and the query split text alike: every character that is not a letter or a digit
separates words, and a token with punctuation inside is searched as the phrase of its parts
(docs/search.md, "Tokens"). So the whole token finds itself, and each part finds it too.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import search as search_service
from dashboard.services.search import schema
from dashboard.services.search.backends import postgres
from dashboard.services.search.tuning import DEFAULT, Tuning


@pytest.fixture
def tokens(factory):  # type: ignore[no-untyped-def]
    kim = factory.user(username="kim.jones9164")
    sam = factory.user(role="support", username="sam")
    t = factory.thread(kim, [], title="Tokens")
    m = SimpleNamespace()

    def say(key: str, text: str, day: int, **kw):  # type: ignore[no-untyped-def]
        setattr(m, key, factory.message(t, kim, text, at=datetime(2026, 11, day, 9, 0), **kw))

    say("mention", "thanks @kim.jones9164 for the logs", 1, mentions=(kim,))
    say("bare", "ticket assigned to kim.jones9164 today", 2)
    say("order", "Order A-1042 was refunded", 3)
    say("other_order", "Order B-1042 is still open", 4)
    say("email", "write to kim.jones@example.com, please", 5)
    say("url", "see https://shop.example.com/orders/A-1042?tab=refunds now", 6)
    say("sentence", "The refund is done. Jones9164 confirmed", 7)
    say("version", "upgraded to v2.14.1 (from v2.13)", 8)
    say("spaced", "kim and jones met", 9)
    return SimpleNamespace(kim=kim, sam=sam, m=m)


def keys(app, tokens, q, tuning=DEFAULT, strategies=None):  # type: ignore[no-untyped-def]
    with app.app_context():
        viewer = db.session.get(User, tokens.sam.id)
        res = search_service.search(viewer, q, all_threads=True, tuning=tuning)
        if strategies is not None:
            strategies.add(res.strategy)
        by_id = {v.id: k for k, v in vars(tokens.m).items()}
        return {by_id[h.message.id] for h in res.items}


# (query, what a searcher finds): one corpus per backend, every query checked against it.
CASES = [
    # A username: whole, quoted, with @, and its parts.
    ("kim.jones9164", {"mention", "bare"}),
    ('"kim.jones9164"', {"mention", "bare"}),
    ("@kim.jones9164", {"mention", "bare"}),
    ("jones9164", {"mention", "bare", "sentence"}),
    ("kim jones9164", {"mention", "bare"}),
    # Order numbers: the whole number, and the number alone.
    ("A-1042", {"order", "url"}),
    ("1042", {"order", "other_order", "url"}),
    ("b-1042", {"other_order"}),
    # An email and its parts.
    ("kim.jones@example.com", {"email"}),
    ("example.com", {"email", "url"}),
    # A URL, its host, its path.
    ("https://shop.example.com/orders/A-1042?tab=refunds", {"url"}),
    ("shop.example.com", {"url"}),
    ("orders/A-1042", {"order", "url"}),  # `orders` stems to `order`
    # Dotted versions.
    ("v2.14.1", {"version"}),
    ("v2.13", {"version"}),
    # A quoted phrase over tokens, and an exclusion of a token.
    ('"to kim.jones9164 today"', {"bare"}),
    ("jones9164 -kim.jones9164", {"sentence"}),
    ("kim.jones9164 or b-1042", {"mention", "bare", "other_order"}),
    # A stop word inside a token (PostgreSQL does not index `a`) still tells A from B.
    ("1042 -A-1042", {"other_order"}),
    ("A-1042 or kim.jones9164", {"order", "url", "mention", "bare"}),
    ('"order A-1042"', {"order", "url"}),  # the URL has `orders/A-1042`
    ("refunded a-1042", {"order", "url"}),  # and `refunds`
]


def test_a_searcher_finds_tokens_with_punctuation(app, tokens):
    got = {query: keys(app, tokens, query) for query, _ in CASES}
    wrong = {q: (got[q], want) for q, want in CASES if got[q] != want}
    assert not wrong, wrong


@pytest.mark.postgres_only
def test_postgres_rum_path_finds_the_same(app, tokens):
    """Migration 0006 re-made the RUM index (when the server has rum) over the new column."""
    with app.app_context():
        db.session.execute(sa.text("ANALYZE messages"))  # the cost model reads the statistics
        db.session.commit()
        postgres.forget_stats()
        if not postgres._has_rum():
            assert not db.session.scalar(
                sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'rum'")
            )
            pytest.skip("this PostgreSQL server has no rum extension")
    rum = Tuning(rum_max=10**9, rum_entry_us=0.0, rum_row_us=0.0, walk_row_us=1e9)
    used: set[str] = set()
    got = {query: keys(app, tokens, query, rum, used) for query, _ in CASES}
    wrong = {q: (got[q], want) for q, want in CASES if got[q] != want}
    assert not wrong, wrong
    assert any(s.startswith("rum") for s in used), used


def test_the_token_is_highlighted_in_the_snippet(app, tokens):
    with app.app_context():
        viewer = db.session.get(User, tokens.sam.id)
        res = search_service.search(viewer, "kim.jones9164", all_threads=True)
        hit = next(h for h in res.items if h.message.id == tokens.m.bare.id)
        snippet = hit.snippet
        marked = [snippet.text[a:b] for a, b in snippet.marks]
        assert snippet.text == "ticket assigned to kim.jones9164 today"
        # The parts are marked (FTS5 marks the phrase in one piece, PostgreSQL each word).
        assert "".join(marked).replace(".", "") == "kimjones9164"


@pytest.mark.postgres_only
def test_postgres_index_and_headline_see_the_same_words(app, tokens):
    with app.app_context():
        every = "".join(chr(i) for i in range(32, 127)) + "é—·"
        made = db.session.scalar(sa.text(f"SELECT {schema.pg_index_text(':s')}"), {"s": every})
        assert made == re.sub(r"[^\w\s]|_", " ", every[:95]) + "é—·"
        assert made.count(" ") == 1 + len(string.punctuation)
        rows = db.session.execute(
            sa.text(
                "SELECT content, search_tsv = to_tsvector('english', "
                f"{schema.pg_headline_text('content')}) FROM messages"
            )
        ).all()
    assert len(rows) == len(vars(tokens.m))
    assert all(same for _, same in rows), [c for c, same in rows if not same]

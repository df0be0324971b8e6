"""Every search strategy returns the same pages: forced one at a time on a small corpus.

At a million rows the service picks collect, walk, per-thread walk or time slices (PostgreSQL)
and FTS walks (SQLite) from estimates; a few dozen test rows would always take the same path,
so this test forces each path by passing thresholds (a Tuning) and compares the results.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import search as search_service
from dashboard.services.search import Tuning
from dashboard.services.search.tuning import DEFAULT

QUERIES = [
    "refund",
    "refund order",
    '"refund order"',
    "refund -order",
    "-refund",
    "refund or invoice",
    "parcel",
    "from:amy refund",
    "from:amy",
    "in:big refund",
    "in:big -refund",
    "is:reply refund",
    "has:link",
    "refund after:2026-11-10",
    "invoice on:2026-11-12",
    "refund before:2026-11-15 -from:amy",
    "has:link refund",
    "has:attachment order -invoice",
    "mentions:cat refund",
    "mentions:cat refund from:amy",
]
PG_FORCED = {
    "walk": Tuning(walk_min_selectivity=0.0, rare_max=-1),
    "walk+slices": Tuning(walk_min_selectivity=0.0, rare_max=-1, walk_budget=3),
    "slices": Tuning(walk_min_selectivity=2.0, rare_max=-1),
    "walk/common words": Tuning(walk_min_selectivity=2.0, rare_max=-1, common_words=-1),
    "collect": Tuning(walk_min_selectivity=2.0, rare_max=10**9),
}
SQLITE_FORCED = {
    "fts-walk": Tuning(sqlite_fts_probe=-1),
    "fts-walk+scratch": Tuning(sqlite_fts_probe=-1, fts_walk_budget=2),
    "fts-walk+collect/in-set": Tuning(
        sqlite_fts_probe=-1, fts_walk_budget=2, fts_deep_budget=2, scratch_max=-1
    ),
    "fts-walk:deep": Tuning(sqlite_fts_probe=-1, fts_walk_budget=2, scratch_max=-1),
    "walk": Tuning(sqlite_filter_walk=10**9),
    "walk+collect": Tuning(sqlite_filter_walk=3),
    "driver-scratch/small batches": Tuning(
        sqlite_fts_probe=-1, sqlite_tagged_probe=-1, driver_batch=1
    ),
    "driver-scratch+fts-walk": Tuning(
        sqlite_fts_probe=-1, sqlite_tagged_probe=-1, driver_batch=1, driver_max_rows=2
    ),
    "fts-walk/no drivers": Tuning(
        scratch_drivers=False, sqlite_fts_probe=-1, sqlite_tagged_probe=-1
    ),
    "collect/no tags": Tuning(tag_or_max=0),
}


@pytest.fixture
def people(app, factory):  # type: ignore[no-untyped-def]
    """Three threads with 90 messages over 30 days; amy writes a lot."""
    rng = random.Random(5)
    amy = factory.user(username="amy")
    ben = factory.user(username="ben")
    cat = factory.user(username="cat")
    big = factory.thread(amy, [ben, cat], title="Big", name="big")
    small = factory.thread(ben, [cat], title="Small", name="small")
    mine = factory.thread(amy, [ben], title="Mine", name="mine")
    words = "refund order invoice parcel shipping label payment card".split()
    start = datetime(2026, 11, 1)
    parent = None
    for i in range(90):
        thread = (big, big, small, mine)[i % 4]
        author = (amy, ben, cat)[rng.randrange(3)] if thread is not mine else amy
        if thread is small and author is amy:
            author = ben
        text = " ".join(rng.choices(words, k=rng.randint(2, 6)))
        at = start + timedelta(hours=8 * i, minutes=rng.randrange(60))
        msg = factory.message(
            thread,
            author,
            text,
            at=at,
            parent_id=parent if i % 7 == 0 else None,
            mentions=(cat,) if i % 5 == 0 else (),
        )
        if i % 9 == 0:
            factory.attachment(msg, author)
        parent = msg.id
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
    return amy, ben, cat


def all_pages(app, user, q, staff, tuning=DEFAULT):  # type: ignore[no-untyped-def]
    """Every result id, page by page (3 a page), and the strategies used.

    An exact total (not "more than") on the first page is the number of results.
    """
    ids, how, cursor, first = [], set(), None, None
    with app.app_context():
        viewer = db.session.get(User, user.id)
        for _ in range(60):
            res = search_service.search(
                viewer, q, cursor=cursor, limit=3, all_threads=staff, tuning=tuning
            )
            ids += [h.message.id for h in res.items]
            first = first or res
            how.add(res.strategy if res.strategy.endswith(":deep") else res.strategy.split(":")[0])
            cursor = res.next_cursor
            if not cursor:
                break
    if first is not None and not first.total_capped:
        assert first.total == len(ids), (q, first.strategy, first.total, len(ids))
    return ids, how


def test_every_strategy_gives_the_same_pages(app, people, factory):
    _, ben, _ = people
    staff = factory.user(role="support")
    forced = PG_FORCED if app.config["BACKEND"] == "postgresql" else SQLITE_FORCED
    viewers = [(staff, True), (ben, False)]
    expected = {(v.id, q): all_pages(app, v, q, s)[0] for v, s in viewers for q in QUERIES}
    assert any(len(ids) > 6 for ids in expected.values())  # several pages somewhere
    for name, tuning in forced.items():
        used: set[str] = set()
        for viewer, is_staff in viewers:
            for q in QUERIES:
                got, how = all_pages(app, viewer, q, is_staff, tuning)
                used |= how
                assert got == expected[(viewer.id, q)], (name, viewer.username, q)
                assert got == sorted(got, reverse=True), (name, q)
        assert any(h.startswith(name.split("/")[0]) for h in used), (name, used)

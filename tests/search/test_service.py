"""The search service on both databases: operators, negation, phrases, stemming, scope, dates."""

from __future__ import annotations

import pytest

from dashboard.extensions import db
from dashboard.models import User
from dashboard.serializers import snippet_html as highlight
from dashboard.services import search as search_service


def run(app, user, q, **kw):  # type: ignore[no-untyped-def]
    """Search as `user` (staff see all threads) and return (contents, result)."""
    with app.app_context():
        viewer = db.session.get(User, user.id)
        res = search_service.search(viewer, q, all_threads=viewer.is_staff, **kw)
        return [h.message.content for h in res.items], res


def ids(app, user, q, **kw):  # type: ignore[no-untyped-def]
    with app.app_context():
        viewer = db.session.get(User, user.id)
        res = search_service.search(viewer, q, all_threads=viewer.is_staff, **kw)
        return [h.message.id for h in res.items]


def test_stemming_finds_refund_for_refunds_newest_first(app, corpus):
    m = corpus.m
    found = ids(app, corpus.alice, "refunds")
    assert found == [m.xss.id, m.refunds_bob.id, m.refund.id, m.old.id]


def test_end_user_never_sees_other_threads_or_removed_messages(app, corpus):
    texts, _ = run(app, corpus.bob, "refund")
    assert "secret refund plan for carol" not in texts
    assert "abusive refund rant" not in texts
    assert "deleted refund note" not in texts
    texts, _ = run(app, corpus.carol, "refund")
    assert texts == ["secret refund plan for carol"]


def test_staff_see_every_thread_but_hidden_only_with_is_hidden(app, corpus):
    texts, _ = run(app, corpus.staff, "refund")
    assert "secret refund plan for carol" in texts
    assert "abusive refund rant" not in texts
    texts, _ = run(app, corpus.staff, "refund is:hidden")
    assert texts == ["abusive refund rant"]


def test_end_user_is_hidden_is_refused_with_a_message(app, corpus):
    texts, res = run(app, corpus.bob, "refund is:hidden")
    assert "abusive refund rant" not in texts
    assert any("staff only" in w for w in res.warnings)


def test_phrase_and_exclusion_and_or(app, corpus):
    m = corpus.m
    assert ids(app, corpus.alice, '"refund for my order"') == [m.refund.id]
    assert ids(app, corpus.alice, '"order my refund"') == []
    assert m.refund.id not in ids(app, corpus.alice, "refund -order")
    assert set(ids(app, corpus.alice, "shipping or invoice")) == {m.midnight.id, m.link.id}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from:bob refund", {"refunds_bob", "old"}),
        ("from:me refund", {"refund", "xss"}),
        ("-from:bob refund", {"refund", "xss"}),
        ("mentions:alice", {"refunds_bob"}),
        ("mentions:me", {"refunds_bob"}),
        ("-mentions:me refunds", {"refund", "xss", "old"}),
        ("in:billing refund", {"refund", "refunds_bob", "xss"}),
        ("-in:billing refund", {"old"}),
        ("has:attachment", {"midnight", "link"}),
        ("has:image", {"midnight"}),
        ("has:link", {"link"}),
        ("has:file", set()),
        ("-has:attachment in:billing", {"refund", "refunds_bob", "xss"}),
        ("is:reply", {"refunds_bob"}),
        ("-is:reply refund in:billing", {"refund", "xss"}),
        ("is:archived", {"old"}),
        ("-is:archived refund", {"refund", "refunds_bob", "xss"}),
        ("from:bob has:image", {"midnight"}),
        ("from:bob in:billing -is:reply", {"midnight"}),
    ],
)
def test_operators_alone_combined_and_negated(app, corpus, query, expected):
    m = corpus.m
    names = {k for k, v in vars(m).items() if v.id in set(ids(app, corpus.alice, query))}
    assert names == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # 23:59:59 on the 21st and 00:00:00 on the 22nd fall on either side of the day line.
        ("on:2026-11-21", {"refunds_bob"}),
        ("on:2026-11-22", {"midnight", "link"}),
        ("before:2026-11-22", {"refund", "refunds_bob", "old"}),
        ("after:2026-11-21", {"midnight", "link", "xss"}),
        ("after:2026-11-20 before:2026-11-22", {"refunds_bob"}),
        ("-on:2026-11-22 in:billing", {"refund", "refunds_bob", "xss"}),
    ],
)
def test_dates_at_day_boundaries_in_utc(app, corpus, query, expected):
    m = corpus.m
    found = set(ids(app, corpus.alice, query))
    assert {k for k, v in vars(m).items() if v.id in found} == expected


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("refund before:2026-13-45", "not a date"),
        ("refund frm:bob", "Unknown operator"),
        ("from:nobody refund", "No user"),
        ("in:nowhere", "No thread"),
        ("has:bananas", "not known"),
        ("is:", "needs a value"),
    ],
)
def test_bad_operators_become_messages(app, corpus, query, needle):
    _, res = run(app, corpus.alice, query)
    assert any(needle in w for w in res.warnings), res.warnings


def test_in_thread_of_someone_else_is_unknown_to_an_end_user(app, corpus):
    texts, res = run(app, corpus.alice, "in:carols refund")
    assert texts == []
    assert any("No thread" in w for w in res.warnings)


def test_snippet_is_the_text_with_highlight_offsets_and_the_filter_escapes_it(app, corpus):
    with app.app_context():
        viewer = db.session.get(User, corpus.alice.id)
        res = search_service.search(viewer, "refund later")
    hit = next(h for h in res.items if h.message.id == corpus.m.xss.id)
    snippet = hit.snippet
    assert snippet.text == corpus.m.xss.content  # a short message is shown whole
    assert [snippet.text[a:b] for a, b in snippet.marks] == ["refund", "later"]
    html = str(highlight(snippet))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html
    assert "<mark>refund</mark>" in html and "<mark>later</mark>" in html
    stripped = html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped


def test_message_text_cannot_forge_a_highlight(app, corpus, factory):
    t = factory.thread(corpus.alice, [], title="Forge")
    forged = factory.message(t, corpus.alice, "parcel \ue000x\ue000<mark>evil\ue001x\ue001")
    with app.app_context():
        viewer = db.session.get(User, corpus.alice.id)
        res = search_service.search(viewer, "parcel")
    (hit,) = [h for h in res.items if h.message.id == forged.id]
    assert [hit.snippet.text[a:b] for a, b in hit.snippet.marks] == ["parcel"]
    assert "&lt;mark&gt;evil" in str(highlight(hit.snippet))


def test_keyset_pages_cover_everything_once(app, corpus, factory):
    t = factory.thread(corpus.alice, [], title="Many")
    for i in range(7):
        factory.message(t, corpus.alice, f"parcel number {i}")
    seen, cursor = [], None
    for _ in range(5):
        found = ids(app, corpus.alice, "parcel", limit=3, cursor=cursor)
        seen += found
        with app.app_context():
            viewer = db.session.get(User, corpus.alice.id)
            cursor = search_service.search(viewer, "parcel", limit=3, cursor=cursor).next_cursor
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)


def test_relevance_order_and_total(app, corpus, factory):
    t = factory.thread(corpus.alice, [], title="Rank")
    strong = factory.message(t, corpus.alice, "parcel parcel parcel lost parcel")
    weak = factory.message(t, corpus.alice, "a parcel and many other words about other things")
    _, res = run(app, corpus.alice, "parcel", order="relevance")
    assert [h.message.id for h in res.items] == [strong.id, weak.id]
    assert res.total == 2 and res.total_label == "2 results"

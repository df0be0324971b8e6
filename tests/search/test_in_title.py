"""Finding 8: `in:` names a thread by id, by exact name, else by the words of its title."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from dashboard.extensions import db
from dashboard.models import User
from dashboard.services import search as search_service
from tests.conftest import TEST_PASSWORD
from tests.search.test_pages import login


def run(app, user, q):  # type: ignore[no-untyped-def]
    with app.app_context():
        viewer = db.session.get(User, user.id)
        res = search_service.search(viewer, q, all_threads=viewer.is_staff)
        return sorted(h.message.content for h in res.items), res.warnings


def _threads(factory):  # type: ignore[no-untyped-def]
    ann = factory.user(username="ann")
    ben = factory.user(username="ben")
    sam = factory.user(role="support", username="sam", password=TEST_PASSWORD)
    # Demo threads have a title and no name.
    help_ = factory.thread(ann, [], title="Billing help", at=datetime(2026, 11, 1))
    late = factory.thread(ben, [], title="Late billing: invoice #12", at=datetime(2026, 11, 2))
    other = factory.thread(ann, [ben], title="Shipping", at=datetime(2026, 11, 3))
    factory.message(help_, ann, "refund for the billing help thread")
    factory.message(late, ben, "refund in the late thread")
    factory.message(other, ann, "refund elsewhere, about billing")
    return SimpleNamespace(ann=ann, ben=ben, sam=sam)


def test_in_matches_title_words_when_no_thread_has_the_name(app, factory):
    u = _threads(factory)
    both = ["refund for the billing help thread", "refund in the late thread"]
    assert run(app, u.sam, "in:billing refund") == (both, [])
    assert run(app, u.sam, "in:Billing") == (both, [])
    assert run(app, u.sam, 'in:"billing help"') == (["refund for the billing help thread"], [])
    assert run(app, u.sam, "in:invoice-12") == (["refund in the late thread"], [])
    # Whole words only: `bill` is not a word of "Billing help".
    assert run(app, u.sam, "in:bill")[0] == []
    assert run(app, u.sam, "-in:billing refund")[0] == ["refund elsewhere, about billing"]


def test_an_exact_name_wins_over_title_words(app, factory):
    u = _threads(factory)
    named = factory.thread(u.ann, [], title="Accounts", name="billing")
    factory.message(named, u.ann, "refund in the named thread")
    assert run(app, u.sam, "in:billing refund")[0] == ["refund in the named thread"]


def test_end_users_match_only_titles_of_their_threads(app, factory):
    u = _threads(factory)
    assert run(app, u.ann, "in:billing refund") == (["refund for the billing help thread"], [])
    texts, warnings = run(app, u.ann, "in:late refund")
    assert texts == []
    assert warnings == ["No thread of yours has the id, name or title “late”."]


def test_the_warning_is_worded_for_the_role(app, factory):
    u = _threads(factory)
    assert run(app, u.sam, "in:nowhere")[1] == ["No thread has the id, name or title “nowhere”."]
    assert run(app, u.ann, "in:nowhere")[1] == [
        "No thread of yours has the id, name or title “nowhere”."
    ]


def test_search_page_example_in_billing_finds_titled_threads(app, client, factory):
    u = _threads(factory)
    login(client, u.sam)
    html = client.get("/dashboard/search?q=refund+in:billing").get_data(as_text=True)
    assert "2 results" in html
    assert "No thread" not in html
    html = client.get("/dashboard/search?q=in:nowhere").get_data(as_text=True)
    assert "No thread has the id, name or title “nowhere”." in html
    assert "of yours" not in html

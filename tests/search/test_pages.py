"""The Search page and GET /api/v1/search, through real requests on both databases."""

from __future__ import annotations

import re

from tests.conftest import TEST_PASSWORD, get_csrf


def login(client, user):  # type: ignore[no-untyped-def]
    csrf = get_csrf(client, "/login")
    resp = client.post(
        "/login", data={"username": user.username, "password": TEST_PASSWORD, "csrf_token": csrf}
    )
    assert resp.status_code == 302


def test_page_is_for_staff_only(client, login_as):
    assert client.get("/dashboard/search").status_code == 302  # to the login page
    login_as("user")
    assert client.get("/dashboard/search?q=refund").status_code == 403


def test_page_shows_highlighted_escaped_results_linking_into_the_thread(client, corpus, factory):
    staff = factory.user(role="support", password=TEST_PASSWORD)
    login(client, staff)
    html = client.get("/dashboard/search?q=refund+in:billing").get_data(as_text=True)
    assert "3 results" in html
    assert "<mark>refund</mark>" in html or "<mark>Refund</mark>" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    xss = corpus.m.xss.id
    assert re.search(rf'href="/dashboard/threads/{corpus.shared.id}\?around={xss}#m-{xss}"', html)
    assert re.search(r"in \d+\.\d ms", html)


def test_htmx_gets_the_partial_and_load_more_pages(client, corpus, factory):
    staff = factory.user(role="support", password=TEST_PASSWORD)
    login(client, staff)
    t = factory.thread(staff, [], title="Many parcels")
    for i in range(25):
        factory.message(t, staff, f"parcel {i}")
    hx = {"HX-Request": "true"}
    first = client.get("/dashboard/search?q=parcel", headers=hx).get_data(as_text=True)
    assert "<html" not in first
    # An exact count, or (when the database walked newest-first) a true lower bound.
    assert re.search(r"(25 results|more than 20 results)", first)
    assert first.count('class="search-hit"') == 20
    more = re.search(r'hx-get="([^"]*cursor=[^"]*)"', first)
    assert more
    url = more.group(1).replace("&amp;", "&")
    second = client.get(url, headers=hx).get_data(as_text=True)
    assert second.count('class="search-hit"') == 5 and "Load more" not in second


def test_page_bad_input_is_a_message_not_an_error(client, corpus, factory):
    staff = factory.user(role="support", password=TEST_PASSWORD)
    login(client, staff)
    resp = client.get("/dashboard/search?q=on:2026-02-30+frm:x&cursor=garbage")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "not a date" in html and "Unknown operator" in html and "cursor" in html


def test_api_needs_a_login(client, corpus):
    assert client.get("/api/v1/search?q=refund").status_code == 401


def test_api_json_shape_scope_and_paging(app, client, corpus, factory):
    carol = factory.user(username="carol2", password=TEST_PASSWORD)
    t = factory.thread(carol, [], title="Carol 2")
    for i in range(3):
        factory.message(t, carol, f"refund request {i}")
    login(client, carol)
    body = client.get("/api/v1/search?q=refund&limit=2").get_json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["nextCursor"]
    item = body["items"][0]
    assert item["content"] == "refund request 2" and item["threadId"] == t.id
    assert item["snippet"] == "<mark>refund</mark> request 2"
    assert item["user"]["username"] == "carol2"
    nxt = client.get("/api/v1/search", query_string={"q": "refund", "cursor": body["nextCursor"]})
    assert [i["content"] for i in nxt.get_json()["items"]] == ["refund request 0"]
    # Other people's refund messages (the corpus) never show up.
    assert all(i["threadId"] == t.id for i in body["items"])


def test_api_bad_input_is_clear_json(client, corpus, factory):
    user = factory.user(password=TEST_PASSWORD)
    login(client, user)
    resp = client.get("/api/v1/search?q=x&limit=500")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "validation_failed"
    resp = client.get("/api/v1/search?q=x&cursor=%5B%22n%22%2C5%5D")
    assert resp.status_code == 400 and "cursor" in resp.get_json()["error"]["message"]
    body = client.get("/api/v1/search?q=before:yesterday").get_json()
    assert body["items"] == [] and any("not a date" in w for w in body["warnings"])


def test_api_results_carry_the_message_status(app, client, factory):
    from dashboard.extensions import db
    from dashboard.models import Participant

    ann = factory.user(username="ann", password=TEST_PASSWORD)
    ben = factory.user(username="ben")
    t = factory.thread(ann, [ben], title="Status")
    read = factory.message(t, ann, "refund one")
    unread = factory.message(t, ann, "refund two")
    with app.app_context():
        p = db.session.get(Participant, (t.id, ben.id))
        p.delivered_through = unread.id
        p.read_through = read.id
        db.session.commit()
    login(client, ann)
    items = client.get("/api/v1/search?q=refund").get_json()["items"]
    assert {i["id"]: i["status"] for i in items} == {read.id: "read", unread.id: "delivered"}


def test_relevance_says_what_it_ranked_on_the_page_and_in_the_api(client, corpus, factory):
    """A few matches are all ranked, and both the page and the API say so; a bad order is 422."""
    staff = factory.user(role="support", password=TEST_PASSWORD)
    login(client, staff)
    html = client.get("/dashboard/search?q=refund&order=relevance").get_data(as_text=True)
    assert "most relevant first" in html and "ranked among all matches" in html
    assert "ranked among" not in client.get("/dashboard/search?q=refund").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": get_csrf(client, "/dashboard/search")})
    alice = factory.user(username="alice2", password=TEST_PASSWORD)
    t = factory.thread(alice, [], title="Alice 2")
    factory.message(t, alice, "refund refund refund please")
    factory.message(t, alice, "a refund")
    client.delete_cookie("session")
    login(client, alice)
    body = client.get("/api/v1/search?q=refund&order=relevance").get_json()
    assert body["order"] == "relevance" and body["rankedWindow"] is None
    assert body["items"][0]["content"] == "refund refund refund please"
    newest = client.get("/api/v1/search?q=refund").get_json()
    assert newest["order"] == "newest" and "rankedWindow" not in newest
    resp = client.get("/api/v1/search?q=refund&order=best")
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "validation_failed"

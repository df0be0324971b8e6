"""Any input — unicode, quotes, operator soup — gives a page of results or a clear message."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_PASSWORD, get_csrf

PIECES = st.sampled_from(
    [
        "from:",
        "from:me",
        "-from:alice",
        "in:",
        "in:billing",
        "mentions:",
        "mentions:me",
        "has:",
        "has:image",
        "has:bananas",
        "is:",
        "is:reply",
        "is:hidden",
        "-is:archived",
        "before:",
        "after:2026-11-21",
        "on:2026-02-30",
        "before:9999-99-99",
        "on:0001-01-01",
        '"',
        '""',
        '"refund',
        "refund",
        "-",
        "--",
        "or",
        "OR",
        "-or",
        "*",
        "(",
        ")",
        "NEAR(",
        "AND",
        "NOT",
        "^",
        ":",
        "::",
        "\\",
        "'",
        "%",
        "_",
        "\x00",
        "\ue000",
        "\ue001",
        "<mark>",
        "<script>",
        "&amp;",
        "😀",
        "Ω",
        "ﬁ",
        "İ",
        "日本語",
        "\u200b",
        " ",
        "\t",
        "\n",
    ]
)
QUERIES = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=12).map("".join)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _login_staff(client, factory):  # type: ignore[no-untyped-def]
    staff = factory.user(role="support", password=TEST_PASSWORD)
    csrf = get_csrf(client, "/login")
    client.post(
        "/login", data={"username": staff.username, "password": TEST_PASSWORD, "csrf_token": csrf}
    )
    return staff


@FUZZ
@given(q=QUERIES, relevance=st.booleans())
def test_any_query_gives_results_or_a_message(client, corpus, factory, q, relevance):
    if not getattr(client, "_fuzz_logged_in", False):
        _login_staff(client, factory)
        client._fuzz_logged_in = True
    order = "relevance" if relevance else "newest"
    page = client.get("/dashboard/search", query_string={"q": q, "order": order})
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    hx = client.get(
        "/dashboard/search", query_string={"q": q, "order": order}, headers={"HX-Request": "1"}
    )
    assert hx.status_code == 200
    html = hx.get_data(as_text=True)
    if q.strip():
        assert "result" in html or "search-warnings" in html
    api = client.get("/api/v1/search", query_string={"q": q})
    if "\x00" in q:
        # The API refuses NUL characters everywhere (PostgreSQL cannot store them): a clear 400.
        assert api.status_code == 400, api.get_data(as_text=True)[:500]
        assert api.get_json()["error"]["message"] == "NUL characters are not allowed."
        return
    assert api.status_code == 200, api.get_data(as_text=True)[:500]
    body = api.get_json()
    assert isinstance(body["items"], list) and "nextCursor" in body
    for item in body["items"]:
        stripped = item["snippet"].replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped


@FUZZ
@given(cursor=st.text(max_size=40))
def test_any_cursor_gives_results_or_a_clear_error(client, corpus, factory, cursor):
    if not getattr(client, "_fuzz_logged_in", False):
        _login_staff(client, factory)
        client._fuzz_logged_in = True
    api = client.get("/api/v1/search", query_string={"q": "refund", "cursor": cursor})
    assert api.status_code in (200, 400)
    if api.status_code == 400:
        assert api.get_json()["error"]["code"] == "bad_request"
    page = client.get("/dashboard/search", query_string={"q": "refund", "cursor": cursor})
    assert page.status_code == 200

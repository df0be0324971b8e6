"""The overview: live counts and the 30-day messages-per-day chart."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from dashboard.models import utcnow
from dashboard.services import presence, stats

from .pages_support import HTMX


@pytest.fixture(autouse=True)
def _no_presence(monkeypatch):
    monkeypatch.setattr(stats, "COUNTS_TTL", -1.0)  # every request counts afresh here
    presence.reset()
    yield
    presence.reset()


def count(html: str, key: str) -> int:
    m = re.search(rf'data-count="{key}">([\d,]+)<', html)
    assert m, key
    return int(m.group(1).replace(",", ""))


def test_counts(app, client, factory, login_as):
    staff = login_as("support")
    u = factory.user()
    active = factory.thread(u)
    factory.thread(u, is_archived=True)
    factory.thread(u, is_archived=True)
    today = utcnow()
    m1 = factory.message(active, u, "today 1", at=today)
    factory.message(active, u, "today 2", at=today)
    factory.message(active, u, "long ago", at=today - timedelta(days=3))
    factory.report(m1, staff)
    presence.connect(u.id, "s1")
    presence.connect(u.id, "s2")
    presence.connect(staff.id, "s3")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert count(html, "active_threads") == 1
    assert count(html, "archived_threads") == 2
    assert count(html, "messages_today") == 2
    assert count(html, "open_reports") == 1
    assert count(html, "online_now") == 2
    presence.disconnect(staff.id, "s3")
    partial = client.get("/dashboard/counts", headers=HTMX).get_data(as_text=True)
    assert "<html" not in partial and count(partial, "online_now") == 1


def test_counts_refresh_on_live_events_and_every_30s(client, login_as):
    login_as("support")
    html = client.get("/dashboard/").get_data(as_text=True)
    trigger = re.search(r'<div id="overview-counts"[^>]*hx-trigger="([^"]+)"', html, re.S)
    assert trigger, "the counts partial has no hx-trigger"
    parts = {p.strip() for p in trigger.group(1).split(",")}
    assert parts == {
        "live:activity delay:500ms from:body",
        "live:report delay:500ms from:body",
        "live:presence delay:500ms from:body",
        "every 30s",
    }
    assert 'src="/static/js/live.js"' in html
    assert 'src="/static/vendor/socket.io-4.8.4.min.js"' in html


def test_chart_has_30_bars_with_the_days_counts(app, client, factory, login_as):
    login_as("support")
    u = factory.user()
    t = factory.thread(u, at=utcnow() - timedelta(days=40))
    now = utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(3):
        factory.message(t, u, f"two days ago {n}", at=midnight - timedelta(days=2, hours=-n - 1))
    factory.message(t, u, "today", at=now)
    factory.message(t, u, "too old for the chart", at=midnight - timedelta(days=31))
    html = client.get("/dashboard/").get_data(as_text=True)
    bars = re.findall(r'<rect class="bar[^"]*"[^>]*data-day="([\d-]+)" data-count="(\d+)"', html)
    assert len(bars) == 30
    days = [d for d, _ in bars]
    assert days == sorted(days) and days[-1] == now.date().isoformat()
    by_day = {d: int(c) for d, c in bars}
    assert by_day[(midnight - timedelta(days=2)).date().isoformat()] == 3
    assert by_day[now.date().isoformat()] == 1
    assert sum(by_day.values()) == 4
    # every bar has an accessible label, and the chart a title
    assert len(re.findall(r"<title>[^<]+: [\d,]+ messages</title>", html)) == 30
    assert 'role="img"' in html and "Messages per day, last 30 days" in html
    # a message sent now shows up at once (today is never cached)
    factory.message(t, u, "another", at=utcnow())
    html = client.get("/dashboard/").get_data(as_text=True)
    bars = re.findall(r'data-day="([\d-]+)" data-count="(\d+)"', html)
    assert dict(bars)[now.date().isoformat()] == "2"


def test_empty_dashboard_still_draws_the_chart(client, login_as):
    login_as("support")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert len(re.findall(r'<rect class="bar', html)) == 30
    assert "0 in all" in html


def test_chart_geometry_is_drawn_by_the_template(app, client, factory, login_as):
    """Bars grow with their day's count up to the round top; they stand on the axis, in order."""
    login_as("support")
    u = factory.user()
    t = factory.thread(u, at=utcnow() - timedelta(days=40))
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(4):  # 4 two days ago, 2 yesterday: the top is 5
        factory.message(t, u, f"old {n}", at=midnight - timedelta(days=2, hours=-n - 1))
    for n in range(2):
        factory.message(t, u, f"yesterday {n}", at=midnight - timedelta(hours=n + 1))
    html = client.get("/dashboard/").get_data(as_text=True)
    rects = re.findall(
        r'<rect class="bar[^"]*" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"'
        r' data-day="[\d-]+" data-count="(\d+)"',
        html,
    )
    assert len(rects) == 30
    bars = [tuple(map(float, r)) for r in rects]
    bottoms = {round(y + h, 2) for _, y, _, h, _ in bars}
    assert bottoms == {202.0}  # every bar stands on the x axis
    heights = {int(n): h for _, _, _, h, n in bars}
    assert heights[0] == 0 and heights[4] == 190 * 4 / 5 and heights[2] == 190 * 2 / 5
    xs = [x for x, *_ in bars]
    assert xs == sorted(xs) and all(x + w <= 952 for x, _, w, _, _ in bars)
    assert ">5</text>" in html  # the axis' top tick

"""Dashboard figures: messages per day (with closed days cached) and the chart's layout."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dashboard.services import stats


def test_messages_per_day_counts_each_utc_day(app, factory):
    u = factory.user()
    t = factory.thread(u, at=datetime(2026, 1, 1))
    now = datetime(2026, 3, 10, 15, 0)
    for at in (
        datetime(2026, 3, 10, 0, 0),  # today, first instant
        datetime(2026, 3, 10, 14, 59),
        datetime(2026, 3, 9, 23, 59, 59),  # yesterday, last second
        datetime(2026, 2, 9, 12, 0),  # 29 days ago: the first bar
        datetime(2026, 2, 8, 23, 0),  # 30 days ago: outside
        datetime(2026, 3, 10, 16, 0),  # later today than `now`: still today
    ):
        factory.message(t, u, "x", at=at)
    with app.test_request_context():
        days = stats.messages_per_day(now=now)
    assert len(days) == 30
    assert days[0].day == date(2026, 2, 9) and days[-1].day == date(2026, 3, 10)
    counts = {d.day: d.count for d in days}
    assert counts[date(2026, 3, 10)] == 3
    assert counts[date(2026, 3, 9)] == 1
    assert counts[date(2026, 2, 9)] == 1
    assert sum(counts.values()) == 5


def test_closed_days_are_cached_but_today_is_not(app, factory, monkeypatch):
    u = factory.user()
    t = factory.thread(u, at=datetime(2026, 1, 1))
    now = datetime(2026, 3, 10, 15, 0)
    factory.message(t, u, "x", at=datetime(2026, 3, 5, 12))
    with app.test_request_context():
        assert stats.messages_per_day(now=now)[-6].count == 1
    factory.message(t, u, "late backfill", at=datetime(2026, 3, 5, 13))
    factory.message(t, u, "today", at=datetime(2026, 3, 10, 14))
    with app.test_request_context():
        days = stats.messages_per_day(now=now)
    assert days[-6].count == 1  # cached for CLOSED_DAYS_TTL
    assert days[-1].count == 1  # today is always counted
    monkeypatch.setattr(stats, "CLOSED_DAYS_TTL", -1.0)
    with app.test_request_context():
        assert stats.messages_per_day(now=now)[-6].count == 2  # recounted once stale


def test_chart_figures():
    counts = [stats.DayCount(date(2026, 3, 1) + timedelta(days=i), i * 10) for i in range(30)]
    chart = stats.chart_data(counts)
    assert len(chart.days) == 30 and chart.total == sum(range(0, 300, 10))
    assert chart.top == 500 and chart.peak == 290  # a round number above the peak
    assert chart.ticks == [0, 250, 500]
    assert stats.chart_data([stats.DayCount(date(2026, 3, 1), 0)] * 30).top == 1


def test_counts_are_shared_for_a_few_seconds_but_presence_is_live(app, factory, monkeypatch):
    from dashboard.services import presence

    u = factory.user()
    factory.thread(u)
    with app.test_request_context():
        assert stats.overview_counts()["active_threads"] == 1
    factory.thread(u)
    presence.connect(u.id, "sid")
    try:
        with app.test_request_context():
            counts = stats.overview_counts()
        assert counts["active_threads"] == 1  # within COUNTS_TTL: the shared figures
        assert counts["online_now"] == 1  # presence is never cached
        monkeypatch.setattr(stats, "COUNTS_TTL", -1.0)
        with app.test_request_context():
            assert stats.overview_counts()["active_threads"] == 2
    finally:
        presence.reset()


def test_today_count_given_skips_counting_today(app, factory):
    u = factory.user()
    t = factory.thread(u, at=datetime(2026, 1, 1))
    factory.message(t, u, "x", at=datetime(2026, 3, 9, 12))
    factory.message(t, u, "x", at=datetime(2026, 3, 10, 12))
    with app.test_request_context():
        days = stats.messages_per_day(now=datetime(2026, 3, 10, 15), today_count=7)
    assert days[-1].count == 7 and days[-2].count == 1


def test_activity_counts(app, factory):
    alice = factory.user()
    factory.message(factory.thread(alice, []), alice, "now")
    with app.app_context():
        counts = stats.activity_counts()
    assert counts == {"online": 0, "messagesLastMinute": 1, "openReports": 0}

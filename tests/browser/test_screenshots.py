"""Screenshots of every main page at 1280 and 390 px, light and dark (issue 13, done-means 3).

Written to test-output/screenshots/<page>-<width>-<scheme>.png for a person to look at. The
test also checks what every screenshot should show: no sideways scrolling at either width, no
console errors, and the colour scheme the page was asked for.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from dashboard.models import utcnow
from tests.conftest import OUTPUT_DIR, TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

SHOTS = OUTPUT_DIR / "screenshots"
WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")


@pytest.fixture
def demo(factory: Any) -> dict[str, Any]:
    """A small support desk: staff, customers, threads that read like support chat, reports."""
    now = utcnow()
    factory.user(role="admin", username="admin", password=TEST_PASSWORD)
    alice = factory.user(
        username="alice", first_name="Alice", last_name="Anders", password=TEST_PASSWORD
    )
    bob = factory.user(username="bob", first_name="Bob", last_seen_at=now - timedelta(minutes=7))
    kim = factory.user(username="kim.jones9164", last_seen_at=now - timedelta(hours=3))
    for i in range(8):
        factory.user(username=f"customer{i:02d}", last_seen_at=now - timedelta(days=i + 1))
    refund = factory.thread(
        alice, [bob], title="Refund for order A-1042", at=now - timedelta(days=3)
    )
    lines = [
        (alice, "Hi, I was charged twice for order A-1042. Can I get a refund?"),
        (bob, "Sorry about that! I can see two charges. Refunding the second one now."),
        (alice, "Thanks. How long does the refund take?"),
        (bob, "Usually 3 to 5 business days, depending on your bank."),
        (alice, "Great, thank you @bob"),
    ]
    msgs = [
        factory.message(refund, who, text, at=now - timedelta(days=2, minutes=-i))
        for i, (who, text) in enumerate(lines)
    ]
    bug = factory.thread(
        kim, [bob], title="App crashes when I upload a photo", at=now - timedelta(days=1)
    )
    rude = factory.message(
        bug, kim, "This app is garbage and so are you people!!!", at=now - timedelta(hours=5)
    )
    factory.message(
        bug, bob, "Sorry for the trouble. Which phone and app version?", at=now - timedelta(hours=4)
    )
    spam = factory.message(
        bug, kim, "Buy cheap watches at example dot com", at=now - timedelta(hours=3)
    )
    factory.report(rude, bob, "Abusive language")
    factory.report(spam, bob, "Spam link")
    for i in range(12):
        factory.thread(
            alice,
            [kim],
            title=f"Question about invoice #{2040 + i}",
            at=now - timedelta(days=10 + i),
        )
    return {"refund": refund, "target": msgs[2], "alice": alice}


def log_in(page: Any, base: str, username: str, landing: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(landing))


def test_screenshots_of_every_main_page(
    app: Any, browser: Any, live_server: Any, demo: dict[str, Any]
) -> None:
    from dashboard.extensions import db
    from dashboard.models import User
    from dashboard.services import threads as threads_service

    base = live_server.url
    with app.app_context():  # an audit entry or two to show
        admin = db.session.scalar(db.select(User).where(User.username == "admin"))
        threads_service.archive_thread(admin, demo["refund"].id, "Refund done")
        threads_service.archive_thread(admin, demo["refund"].id, "Reopened", archived=False)
    pages = {
        "overview": "/dashboard/",
        "threads": "/dashboard/threads",
        "thread": f"/dashboard/threads/{demo['refund'].id}?around={demo['target'].id}",
        "search": "/dashboard/search?q=refund",
        "users": "/dashboard/users",
        "user": f"/dashboard/users/{demo['alice'].id}",
        "presence": "/dashboard/presence",
        "reports": "/dashboard/reports",
        "audit": "/dashboard/audit",
    }
    if "dashboard.watched_words_list" in app.view_functions:
        pages["watched-words"] = "/dashboard/watched-words"
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for scheme in SCHEMES:
        for width in WIDTHS:
            context = browser.new_context(
                viewport={"width": width, "height": 900}, color_scheme=scheme
            )
            page = context.new_page()
            errors: list[str] = []
            page.on(
                "console", lambda m, out=errors: out.append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda e, out=errors: out.append(str(e)))
            try:
                page.goto(f"{base}/login")
                page.screenshot(path=str(SHOTS / f"login-{width}-{scheme}.png"), full_page=True)
                log_in(page, base, "admin", r"/dashboard/?$")
                for name, path in pages.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(150)
                    shot = SHOTS / f"{name}-{width}-{scheme}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > width:
                        problems.append(f"{name} at {width}px {scheme}: {wide}px wide")
                    bg = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
                    dark = _is_dark(bg)
                    if dark != (scheme == "dark"):
                        problems.append(f"{name} at {width}px {scheme}: background {bg}")
                page.get_by_role("button", name=re.compile("^Log out")).click()
                page.wait_for_url(re.compile(r"/login"))
                log_in(page, base, "alice", r"/chat/?")
                page.wait_for_selector("#connection[data-state=online]", state="attached")
                page.wait_for_timeout(300)
                page.screenshot(path=str(SHOTS / f"chat-{width}-{scheme}.png"), full_page=True)
            finally:
                context.close()
            problems.extend(f"console at {width}px {scheme}: {e}" for e in errors)
    assert problems == [], problems
    assert len(list(SHOTS.glob("*.png"))) >= (len(pages) + 2) * 4


def _is_dark(css_colour: str) -> bool:
    nums = [float(n) for n in re.findall(r"[\d.]+", css_colour)[:3]]
    return sum(nums) / 3 < 128

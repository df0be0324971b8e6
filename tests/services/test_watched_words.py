"""Watched words: validation at save time, matching on send and edit, flag and block, audit."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from dashboard.extensions import db
from dashboard.models import AuditLog, Message, Report, User, WatchedWord
from dashboard.services import messages, watched_words
from dashboard.services.errors import Forbidden, ValidationFailed
from dashboard.services.watched_words import Blocked
from dashboard.services.word_matcher import BadPattern, Matcher, Rule, check_regex


def _setup(app, factory):
    mod = factory.user(role="moderator")
    author = factory.user()
    other = factory.user()
    t = factory.thread(author, [other])
    return mod, author, t


def _add(app, mod, kind, pattern, action):
    with app.app_context():
        return watched_words.add_rule(db.session.get(User, mod.id), kind, pattern, action).id


def _count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_block_refuses_the_send_and_stores_nothing(app, factory):
    mod, author, t = _setup(app, factory)
    _add(app, mod, "phrase", "Free  Crypto", "block")
    with app.app_context():
        me = db.session.get(User, author.id)
        # Full-width letters, other case, other spacing: NFKC + casefold make them one phrase.
        with pytest.raises(Blocked) as err:
            wide = "get \uff26\uff32\uff25\uff25 crypto now"  # FREE in full-width letters
            messages.send_message(me, t.id, client_id="c1", content=wide)
        db.session.rollback()
        assert err.value.code == "blocked" and err.value.status == 422
        assert "blocked phrase" in err.value.message
        assert "crypto" not in err.value.message.lower()  # the rule itself is not echoed
        assert err.value.details == {"category": "phrase"}
        assert _count(Message) == 0 and _count(Report) == 0
        # Word boundaries: "freecrypto" and "free cryptography" are other words.
        messages.send_message(me, t.id, content="freecrypto and free cryptography")
        assert _count(Message) == 1


def test_flag_stores_the_message_and_files_a_system_report(app, factory):
    mod, author, t = _setup(app, factory)
    rule_id = _add(app, mod, "regex", r"order\s*#?\d{4,}", "flag")
    seen = []
    from dashboard import events

    def listen(report):
        seen.append(report)

    events.subscribe("report_new", listen)
    try:
        with app.app_context():
            me = db.session.get(User, author.id)
            payload, created = messages.send_message(
                me, t.id, client_id="c1", content="My ORDER #12345 is late"
            )
            assert created
            report = db.session.scalar(sa.select(Report))
            assert report.message_id == payload["id"] and report.reporter_id is None
            assert report.state == "open"
            assert report.reason == "Watched word: “order #12345”"
            assert report.meta["source"] == "watched_words"
            assert report.meta["rules"][0]["id"] == rule_id
            # A replay of the same clientId files nothing more.
            messages.send_message(me, t.id, client_id="c1", content="My ORDER #12345 is late")
            assert _count(Report) == 1
    finally:
        events.unsubscribe("report_new", listen)
    assert [r["messageId"] for r in seen] == [payload["id"]]


def test_edit_is_screened_too(app, factory):
    mod, author, t = _setup(app, factory)
    m = factory.message(t, author, "hello")
    _add(app, mod, "word", "scam", "block")
    _add(app, mod, "word", "refund", "flag")
    with app.app_context():
        me = db.session.get(User, author.id)
        with pytest.raises(Blocked) as err:
            messages.edit_message(me, m.id, "this is a SCAM")
        db.session.rollback()
        assert "edit was not saved" in err.value.message
        assert db.session.get(Message, m.id).content == "hello"
        messages.edit_message(me, m.id, "I want a Refund")
        report = db.session.scalar(sa.select(Report))
        assert report.message_id == m.id and report.reporter_id is None


def test_block_wins_over_flag_and_a_replay_is_not_blocked(app, factory):
    mod, author, t = _setup(app, factory)
    with app.app_context():
        me = db.session.get(User, author.id)
        stored, _ = messages.send_message(me, t.id, client_id="c9", content="spam spam")
    _add(app, mod, "word", "spam", "flag")
    _add(app, mod, "regex", r"spam\s+spam", "block")
    with app.app_context():
        me = db.session.get(User, author.id)
        # The retry of a message stored before the rule came is that message, not a refusal.
        again, created = messages.send_message(me, t.id, client_id="c9", content="spam spam")
        assert again["id"] == stored["id"] and not created
        with pytest.raises(Blocked) as err:
            messages.send_message(me, t.id, client_id="c10", content="spam spam")
        assert err.value.details == {"category": "pattern"}
        db.session.rollback()
        assert _count(Report) == 0


@pytest.mark.parametrize(
    ("kind", "pattern", "field_text"),
    [
        ("regex", "(a+)+$", "Nested repeats"),
        ("regex", "(ab|a)*c", "repeated alternation"),
        ("regex", r"(x)\1", "Backreferences"),
        ("regex", "[unclosed", "Not a valid regular expression"),
        ("regex", "a*", "every message"),
        ("regex", "x" * 201, "at most 200"),
        ("word", "two words", "one word"),
        ("word", "  ", "required"),
        ("nope", "x", "word, phrase or regex"),
    ],
)
def test_bad_rules_are_refused_at_save_time(app, factory, kind, pattern, field_text):
    mod = factory.user(role="moderator")
    with app.app_context():
        actor = db.session.get(User, mod.id)
        with pytest.raises(ValidationFailed) as err:
            watched_words.add_rule(actor, kind, pattern, "flag")
        assert any(field_text in v for v in err.value.details["fields"].values())
        db.session.rollback()
        assert _count(WatchedWord) == 0 and _count(AuditLog) == 0


def test_changes_are_audited_and_need_a_moderator(app, factory):
    mod = factory.user(role="moderator")
    support = factory.user(role="support")
    rule_id = _add(app, mod, "word", "Spam", "flag")
    with app.app_context():
        actor = db.session.get(User, mod.id)
        with pytest.raises(ValidationFailed):  # the same word again, any case
            watched_words.add_rule(actor, "word", "SPAM", "block")
        db.session.rollback()
        with pytest.raises(Forbidden):
            watched_words.add_rule(db.session.get(User, support.id), "word", "x", "flag")
        with pytest.raises(Forbidden):
            watched_words.delete_rule(db.session.get(User, support.id), rule_id)
        watched_words.delete_rule(actor, rule_id)
        rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()
        assert [(r.action, r.target_id, r.details["pattern"], r.actor_id) for r in rows] == [
            ("watched_word.add", rule_id, "Spam", mod.id),
            ("watched_word.delete", rule_id, "Spam", mod.id),
        ]
        assert _count(WatchedWord) == 0


def test_another_process_change_is_seen_after_the_refresh(app, factory):
    """A rule written by another process (straight into the table) applies within the refresh."""
    _mod, author, t = _setup(app, factory)
    app.config["WATCHED_WORDS_REFRESH_SECONDS"] = 1
    with app.app_context():
        me = db.session.get(User, author.id)
        messages.send_message(me, t.id, content="warm the cache: casino")
        db.session.add(
            WatchedWord(kind="word", pattern="casino", normalized="casino", action="block")
        )
        db.session.commit()
        time.sleep(1.1)
        with pytest.raises(Blocked):
            messages.send_message(me, t.id, content="casino again")


def test_matcher_500_rules_under_a_millisecond():
    rules = [Rule(f"w{i}", "word", f"spamword{i}", "flag") for i in range(400)]
    rules += [Rule(f"p{i}", "phrase", f"cheap pills {i}", "flag") for i in range(50)]
    rules += [Rule(f"r{i}", "regex", rf"\bpromo{i}\d+", "block") for i in range(50)]
    m = Matcher.build(rules)
    text = "Hi, I need a refund for order A-2042: the item arrived broken and nobody answered. " * 2
    start = time.perf_counter()
    for _ in range(200):
        assert m.match(text) == []
    per_message = (time.perf_counter() - start) / 200
    assert per_message < 0.001, per_message
    hits = m.match("SPAMWORD7, cheap   pills 3 and promo12345")
    assert {h.rule.id for h in hits} == {"w7", "p3", "r1", "r12"}


def test_check_regex_accepts_ordinary_patterns():
    for ok in (r"\border\s*#?\d{4,}", r"(?i:viagra)", "a{2,}b", "(a{1,3}){2}"):
        check_regex(ok)
    with pytest.raises(BadPattern):
        check_regex("(?P<name>x)")


def test_matcher_groups_find_exactly_what_each_rule_matches():
    """Each prefilter group (punctuated literals, regexes by a required literal, regexes with
    and without capitals) finds its rules' matches and nothing else."""
    rules = [
        Rule("lit", "phrase", "A-1042!", "flag"),
        Rule("anch", "regex", r"[A-Z]{2}promo\d+", "flag"),  # IGNORECASE, literal "promo"
        Rule("mail", "regex", r"\S+@\S+\.test", "flag"),  # IGNORECASE, literal ".test"
        Rule("caps", "regex", r"\b[A-Z]\d[A-Z] ?\d[A-Z]\d\b", "flag"),  # no literal
        Rule("low", "regex", r"\d{3}-\d{4}", "flag"),  # no capitals, no literal
        Rule("alt", "regex", r"buy (?:now|today)|act fast", "flag"),
    ]
    m = Matcher.build(rules)
    assert len(m.groups) == 4

    def ids(text):
        return sorted(h.rule.id for h in m.match(text))

    assert ids("order a-1042! is late") == ["lit"]
    assert ids("order xa-1042! is late") == []  # word boundary before a letter
    assert ids("get XYPROMO99 now") == ["anch"]
    assert ids("write to Kim@Example.TEST") == ["mail"]
    assert ids("ship to k1a 0b1 please") == ["caps"]
    assert ids("call 555-1234") == ["low"]
    assert ids("ACT FAST, buy today") == ["alt"]
    assert ids("an ordinary message about a promo") == []

"""Watched words: the moderators' list (add, delete, page through; audited) and its enforcement.

`screen(content, ...)` is what the send and edit paths call: a `block` rule raises `Blocked`
(nothing is stored), `flag` rules are returned so the caller files a system report in the
same transaction as the message (`stage_flag_report`), and announces it after the commit.

The rules are compiled into one `word_matcher.Matcher` per app and process. A change made in
this process rebuilds it at once; other processes notice within WATCHED_WORDS_REFRESH_SECONDS
by comparing the table's (count, newest id) signature, which every add or delete changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import events
from ..extensions import db
from ..models import WATCHED_ACTIONS, WATCHED_KINDS, Report, User, WatchedWord, new_id, utcnow
from . import audit
from .errors import Forbidden, NotFound, ServiceError, ValidationFailed
from .pagination import Page, decode_cursor, encode_cursor
from .word_matcher import PATTERN_MAX, BadPattern, Hit, Matcher, Rule, check_regex, normalize

PAGE_SIZE = 100
RULES_MAX = 2000
CATEGORY = {"word": "word", "phrase": "phrase", "regex": "pattern"}


class Blocked(ServiceError):
    """A watched word with the `block` action: the send or edit is refused, nothing stored."""

    code, status = "blocked", 422


# --- the compiled rules, per app --------------------------------------------------------------


@dataclass
class _Cache:
    matcher: Matcher
    signature: tuple[int, str | None]
    checked_at: float


_lock = threading.Lock()


def _signature() -> tuple[int, str | None]:
    count, newest = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(WatchedWord.id)).select_from(WatchedWord)
    ).one()
    return int(count or 0), newest


def _load() -> Matcher:
    rows = db.session.execute(
        sa.select(WatchedWord.id, WatchedWord.kind, WatchedWord.pattern, WatchedWord.action)
    ).all()
    return Matcher.build(Rule(*row) for row in rows)


def matcher() -> Matcher:
    """The current compiled rules (rebuilt when this or another process changed them)."""
    ext = current_app.extensions
    cache: _Cache | None = ext.get("watched_words")
    now = time.monotonic()
    if (
        cache is not None
        and now - cache.checked_at < current_app.config["WATCHED_WORDS_REFRESH_SECONDS"]
    ):
        return cache.matcher
    signature = _signature()
    if cache is not None and cache.signature == signature:
        cache.checked_at = now
        return cache.matcher
    with _lock:
        built = _load()
        ext["watched_words"] = _Cache(built, signature, now)
    return built


def invalidate() -> None:
    """Forget the compiled rules of this app (the next message rebuilds them)."""
    current_app.extensions.pop("watched_words", None)


# --- enforcement --------------------------------------------------------------------------------


def screen(content: str, *, editing: bool = False) -> list[Hit]:
    """The flag rules `content` hits; raises Blocked when a block rule hits."""
    m = matcher()
    if not m:
        return []
    hits = m.match(content)
    blocked = [h for h in hits if h.rule.action == "block"]
    if blocked:
        category = CATEGORY[blocked[0].rule.kind]
        what = "This edit was not saved" if editing else "This message was not sent"
        raise Blocked(
            f"{what}: it contains a blocked {category}. Change the text and try again.",
            {"category": category},
        )
    return hits


def stage_flag_report(message_id: str, hits: list[Hit]) -> dict[str, Any] | None:
    """Insert a report from the system for a flagged message (the caller commits)."""
    if not hits:
        return None
    quoted = ", ".join(f"“{h.text[:100]}”" for h in hits[:10])
    label = "Watched word" if len(hits) == 1 else "Watched words"
    now = utcnow()
    row = {
        "id": new_id(),
        "message_id": message_id,
        "reporter_id": None,
        "reason": f"{label}: {quoted}"[:1000],
        "state": "open",
        "created_at": now,
        "meta": {
            "source": "watched_words",
            "rules": [
                {"id": h.rule.id, "kind": h.rule.kind, "pattern": h.rule.pattern} for h in hits
            ],
            "matches": [h.text[:200] for h in hits],
        },
    }
    db.session.execute(sa.insert(Report), [row])
    return row


def announce_flag_report(report: dict[str, Any] | None, thread_id: str) -> None:
    """`report:new` on /live for a report staged by `stage_flag_report` (after the commit)."""
    if report is not None:
        events.report_new(
            {"id": report["id"], "messageId": report["message_id"], "threadId": thread_id}
        )


# --- the list -----------------------------------------------------------------------------------


def _check_actor(actor: User) -> None:
    if not actor.is_active or not actor.has_role("moderator"):
        raise Forbidden("Only moderators and admins can change watched words.")


def list_rules(cursor: str | None = None, limit: int | None = None) -> Page[WatchedWord]:
    """Watched words, newest first, one keyset page, with who added them."""
    limit = limit or PAGE_SIZE
    q = sa.select(WatchedWord).options(joinedload(WatchedWord.created_by))
    if cursor:
        created, last_id = decode_cursor(cursor, datetime, str)
        q = q.where(sa.tuple_(WatchedWord.created_at, WatchedWord.id) < sa.tuple_(created, last_id))
    rows = list(
        db.session.scalars(
            q.order_by(WatchedWord.created_at.desc(), WatchedWord.id.desc()).limit(limit + 1)
        )
    )
    nxt = None
    if len(rows) > limit:
        rows = rows[:limit]
        nxt = encode_cursor(rows[-1].created_at, rows[-1].id)
    return Page(rows, nxt)


def count_rules() -> int:
    """How many rules there are."""
    return _signature()[0]


def add_rule(actor: User, kind: Any, pattern: Any, action: Any) -> WatchedWord:
    """Add a rule after validating it (a regex is compiled and checked); audited."""
    _check_actor(actor)
    fields: dict[str, str] = {}
    if kind not in WATCHED_KINDS:
        fields["kind"] = "word, phrase or regex"
    if action not in WATCHED_ACTIONS:
        fields["action"] = "flag or block"
    text = pattern.strip() if isinstance(pattern, str) else ""
    if not text:
        fields["pattern"] = "required"
    elif len(text) > PATTERN_MAX:
        fields["pattern"] = f"at most {PATTERN_MAX} characters"
    elif "\x00" in text:
        fields["pattern"] = "no NUL characters"
    elif kind == "regex":
        try:
            check_regex(text)
        except BadPattern as exc:
            fields["pattern"] = str(exc)
    elif kind == "word" and len(text.split()) > 1:
        fields["pattern"] = "one word (use a phrase for several)"
    if fields:
        first = next(iter(fields.values()))
        raise ValidationFailed(f"Check the rule: {first}", {"fields": fields})
    if count_rules() >= RULES_MAX:
        raise ValidationFailed(
            f"There are already {RULES_MAX} watched words; delete some first.",
            {"fields": {"pattern": f"at most {RULES_MAX} rules"}, "limit": RULES_MAX},
        )
    norm = text if kind == "regex" else " ".join(normalize(text).split())
    rule = WatchedWord(
        id=new_id(),
        kind=kind,
        pattern=text,
        normalized=norm,
        action=action,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(rule)
    audit.record(
        actor,
        "watched_word.add",
        "watched_word",
        rule.id,
        details={"kind": kind, "pattern": text, "action": action},
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed(
            "That rule is on the list already.", {"fields": {"pattern": "already on the list"}}
        ) from None
    invalidate()
    return rule


def delete_rule(actor: User, rule_id: str) -> WatchedWord:
    """Delete a rule; audited with what it was."""
    _check_actor(actor)
    rule = db.session.get(WatchedWord, rule_id)
    if rule is None:
        raise NotFound("No such watched word.")
    audit.record(
        actor,
        "watched_word.delete",
        "watched_word",
        rule.id,
        details={"kind": rule.kind, "pattern": rule.pattern, "action": rule.action},
    )
    db.session.delete(rule)
    db.session.commit()
    invalidate()
    return rule

"""The Jinja filters every page shares, registered on the app by `init_app`.

Views and templates use these; this module imports only the models' clock and the
serializers' `snippet_html` (the API sends the same HTML). Presentation
(ages, ISO times, excerpts, safe links, mention highlighting) is made here, never in a
service, so a service hands templates plain data and offsets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import Flask

from ..models import utcnow
from ..serializers import snippet_html

_URL_OK = ("http", "https")


def ago(when: datetime | None) -> str:
    """'3 min ago'-style age of a naive-UTC time, for tables (the exact time is in a title)."""
    if when is None:
        return "never"
    seconds = int((utcnow() - when).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 365, "y"), (86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"  # pragma: no cover - unreachable


def isoz(when: datetime | None) -> str:
    """ISO 8601 UTC with a Z, for <time datetime=…>."""
    return when.isoformat(timespec="seconds") + "Z" if when else ""


def excerpt(text: str | None, length: int = 160) -> str:
    """The first `length` characters of `text` on one line (escaped later by autoescape)."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


def safe_url(url: str | None) -> str | None:
    """An attachment URL safe to put in href/src: http(s) or a path on this site, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme in _URL_OK and parts.netloc:
        return url.strip()
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"):
        return url
    return None


class _Named(Protocol):
    username: str


class _MessageLike(Protocol):
    id: str
    content: str | None


class _MentionSource(Protocol):
    """What `mention_segments` reads from a page of messages: its users and mentions."""

    users: Mapping[str, _Named]
    mentions: Mapping[str, Iterable[str]]


def segments(text: str | None, names: Iterable[str]) -> list[tuple[str, bool]]:
    """`text` split into (part, is_mention) pairs, where `@name` is one of `names`.

    Usernames may hold any characters, so each name is matched literally, longest first.
    """
    text = text or ""
    ordered = sorted(set(names), key=len, reverse=True)
    if not ordered:
        return [(text, False)] if text else []
    pattern = re.compile(
        "@(?:" + "|".join(re.escape(n) for n in ordered) + r")(?!\w)", re.IGNORECASE
    )
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append((text[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    out.append((text[pos:], False))
    return [s for s in out if s[0]]


def mention_segments(msg: _MessageLike, page: _MentionSource) -> list[tuple[str, bool]]:
    """A message's content in (part, is_mention) pairs: `@name` of the users it mentions."""
    users = page.users
    names = (users[uid].username for uid in page.mentions.get(msg.id, ()) if uid in users)
    return segments(msg.content, names)


FILTERS: dict[str, Any] = {
    "ago": ago,
    "isoz": isoz,
    "excerpt": excerpt,
    "safe_url": safe_url,
    "mention_segments": mention_segments,
    "highlight": snippet_html,  # a search snippet's text with <mark>ed words
}


def init_app(app: Flask) -> None:
    """Register every filter on the app's Jinja environment."""
    app.jinja_env.filters.update(FILTERS)

"""The README and docs/ stand on their own and docs/api.md names what the code serves.

A clone has nothing beyond the repository, so every link in the README, the other top-level
documents (SECURITY.md) and docs/ must resolve to a file inside it. docs/api.md must list
exactly the app's /api/v1 routes and the socket events the namespaces handle, and every event
the server emits: a new endpoint or event without its paragraph fails here, and so does a
paragraph for one that is gone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from dashboard.realtime.chat import ChatNamespace
from dashboard.realtime.live import LiveNamespace

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*sorted(ROOT.glob("*.md")), *sorted((ROOT / "docs").glob("**/*.md"))]
API_DOC = ROOT / "docs" / "api.md"

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")
ENDPOINT = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^\s`?]*)")
EMIT = re.compile(r"\bemit\(\s*\"([^\"]+)\"|\bthread_event\(\s*\"([^\"]+)\"")
TABLE_EVENT = re.compile(r"^\| `([a-z]+(?::[a-z]+)?)` \|", re.M)


def _section(text: str, start: str, end: str) -> str:
    """The text between two headings (both must exist: the doc's structure is the contract)."""
    _, sep, rest = text.partition(start)
    assert sep, f"docs/api.md has no {start!r} heading"
    body, sep, _ = rest.partition(end)
    assert sep, f"docs/api.md has no {end!r} heading"
    return body


def _normalize(path: str) -> str:
    """`/threads/<thread_id>` and `/threads/{id}` alike become `/threads/{}`."""
    path = path.removeprefix("/api/v1")
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def _event_name(method: str) -> str:
    """`on_messages_read` → `messages:read` (the namespaces map `:` to `_`)."""
    return method.removeprefix("on_").replace("_", ":", 1)


def _handled(namespace: type) -> set[str]:
    return {
        _event_name(name)
        for name in vars(namespace)
        if name.startswith("on_") and name not in ("on_connect", "on_disconnect")
    }


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_stay_inside_the_repository(doc: Path) -> None:
    text = doc.read_text()
    assert "shared/" not in text and "SPEC.md" not in text, f"{doc.name} cites the team's brief"
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor on the same page
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
        assert path.exists(), f"{doc.name} links to a missing file: {target}"


@pytest.mark.sqlite_only
def test_api_doc_lists_every_route_and_no_other(app: Flask) -> None:
    served = {
        (method, _normalize(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/")
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {(m, _normalize(p)) for m, p in ENDPOINT.findall(API_DOC.read_text())}
    assert served - documented == set(), "endpoints missing from docs/api.md"
    assert documented - served == set(), "docs/api.md describes endpoints that do not exist"


def test_api_doc_lists_every_socket_event() -> None:
    text = API_DOC.read_text()
    client_events = set(
        TABLE_EVENT.findall(_section(text, "### Client → server", "### Server → client"))
    )
    chat_events = set(TABLE_EVENT.findall(_section(text, "### Server → client", "## Socket.IO")))
    live_events = set(TABLE_EVENT.findall(_section(text, "## Socket.IO: `/live`", "## Presence")))
    assert client_events == _handled(ChatNamespace)
    assert _handled(LiveNamespace) == set(), "/live takes events now: document them"

    code = "\n".join(p.read_text() for p in (ROOT / "dashboard").glob("**/*.py"))
    emitted = {a or b for a, b in EMIT.findall(code)}
    assert emitted, "found no emit calls: update this test's pattern"
    assert emitted <= chat_events | live_events, "events emitted but not in docs/api.md"
    for event in chat_events | live_events:
        assert f'"{event}"' in code, f"docs/api.md describes {event}, which nothing emits"

"""Snippets are text plus highlight offsets; the HTML is made from them outside the service."""

from __future__ import annotations

from dashboard.serializers import snippet_html
from dashboard.services.search.snippets import SNIPPET_CHARS, Sentinels, Snippet, from_marked

S = Sentinels("\ue000n\ue000", "\ue001n\ue001")


def marked(snippet: Snippet) -> list[str]:
    return [snippet.text[a:b] for a, b in snippet.marks]


def test_marked_words_become_offsets_into_the_plain_text():
    raw = f"a {S.start}refund{S.stop} for {S.start}my order{S.stop} … later"
    snippet = from_marked(raw, "unused", S)
    assert snippet.text == "a refund for my order … later"
    assert marked(snippet) == ["refund", "my order"]
    assert str(snippet_html(snippet)) == "a <mark>refund</mark> for <mark>my order</mark> … later"


def test_html_escapes_the_text_inside_and_outside_the_marks():
    raw = f"<b>{S.start}x&y{S.stop}</b>"
    html = str(snippet_html(from_marked(raw, "unused", S)))
    assert html == "&lt;b&gt;<mark>x&amp;y</mark>&lt;/b&gt;"


def test_other_sentinels_are_only_text():
    forged = Sentinels("\ue000other\ue000", "\ue001other\ue001")
    raw = f"{forged.start}evil{forged.stop} {S.start}good{S.stop}"
    assert marked(from_marked(raw, "unused", S)) == ["good"]


def test_an_unclosed_mark_runs_to_the_end_and_a_stray_stop_is_dropped():
    snippet = from_marked(f"a{S.stop} b {S.start}c d", "unused", S)
    assert snippet.text == "a b c d"
    assert marked(snippet) == ["c d"]


def test_without_marks_the_message_is_shown_whole_or_cut():
    assert from_marked(None, "short", S) == Snippet("short")
    assert from_marked("no sentinels here", "the content", S) == Snippet("the content")
    long = "x" * (SNIPPET_CHARS + 10)
    assert from_marked(None, long, S).text == "x" * SNIPPET_CHARS + "…"

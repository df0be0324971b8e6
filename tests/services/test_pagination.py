"""The shared keyset helpers: one cursor codec for every list, and literal LIKE patterns."""

from __future__ import annotations

from datetime import datetime

import pytest

from dashboard.services.errors import BadRequest
from dashboard.services.pagination import BadCursor, decode_cursor, encode_cursor, like_pattern


def test_cursor_round_trip_keeps_times_and_ids():
    at = datetime(2026, 11, 26, 14, 30, 18, 123456)
    cursor = encode_cursor(at, "0190-abc|with-a-bar")
    assert "|" not in cursor and "=" not in cursor  # safe in a URL as it is
    assert decode_cursor(cursor, datetime, str) == (at, "0190-abc|with-a-bar")
    assert decode_cursor(encode_cursor("alice", "id-1"), str, str) == ("alice", "id-1")
    # A sync position taken before any message has an empty id.
    assert decode_cursor(encode_cursor(at, ""), datetime, str) == (at, "")


@pytest.mark.parametrize("bad", ["not-a-cursor!", "%%%", "", encode_cursor("no-time", "x")])
def test_a_cursor_this_code_did_not_make_is_a_clear_400(bad):
    with pytest.raises(BadCursor) as caught:
        decode_cursor(bad, datetime, str)
    assert isinstance(caught.value, BadRequest) and caught.value.status == 400
    assert caught.value.details == {"fields": {"cursor": "invalid"}}


def test_like_pattern_matches_wildcards_literally():
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
    assert like_pattern("al", prefix=True) == "al%"

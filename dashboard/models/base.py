"""Shared column helpers: time-ordered ids and UTC timestamps."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

_lock = threading.Lock()
_last_ms = -1
_seq = 0


def new_id(at: datetime | None = None) -> str:
    """A UUIDv7 string: 48-bit Unix milliseconds, then a per-millisecond counter and random bits.

    Ids sort (as strings) in creation order, so they double as a keyset cursor. Ids made for the
    same millisecond in one process are strictly increasing; `at` backdates one (the seed uses it).
    """
    global _last_ms, _seq
    if at is not None:
        ms = int(at.replace(tzinfo=at.tzinfo or UTC).timestamp() * 1000)
        seq = int.from_bytes(os.urandom(2), "big") & 0x0FFF
    else:
        with _lock:
            ms = time.time_ns() // 1_000_000
            if ms <= _last_ms:
                ms = _last_ms
                _seq += 1
                if _seq > 0x0FFF:  # counter exhausted: borrow the next millisecond
                    ms += 1
                    _seq = 0
            else:
                _seq = int.from_bytes(os.urandom(2), "big") & 0x07FF
            _last_ms = ms
            seq = _seq
    rand = int.from_bytes(os.urandom(8), "big") & 0x3FFF_FFFF_FFFF_FFFF
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | seq << 64 | 0b10 << 62 | rand
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def id_floor(at: datetime) -> str:
    """The smallest id that new_id() could make at `at`: for 'created after' keyset bounds."""
    ms = int(at.replace(tzinfo=at.tzinfo or UTC).timestamp() * 1000)
    h = f"{(ms & 0xFFFF_FFFF_FFFF) << 80:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def utcnow() -> datetime:
    """Now in UTC as a naive datetime (the database stores naive UTC everywhere)."""
    return datetime.now(UTC).replace(tzinfo=None)

"""A Clerk instance's signing keys from its JWKS URL: chosen by `kid`, cached, rotated.

PyJWT's PyJWKClient does the HTTP fetch and PyJWKSet parses the keys, but its own cache is
not used: when the cached set expires it refetches and, if that fetch fails, raises instead
of keeping the keys it had, and its unknown-`kid` cooldown counts only successful fetches,
so a flood of bad tokens while Clerk is unreachable would try a fetch on every request. Here:

- the keys are refetched once they are older than `ttl` seconds;
- a `kid` not in the cache asks for one refetch (a key rotated in);
- no two fetch attempts, successful or not, are closer than `min_refresh` seconds;
- a failed fetch keeps the cached keys and logs a warning.

Imported by auth.clerk and auth.loaders only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt

log = logging.getLogger(__name__)


class UnknownKey(Exception):
    """No cached or freshly fetched key has the token's `kid`."""


class JwksKeys:
    """The signing keys published at one JWKS URL, by key id (thread-safe)."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float,
        min_refresh: float,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        # Only fetch_data() is used: PyJWKClient's caches are off (see the module docstring).
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=timeout)
        self.url = url
        self.ttl = ttl
        self.min_refresh = min_refresh
        self.clock = clock
        self.fetches = 0  # fetch attempts, successful or not (for tests and logs)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = threading.Lock()

    def key_for(self, kid: str | None) -> Any:
        """The public key with id `kid`, refetching the set when allowed; else UnknownKey."""
        if not kid:
            raise UnknownKey("token has no key id")
        with self._lock:
            now = self.clock()
            expired = self._fetched_at is None or now - self._fetched_at >= self.ttl
            if (expired or kid not in self._keys) and self._may_fetch(now):
                self._refresh(now)
            key = self._keys.get(kid)
        if key is None:
            raise UnknownKey("token signed by an unknown key")
        return key.key

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refresh

    def _refresh(self, now: float) -> None:
        """Fetch the set; on any failure keep what is cached and warn."""
        self._attempted_at = now
        self.fetches += 1
        try:
            keyset = jwt.PyJWKSet.from_dict(self._client.fetch_data())
        except Exception as exc:  # network, HTTP, JSON or key errors alike: keep serving
            log.warning(
                "JWKS fetch from %s failed (%s); keeping %d cached key(s)",
                self.url,
                exc,
                len(self._keys),
            )
            return
        keys = {k.key_id: k for k in keyset.keys if k.key_id and k.public_key_use in ("sig", None)}
        if not keys:
            log.warning("JWKS at %s has no signing keys; keeping the cached ones", self.url)
            return
        self._keys = keys
        self._fetched_at = now

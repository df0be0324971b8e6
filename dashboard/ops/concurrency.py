"""Which concurrency model serves the app: decided by the server that runs it.

`gunicorn wsgi:app` (gunicorn.conf.py picks the gevent worker) monkey-patches the standard
library in the worker before the app is imported; `python wsgi.py`, `flask --app wsgi …` and the
test client patch nothing. So the async mode follows what the server did, never whether gevent
happens to be installed: a half-patched process (threads beside greenlets) cannot arise here.

This module never imports gevent itself (importing it is harmless, but looking it up in
`sys.modules` proves the server loaded it).
"""

from __future__ import annotations

import sys

GEVENT = "gevent"
THREADING = "threading"


def gevent_patched() -> bool:
    """True when the running server has monkey-patched the standard library with gevent."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey is not None and monkey.is_module_patched("socket"))


def async_mode() -> str:
    """Flask-SocketIO's async mode for this process: `gevent` under a patched server."""
    return GEVENT if gevent_patched() else THREADING


def make_cooperative() -> None:
    """Under gevent, make psycopg2 wait through the hub (redis-py uses the patched socket).

    Idempotent; a no-op in threading mode. psycopg2's C code does its own socket I/O, which
    monkey-patching cannot reach: psycogreen installs a wait callback that yields to the hub.
    """
    if not gevent_patched():
        return
    import psycopg2.extensions
    from psycogreen.gevent import patch_psycopg

    if psycopg2.extensions.get_wait_callback() is None:
        patch_psycopg()

"""Gunicorn settings for `gunicorn wsgi:app`, the production command (see docs/deployment.md).

One gevent worker per process: greenlets hold thousands of idle WebSockets in one thread, and
Socket.IO's sessions live in one process (run more processes behind a proxy with sticky
sessions to scale out). The worker monkey-patches the standard library before it imports the
app, so `wsgi.py` and the app stay free of patching.

Read from the environment here (not through dashboard.config): importing the app in the
gunicorn master would import the standard library's threading and sockets before the worker
patches them. HOST/PORT/MAX_SOCKETS mean the same as for the app; `--bind` on the command line
wins over `bind` below, as for every gunicorn setting.
"""

import os
import resource

_host = os.environ.get("HOST") or "127.0.0.1"
_port = os.environ.get("PORT") or "5000"
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]

worker_class = "gevent"
workers = 1  # Socket.IO needs sticky sessions: scale out with processes behind the proxy

# The worker's greenlet pool: every open socket holds one, so leave room above the app's
# MAX_SOCKETS cap for HTTP requests. Past the cap the app answers a new socket 503 at once,
# instead of gunicorn's full pool silently queueing it (and every HTTP request behind it).
HTTP_HEADROOM = 1000
_max_sockets = int(os.environ.get("MAX_SOCKETS") or 5000)
worker_connections = _max_sockets + HTTP_HEADROOM

# Graceful restart: stop accepting, give open requests this long; sockets then close and their
# clients reconnect to another process (docs/deployment.md, rolling restart).
graceful_timeout = 20
timeout = 60  # the master restarts a worker whose hub has not ticked this long
keepalive = 5

accesslog = "-"  # stdout; the request id ties each line to the app's own log lines
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
errorlog = "-"
# Several processes per host are the way to scale out: no shared default control socket path.
control_socket_disable = True
loglevel = (os.environ.get("LOG_LEVEL") or "info").lower()


def on_starting(server):  # type: ignore[no-untyped-def]
    """Raise the open-file limit to what the sockets need (up to the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = worker_connections + 256  # database, Redis, log files, the listening socket
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    if soft != resource.RLIM_INFINITY and soft < want:
        server.log.warning(
            "open-file limit %s is below the %s sockets this worker may hold; raise ulimit -n",
            soft,
            want,
        )


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Check Redis (when configured) and log the concurrency model, before serving."""
    import sys

    from dashboard.ops import startup

    try:
        startup(worker.wsgi)
    except RuntimeError as exc:
        worker.log.error("chatdesk: %s", exc)
        sys.exit(3)  # gunicorn's "worker failed to boot": the master stops, non-zero

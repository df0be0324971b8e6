"""Entry point: `gunicorn wsgi:app` in production, `python wsgi.py` and `flask --app wsgi …` else.

Nothing here monkey-patches: under gunicorn the gevent worker (gunicorn.conf.py) patches the
standard library before it imports this module, and `python wsgi.py` runs on threads. The app
asks which of the two it is running under (`dashboard.ops.concurrency`).
"""

import sys

from dashboard import create_app
from dashboard.ops import startup

app = create_app()


def serve() -> None:
    """Werkzeug's threaded server, started directly: one "Serving on" line, no banner.

    `socketio.run` would go through `app.run`, which prints Flask's banner and Werkzeug's
    development-server warning, plus Flask-SocketIO's "production deployment" warning when
    stdin is not a terminal. In threading mode it adds nothing else: the Socket.IO middleware
    is already part of `app`, and WebSockets come from Werkzeug's own socket. Request logs
    and errors still go to the `werkzeug` logger as before.
    """
    from werkzeug.serving import make_server

    host, port = app.config["HOST"], app.config["PORT"]
    server = make_server(host, port, app, threaded=True)
    print(f"Serving on http://{host}:{port}  (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    try:
        startup(app)
    except RuntimeError as exc:
        print(f"chatdesk: {exc}", file=sys.stderr)
        sys.exit(1)
    serve()

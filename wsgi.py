"""Entry point: `gunicorn wsgi:app` in production, `python wsgi.py` and `flask --app wsgi …` else.

Nothing here monkey-patches: under gunicorn the gevent worker (gunicorn.conf.py) patches the
standard library before it imports this module, and `python wsgi.py` runs on threads. The app
asks which of the two it is running under (`dashboard.ops.concurrency`).
"""

import sys

from dashboard import create_app
from dashboard.extensions import socketio
from dashboard.ops import startup

app = create_app()

if __name__ == "__main__":
    try:
        startup(app)
    except RuntimeError as exc:
        print(f"chatdesk: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"Serving on http://{app.config['HOST']}:{app.config['PORT']}", file=sys.stderr)
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"], allow_unsafe_werkzeug=True)

"""Entry point: `flask --app wsgi …` and `python wsgi.py` (serves HTTP and Socket.IO)."""

from dashboard import create_app
from dashboard.extensions import socketio

app = create_app()

if __name__ == "__main__":
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"], allow_unsafe_werkzeug=True)

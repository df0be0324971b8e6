"""The production settings before gevent, for bench.sockets' baseline: one process, 100 threads.

`gunicorn --workers 1 --threads 100 wsgi:app` with gunicorn's defaults otherwise.
"""

import os

bind = [f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '5000'}"]
workers = 1
threads = 100
worker_class = "gthread"
control_socket_disable = True

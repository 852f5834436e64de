"""gunicorn settings for production: `gunicorn --config gunicorn.conf.py wsgi:app` (`make serve`).

Every value can be changed from the environment; the defaults suit one machine behind a
reverse proxy (nginx, Apache, Caddy) that terminates HTTPS.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Load the app once, then fork: less memory, and a broken configuration stops the start at
# once. Connections the parent may have opened are never used by a worker (post_fork below,
# and crm.core.database refuses a pooled connection made in another process).
preload_app = True
# Restart workers now and then, so that a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Trust X-Forwarded-Proto (https) only from the reverse proxy.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
limit_request_line = 8190
limit_request_fields = 100


def when_ready(server):
    """Move what the loaded application holds out of the garbage collector's sight: the workers
    then neither scan it in their collections (pauses in the middle of a request) nor copy
    the pages it lies on by touching it."""
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """Drop the pooled database connections a worker inherited from the master process."""
    from crm.extensions import db

    app = server.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)

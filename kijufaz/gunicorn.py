"""gunicorn settings: the production image, docker-compose.yml and `make load` use them.

    gunicorn -c python:kijufaz.gunicorn kijufaz.wsgi:application

Threaded workers: while one request waits for PostgreSQL another runs, and a browser's
kept-alive connection does not hold a whole process. The defaults (2 processes per
core with 2 threads each) are what the load run measured best on two cores: more
threads per process spend CPU on handing Python's lock between them (4 × 2 served
106–107 requests/s where 5 × 4 served 91–100, benchmarks/NOTES.md). WEB_CONCURRENCY
and GUNICORN_THREADS change them.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# The slowest request is the controlling report PDF (seconds); anything longer hangs.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
keepalive = 5
backlog = 256
# A worker is replaced after this many requests, so a slow leak cannot grow unbounded.
max_requests = 2000
max_requests_jitter = 200
# "-" logs every request to stdout; empty switches the access log off.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

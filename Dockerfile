# syntax=docker/dockerfile:1
# One image for the relay and both sample consumers; the command picks which:
#   relay serve                              (default)
#   python -m consumers delivery-reports
#   python -m consumers inbound
# tests/ship/test_dockerfile.py lints this file and replays the marked install and
# start commands in a fresh virtualenv, so keep the markers when you edit.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    VENV=/opt/venv
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY relay ./relay
COPY consumers ./consumers
# ship:install
RUN python -m venv "$VENV" && "$VENV/bin/pip" install --no-cache-dir -c constraints.txt .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RELAY_LOGGING_FORMAT=json \
    HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
# The consumers' default store is a SQLite file in the working directory, which the relay
# user cannot write (/app is root's): give it a directory of its own (mount a volume there
# to keep the data; the compose stack uses PostgreSQL instead).
RUN groupadd --system --gid 10001 relay \
    && useradd --system --uid 10001 --gid relay --no-create-home --shell /usr/sbin/nologin relay \
    && install -d -o relay -g relay /var/lib/sinch-consumers
ENV CONSUMER_STORE_URL=sqlite:////var/lib/sinch-consumers/consumers.sqlite3
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY config ./config
USER 10001:10001
EXPOSE 8080
# Liveness of whichever process runs: each service points HEALTHCHECK_URL at its /healthz.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=2)"]
STOPSIGNAL SIGTERM
# Exec form: the Python process is PID 1 and receives SIGTERM itself to drain.
# ship:start
CMD ["relay", "serve"]

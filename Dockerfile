# microcred: production image. Build: docker build -t microcred .
# Run:  docker run -e DATABASE_URL=postgresql://user:pw@db/microcred -e WORKERS=4 -p 8000:8000 microcred
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MICROCRED_ENVIRONMENT=production \
    MICROCRED_DEMO_PROVIDER=false \
    MICROCRED_CONTEXTS_DIR=/app/contexts \
    MICROCRED_KEYS_DIR=/var/lib/microcred/keys \
    PROMETHEUS_MULTIPROC_DIR=/tmp/microcred-metrics \
    PORT=8000 \
    WORKERS=2

WORKDIR /app

# The package only (no [test] extras); the pinned JSON-LD contexts are data outside the package.
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install . && rm -rf /app/app /app/build
COPY contexts ./contexts
COPY docker/entrypoint.sh ./docker/entrypoint.sh

# Non-root, owning only its state folder (file keys for development, a SQLite fallback database).
RUN useradd --system --uid 10001 --home-dir /var/lib/microcred --shell /usr/sbin/nologin microcred \
    && mkdir -p /var/lib/microcred/keys \
    && chown -R microcred:microcred /var/lib/microcred \
    && chmod 0700 /var/lib/microcred/keys \
    && chmod 0755 /app/docker/entrypoint.sh
USER microcred
VOLUME ["/var/lib/microcred"]
EXPOSE 8000

# No curl in the slim image: the standard library does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('PORT', '8000'), timeout=4)"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]

# microcred: production image. Build: docker build -t microcred .
# Run:  docker run -e MICROCRED_BASE_URL=https://credentials.example.edu -e DATABASE_URL=postgresql://user:pw@db/microcred \
#         -e WORKERS=4 -p 8000:8000 microcred
#
# MICROCRED_BASE_URL is required: the public https URL of the service (behind its TLS proxy). Every did:web and status
# list URL in the credentials derives from it, so the image (production) refuses to start with an http or loopback one.
# tests/deploy/test_image.py builds the wheel from what this file copies and runs the entry point with its ENV.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MICROCRED_ENVIRONMENT=production \
    MICROCRED_DEMO_PROVIDER=false \
    MICROCRED_KEYS_DIR=/var/lib/microcred/keys \
    PROMETHEUS_MULTIPROC_DIR=/tmp/microcred-metrics \
    PORT=8000 \
    WORKERS=2

WORKDIR /app

# The package only (no [test] extras): app/, the wallet pages it imports (wallet_demo/), and as data files of the wheel
# the pinned JSON-LD contexts and the default trust registry (installed in /usr/local/share/microcred/). The sources
# are removed after the install: the service runs from site-packages only.
COPY pyproject.toml README.md ./
COPY app ./app
COPY wallet_demo ./wallet_demo
COPY contexts ./contexts
COPY trust ./trust
RUN pip install . && rm -rf /app/app /app/wallet_demo /app/contexts /app/trust /app/build /app/*.egg-info
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

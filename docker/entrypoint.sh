#!/usr/bin/env bash
# Container entry point: migrate the database, then serve with several workers.
#
#   DATABASE_URL (or MICROCRED_DATABASE_URL)  postgresql://… in production; without one, SQLite in /var/lib/microcred
#   PORT (default 8000), WORKERS (default 2)   passed to `microcred serve`
#   any other MICROCRED_* setting              see the README's Settings table
#
# Migrating here is safe with several replicas starting at once on PostgreSQL: Alembic runs each
# migration in a transaction, and a replica finding the schema already at head does nothing.
set -euo pipefail

if [[ -z "${DATABASE_URL:-}" && -z "${MICROCRED_DATABASE_URL:-}" ]]; then
  echo "entrypoint: no DATABASE_URL given; using SQLite in /var/lib/microcred (one replica only)" >&2
  export MICROCRED_DATABASE_URL="sqlite:////var/lib/microcred/microcred.db"
fi

microcred migrate

exec microcred serve --host 0.0.0.0 --port "${PORT:-8000}" --workers "${WORKERS:-2}"

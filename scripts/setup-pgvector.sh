#!/usr/bin/env bash
# Makes the pgvector extension available to the local PostgreSQL 15 (idempotent; skips everything when the
# extension is already installed). Debian 12 ships no pgvector package, so it is built from Debian trixie's
# source package, as docs/operations.md explains.
set -euo pipefail

PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER

psql_q() { psql -X -At -v ON_ERROR_STOP=1 -d postgres -c "$1"; }

if ! psql_q "select 1" >/dev/null 2>&1; then
  echo "setup-pgvector: PostgreSQL is not reachable at $PGHOST:$PGPORT as $PGUSER" >&2
  exit 1
fi
if [ -n "$(psql_q "select 1 from pg_available_extensions where name = 'vector'")" ]; then
  echo "setup-pgvector: vector extension already available"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup-pgvector: the vector extension is missing and installing it needs root" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
echo "deb-src http://deb.debian.org/debian trixie main" > "$work/trixie-src.list"
apt_private=(-o "Dir::Etc::SourceList=$work/trixie-src.list" -o "Dir::Etc::SourceParts=/dev/null" -o "Dir::State::Lists=$work/lists")

echo "setup-pgvector: installing build dependencies"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
before="$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)"
apt-get install -y -qq postgresql-server-dev-15 build-essential dpkg-dev >/dev/null
after="$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)"

echo "setup-pgvector: fetching the pgvector source package"
apt-get "${apt_private[@]}" update -qq >/dev/null
(cd "$work" && apt-get "${apt_private[@]}" source -qq --download-only pgvector >/dev/null && dpkg-source -x --no-check ./pgvector_*.dsc src >/dev/null)

echo "setup-pgvector: building"
make -s -C "$work/src" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config OPTFLAGS="" >/dev/null
make -s -C "$work/src" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config install >/dev/null

if [ "$before" != "$after" ]; then
  # Installing the dev package upgraded the server binaries; the running cluster must be restarted on them.
  echo "setup-pgvector: postgresql-15 upgraded ($before -> $after), restarting the cluster"
  pg_ctlcluster --skip-systemctl-redirect 15 main restart
  for _ in $(seq 1 60); do
    psql_q "select 1" >/dev/null 2>&1 && break
    sleep 1
  done
fi
if [ -z "$(psql_q "select 1 from pg_available_extensions where name = 'vector'")" ]; then
  echo "setup-pgvector: build finished but the extension is still not available" >&2
  exit 1
fi
echo "setup-pgvector: vector $(psql_q "select default_version from pg_available_extensions where name = 'vector'") installed"

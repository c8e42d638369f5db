#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries for the feedback tests (tests/feedback/conftest.py starts a
# throw-away cluster with them: initdb + pg_ctl as the postgres user, a free port, a temp dir).
# Idempotent: does nothing when initdb is already there. The package's own cluster is not used.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends postgresql
echo "postgresql installed: $(ls -d /usr/lib/postgresql/*/bin)"

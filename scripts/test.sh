#!/usr/bin/env bash
# The project's test command (README.md). Does its own set-up, then runs every test of the workspace.
# Safe to run repeatedly on the same machine and on a fresh one.
set -euo pipefail
cd "$(dirname "$0")/.."

# Set-up: the PostgreSQL tests need the local server (127.0.0.1:5432, trust auth) with the pgvector extension;
# this installs pgvector when it is missing and fails loudly when PostgreSQL is unreachable. Each test creates
# and drops a database of its own. SECOPS_TEST_DATABASE_URL points the tests at another server.
bash scripts/setup-pgvector.sh

cargo test --workspace --locked

# The API against its own OpenAPI spec: property-based requests from the spec (schemathesis, installed pinned
# from PyPI on first use) must get no 5xx and nothing the spec does not say.
cargo build --locked -p secops-server --bin secops
bash scripts/fuzz-api.sh "${CARGO_TARGET_DIR:-target}/debug/secops"

# The web console: lint, types, unit tests, the committed bundle equal to a fresh build, and the browser tests
# in Debian's Chromium (installed on first use) against the real server with the offline demo model.
bash scripts/test-web.sh

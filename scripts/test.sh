#!/usr/bin/env bash
# The project's test command (README.md). Does its own set-up, then runs every test of the workspace.
# Safe to run repeatedly on the same machine and on a fresh one.
set -euo pipefail
cd "$(dirname "$0")/.."

# Set-up: nothing beyond the Rust toolchain is needed yet. Steps that need services (PostgreSQL + pgvector)
# are added here, idempotently, by the crates that need them.

cargo test --workspace --locked

#!/usr/bin/env bash
# Computing every signal over 10k and 1M meetings, on SQLite and PostgreSQL.
# Generates each shape into a fresh database (1M meetings take about a
# minute on SQLite, a few on PostgreSQL), then times compute_signals.
#
#   bench/signals.sh                      # every shape
#   ACCORD_BENCH_SHAPES=history-10k,history-1M bench/signals.sh
#
# PostgreSQL: ACCORD_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p accord-service --bench signals

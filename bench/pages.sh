#!/usr/bin/env bash
# Server time of the web UI's pages on the demo organisation (issue 8's
# target: every page renders in <= 50 ms of server time).
#
#   bench/pages.sh                       # 15 runs per page
#   ACCORD_TIMING_RUNS=50 bench/pages.sh
#
# Builds accord and the timing example in release, creates the demo
# organisation (seed 42) in a throwaway SQLite file, then renders every
# role's pages through the whole router (crates/web/examples/page_timings.rs)
# and prints the median and worst time of each. Exit status 1 when a page's
# median is over the target.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="$(mktemp -d "${TMPDIR:-/tmp}/accord-pages.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "== building accord and the timing example (release)" >&2
cargo build --release -q -p accord --bin accord
cargo build --release -q -p accord-web --example page_timings
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

echo "== the demo organisation" >&2
"$TARGET_DIR/release/accord" --db "sqlite://$WORK/demo.db" demo --no-serve --seed 42 >/dev/null

echo "== pages" >&2
"$TARGET_DIR/release/examples/page_timings" "sqlite://$WORK/demo.db"

#!/usr/bin/env bash
# Validates accord's OpenAPI document against the OpenAPI 3.1 specification
# with openapi-spec-validator (PyPI), installed into a throwaway virtualenv.
#
#   bench/openapi-validate.sh                   # builds accord, serves a fresh
#                                               # database on a loopback port
#   bench/openapi-validate.sh http://HOST:PORT  # a server already running
#
# The test suite checks the document structurally without the network
# (crates/api/tests/it/openapi.rs); this script is the full schema check,
# and needs PyPI once.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/accord-openapi.XXXXXX")"
PID=""
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ $# -ge 1 ]; then
    BASE="${1%/}"
else
    (cd "$ROOT" && cargo build --quiet -p accord --bin accord)
    ACCORD="${CARGO_TARGET_DIR:-$ROOT/target}/debug/accord"
    (cd "$WORK" && exec "$ACCORD" serve --db "sqlite://$WORK/openapi.db" --bind 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.log") &
    PID=$!
    for _ in $(seq 1 200); do
        grep -q "serving on http://" "$WORK/serve.out" 2>/dev/null && break
        sleep 0.05
    done
    BASE="$(grep -o 'http://[0-9.:]*' "$WORK/serve.out" | head -n1)"
    [ -n "$BASE" ] || { cat "$WORK/serve.log" >&2; exit 2; }
fi

curl -fsS "$BASE/api/v1/openapi.json" -o "$WORK/openapi.json"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator
"$WORK/venv/bin/python" - "$WORK/openapi.json" <<'PY'
import json, sys
from openapi_spec_validator import OpenAPIV31SpecValidator

doc = json.load(open(sys.argv[1]))
errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
paths = sum(len([m for m in item if m in ("get", "put", "post", "delete", "patch")]) for item in doc["paths"].values())
if errors:
    for e in errors[:50]:
        print(f"invalid: {'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
    print(f"{len(errors)} error(s) in the OpenAPI {doc['openapi']} document")
    sys.exit(1)
print(f"valid: OpenAPI {doc['openapi']}, {paths} operations on {len(doc['paths'])} paths, {len(doc.get('components', {}).get('schemas', {}))} schemas")
PY

#!/usr/bin/env bash
# The load benchmark of issue 4, in one run on this machine:
#
#   (a) a bare axum handler (crates/server/examples/baseline.rs): the baseline;
#       then the same handler sending a body as large as (b)'s page: the
#       share of the baseline that moving the page's bytes alone leaves;
#   (b) GET /api/v1/requests?limit=20 with a bearer token, against
#       `accord serve` on a fresh SQLite database seeded through the API with
#       an organisation (people, accounts, opportunities) and a few thousand
#       engagement requests;
#   (c) POST /api/v1/requests (bench/post-requests.lua).
#
# Targets: reads >= 50 % of the baseline's requests/s with p99 <= 10 ms at 64
# connections; writes >= 2,000/s. Exit status 1 when a target is missed.
#
# Usage: bench/load.sh            (DURATION=15s CONNECTIONS=64 THREADS=2
#                                  SEED_REQUESTS=3000 to change the defaults)
#
# Needs: cargo, curl, python3 (seeding, standard library only), and wrk —
# installed from Debian's packages when missing (hey when wrk is not
# packaged). Only loopback addresses are used. Login rate limits do not
# apply: every call carries a bearer token, and the limits count failed
# password logins only.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
SEED_REQUESTS="${SEED_REQUESTS:-3000}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

say() { printf '\n== %s\n' "$*" >&2; }

# --- the load generator ------------------------------------------------------

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

TOOL=wrk
if ! command -v wrk >/dev/null 2>&1; then
    if apt-get install --dry-run wrk >/dev/null 2>&1; then
        say "installing wrk from Debian's packages"
        as_root apt-get install -y wrk >/dev/null
    elif command -v hey >/dev/null 2>&1 || apt-get install --dry-run hey >/dev/null 2>&1; then
        say "wrk is not packaged here: using hey"
        command -v hey >/dev/null 2>&1 || as_root apt-get install -y hey >/dev/null
        TOOL=hey
    else
        echo "neither wrk nor hey can be installed" >&2
        exit 2
    fi
fi

# --- builds ---------------------------------------------------------------------

say "building accord and the baseline in release"
(cd "$ROOT" && cargo build --release --quiet -p accord --bin accord \
    && cargo build --release --quiet -p accord-server --example baseline)
ACCORD="$TARGET_DIR/release/accord"
BASELINE="$TARGET_DIR/release/examples/baseline"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/accord-bench.XXXXXX")"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# The working directory is the scratch one: no accord.toml of the caller's.
cd "$WORK"

# Starts a server that prints "... serving on http://ADDR ..."; sets URL.
start() {
    local name="$1"
    shift
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.log" &
    PIDS+=("$!")
    for _ in $(seq 1 200); do
        if grep -q "serving on http://" "$WORK/$name.out" 2>/dev/null; then
            URL="$(grep -o 'http://[0-9.:]*' "$WORK/$name.out" | head -n1)"
            return
        fi
        sleep 0.05
    done
    echo "$name did not start:" >&2
    cat "$WORK/$name.log" >&2
    exit 2
}

# --- accord on a fresh database --------------------------------------------------

DB="sqlite://$WORK/bench.db"
say "a fresh database: $DB"
"$ACCORD" user add --db "$DB" --email admin@bench.example --role admin >/dev/null
ADMIN_TOKEN="$("$ACCORD" token create --db "$DB" --user admin@bench.example --name bench 2>/dev/null | grep '^acc_')"
start accord "$ACCORD" serve --db "$DB" --bind 127.0.0.1:0
ACCORD_URL="$URL"
start baseline "$BASELINE" 127.0.0.1:0
BASELINE_URL="$URL"

say "seeding through the API: people, accounts, opportunities, $SEED_REQUESTS requests"
SEED_START=$(date +%s)
python3 - "$ACCORD_URL" "$ADMIN_TOKEN" "$SEED_REQUESTS" >"$WORK/seed.json" <<'PY'
import http.client, json, random, sys, uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlparse

base, admin, n_requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
u = urlparse(base)
conn = http.client.HTTPConnection(u.hostname, u.port)
random.seed(4)

def call(method, path, token, body=None, expect=(200, 201)):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status not in expect:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None

def person(email, name, role, manager=None):
    return call("POST", "/api/v1/people", admin, {
        "id": str(uuid.uuid4()), "email": email, "name": name, "role": role,
        "manager": manager, "active": True})

leads = [person(f"lead{i}@bench.example", f"PM Lead {i}", "pm_lead") for i in range(3)]
pms = [person(f"pm{i}@bench.example", f"PM {i}", "pm", leads[i % 3]["id"]) for i in range(20)]
managers = [person(f"manager{i}@bench.example", f"Manager {i}", "sales_manager") for i in range(6)]
reps = [person(f"rep{i}@bench.example", f"Rep {i}", "sales_rep", managers[i % 6]["id"]) for i in range(60)]
ses = [person(f"se{i}@bench.example", f"SE {i}", "sales_engineer") for i in range(10)]
tokens = {r["id"]: call("POST", "/api/v1/tokens", admin, {"email": r["email"], "name": "seed"})["secret"] for r in reps}

stages = ["discovery", "solution", "proposal", "negotiation", "renewal"]
fits = {"discovery": ["discovery-call", "roadmap-briefing"],
        "solution": ["vision-presentation", "roadmap-briefing", "solution-review"],
        "proposal": ["rfp-section", "presentation-development"],
        "negotiation": ["roadmap-briefing", "executive-briefing"],
        "renewal": ["feedback-session", "roadmap-briefing"]}
now = datetime.now(timezone.utc)
opps = []
for i in range(200):
    owner = reps[i % len(reps)]
    acct = call("POST", "/api/v1/accounts", admin, {
        "id": str(uuid.uuid4()), "name": f"Customer {i:03}", "domains": [f"customer{i}.example"],
        "owner": owner["id"]})
    for j in range(2):
        opps.append(call("POST", "/api/v1/opportunities", admin, {
            "id": str(uuid.uuid4()), "account": acct["id"], "name": f"Customer {i:03} deal {j}",
            "stage": random.choice(stages), "amount": random.randint(10, 900) * 1000.0,
            "owner": owner["id"], "created_at": (now - timedelta(days=random.randint(1, 200))).isoformat()}))

effects = {}
for k in range(n_requests):
    o = random.choice(opps)
    ty = random.choice(fits[o["stage"]] + ["demo"] if random.random() < 0.1 else fits[o["stage"]])
    out = call("POST", "/api/v1/requests", tokens[o["owner"]], {
        "opportunity": o["id"], "pm": random.choice(pms)["id"], "engagement_type": ty,
        "briefing": "The customer wants to understand where the product is going next year." if random.random() > 0.1 else "",
        "needed_at": (now + timedelta(days=random.randint(1, 40))).isoformat()})
    e = out["decision"]["effect"]
    effects[e] = effects.get(e, 0) + 1

bench_rep = reps[0]
print(json.dumps({
    "token": tokens[bench_rep["id"]],
    "opportunities": [o["id"] for o in opps if o["owner"] == bench_rep["id"]],
    "pm": pms[0]["id"],
    "people": 3 + 20 + 6 + 60 + 10 + 1, "accounts": 200, "opportunity_count": len(opps),
    "requests": n_requests, "effects": effects,
}))
PY
SEED_END=$(date +%s)
REP_TOKEN="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/seed.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("seeded: %(people)s people, %(accounts)s accounts, %(opportunity_count)s opportunities, %(requests)s requests %(effects)s" % d)' "$WORK/seed.json" >&2
echo "seeding took $((SEED_END - SEED_START)) s" >&2
export BENCH_TOKEN="$REP_TOKEN"
BENCH_OPPS="$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["opportunities"]))' "$WORK/seed.json")"
BENCH_PM="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pm"])' "$WORK/seed.json")"
BENCH_NEEDED_AT="$(date -u -d '+20 days' +%Y-%m-%dT%H:%M:%SZ)"
export BENCH_OPPS BENCH_PM BENCH_NEEDED_AT

# --- the runs ----------------------------------------------------------------------

# run NAME METHOD URL: prints "rps p50_ms p99_ms non2xx" and keeps the raw output.
run() {
    local name="$1" method="$2" url="$3"
    local out="$WORK/$name.txt"
    if [ "$TOOL" = wrk ]; then
        local args=(-t"$THREADS" -c"$CONNECTIONS" --latency)
        if [ "$method" = POST ]; then
            args+=(-s "$ROOT/bench/post-requests.lua")
        elif [ "$name" != baseline ] && [ "$name" != ceiling ]; then
            args+=(-H "Authorization: Bearer $REP_TOKEN")
        fi
        wrk "${args[@]}" -d3s "$url" >/dev/null # warm-up
        CMD="wrk ${args[*]} -d$DURATION $url"
        wrk "${args[@]}" -d"$DURATION" "$url" >"$out"
        python3 - "$out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s|m)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t)
errs = re.search(r"Socket errors:.*", t)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {int(bad.group(1)) if bad else 0}{' ' + errs.group(0) if errs else ''}")
PY
    else
        local args=(-c "$CONNECTIONS" -z "$DURATION")
        if [ "$method" = POST ]; then
            python3 -c 'import json,os; print(json.dumps({"opportunity": os.environ["BENCH_OPPS"].split(",")[0], "pm": os.environ["BENCH_PM"], "engagement_type": "roadmap-briefing", "briefing": "The customer wants to hear where the platform is going next year.", "needed_at": os.environ["BENCH_NEEDED_AT"]}))' >"$WORK/body.json"
            args+=(-m POST -T application/json -D "$WORK/body.json" -H "Authorization: Bearer $REP_TOKEN")
        elif [ "$name" != baseline ] && [ "$name" != ceiling ]; then
            args+=(-H "Authorization: Bearer $REP_TOKEN")
        fi
        CMD="hey ${args[*]} $url"
        hey "${args[@]}" "$url" >"$out"
        python3 - "$out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = float(re.search(r"50% in ([\d.]+) secs", t).group(1)) * 1000
p99 = float(re.search(r"99% in ([\d.]+) secs", t).group(1)) * 1000
codes = re.findall(r"\[(\d+)\]\s+(\d+) responses", t)
bad = sum(int(n) for c, n in codes if not c.startswith("2"))
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {bad}")
PY
    fi
    echo "$CMD" >"$WORK/$name.cmd"
}

say "(a) baseline: a bare axum handler"
read -r B_RPS B_P50 B_P99 B_BAD B_REST <<<"$(run baseline GET "$BASELINE_URL/")"
# The same bare handler answering with as many bytes as the list page: what
# moving the page alone costs (loopback, HTTP, the load generator reading
# it), with no database and no JSON encoding. The reads target cannot be met
# beyond this share.
PAGE_BYTES="$(curl -s -H "Authorization: Bearer $REP_TOKEN" "$ACCORD_URL/api/v1/requests?limit=20" | wc -c)"
say "(a2) the bare handler, a body of $PAGE_BYTES bytes (the list page's size)"
read -r C_RPS C_P50 C_P99 C_BAD C_REST <<<"$(run ceiling GET "$BASELINE_URL/body/$PAGE_BYTES")"
say "(b) reads: GET /api/v1/requests?limit=20"
read -r R_RPS R_P50 R_P99 R_BAD R_REST <<<"$(run reads GET "$ACCORD_URL/api/v1/requests?limit=20")"
say "(c) writes: POST /api/v1/requests"
read -r W_RPS W_P50 W_P99 W_BAD W_REST <<<"$(run writes POST "$ACCORD_URL/api/v1/requests")"

# --- the verdict ----------------------------------------------------------------------

READ_SHARE=$(python3 -c "print(f'{100 * $R_RPS / $B_RPS:.0f}')")
CEILING_SHARE=$(python3 -c "print(f'{100 * $C_RPS / $B_RPS:.0f}')")
verdict() { if python3 -c "import sys; sys.exit(0 if $1 else 1)"; then echo met; else echo MISSED; fi; }
V_READ=$(verdict "$R_RPS >= 0.5 * $B_RPS and $R_P99 <= 10")
V_WRITE=$(verdict "$W_RPS >= 2000")

echo
echo "accord load benchmark: $(nproc) cores, $TOOL, $CONNECTIONS connections, $THREADS threads, $DURATION per run"
echo
printf '| %-40s | %9s | %8s | %8s | %7s |\n' run "req/s" "p50 ms" "p99 ms" non-2xx
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..42})" "-----------" "----------" "----------" "---------"
printf '| %-40s | %9s | %8s | %8s | %7s |\n' "(a) baseline: bare axum handler" "$B_RPS" "$B_P50" "$B_P99" "$B_BAD"
printf '| %-40s | %9s | %8s | %8s | %7s |\n' "(a2) bare handler, ${PAGE_BYTES}-byte body" "$C_RPS" "$C_P50" "$C_P99" "$C_BAD"
printf '| %-40s | %9s | %8s | %8s | %7s |\n' "(b) GET /api/v1/requests?limit=20" "$R_RPS" "$R_P50" "$R_P99" "$R_BAD"
printf '| %-40s | %9s | %8s | %8s | %7s |\n' "(c) POST /api/v1/requests" "$W_RPS" "$W_P50" "$W_P99" "$W_BAD"
echo
echo "reads:  $READ_SHARE % of the baseline, p99 $R_P99 ms   (target >= 50 %, p99 <= 10 ms): $V_READ"
echo "        (a bare handler sending a body of the page's size reaches $CEILING_SHARE % of the baseline)"
echo "writes: $W_RPS/s                       (target >= 2000/s): $V_WRITE"
[ -n "${R_REST:-}${W_REST:-}${B_REST:-}" ] && echo "socket errors: ${B_REST:-} ${R_REST:-} ${W_REST:-}"
echo
echo "commands:"
for n in baseline ceiling reads writes; do echo "  ($n) $(cat "$WORK/$n.cmd")"; done
if [ "$R_BAD" != 0 ] || [ "$W_BAD" != 0 ]; then
    echo "non-2xx responses: the server log follows" >&2
    tail -n 20 "$WORK/accord.log" >&2
    exit 1
fi
[ "$V_READ" = met ] && [ "$V_WRITE" = met ]

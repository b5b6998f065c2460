#!/usr/bin/env bash
# bench/api: wrk at 64 connections against a release `grove serve` on SQLite and on PostgreSQL.
# Routes: GET / (the framework floor: routing + JSON, no auth, no store), GET /projects/{id} and
# GET /projects/{id}/environments with 50 environments. Prints a markdown table with ratios to the floor.
# Usage: bench/api.sh [seconds per run (default 10)]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product grove >/dev/null
GROVE=.build/release/grove
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
  for f in "$work"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  if [ -f "$work/pg/data/postmaster.pid" ]; then as_pg pg_ctl -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/$1" "${@:2}"; else "$pgbin/$1" "${@:2}"; fi; }

start_grove() { # name, extra args...
  local name=$1; shift
  "$GROVE" serve --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --router-tls-port 0 --data-dir "$work/$name" --log-level error "$@" >"$work/$name.log" 2>&1 &
  echo $! > "$work/$name.pid"
  for _ in $(seq 200); do grep -q "API listening on" "$work/$name.log" && break; sleep 0.05; done
  grep -o 'API listening on http://127.0.0.1:[0-9]*' "$work/$name.log" | head -1 | sed 's/API listening on //'
}

seed() { # base, data dir -> prints "project token"
  local base=$1 dir=$2 token access org sub pid
  token=$(cat "$dir/initial-api-token")
  access=$(curl -sf -d "grant_type=api_token&api_token=$token" "$base/oauth2/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  org=$(curl -sf -H "Authorization: Bearer $access" "$base/organizations" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  sub=$(curl -sf -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d '{"project_title":"Bench","environments":100}' "$base/organizations/$org/subscriptions")
  pid=$(echo "$sub" | python3 -c 'import json,sys; print(json.load(sys.stdin)["project_id"])')
  for _ in $(seq 200); do curl -sf -H "Authorization: Bearer $access" "$base/projects/$pid/environments/main" | grep -q '"status":"active"' && break; sleep 0.05; done
  for i in $(seq 1 49); do
    curl -sf -o /dev/null -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d "{\"name\":\"env-$i\"}" "$base/projects/$pid/environments/main/branch"
  done
  for _ in $(seq 400); do
    n=$(curl -sf -H "Authorization: Bearer $access" "$base/projects/$pid/environments" | python3 -c 'import json,sys; print(sum(1 for e in json.load(sys.stdin) if e["status"]=="active"))')
    [ "$n" = 50 ] && break; sleep 0.1
  done
  echo "$pid $access"
}

run_wrk() { # url, token -> "rps p50ms p99ms"
  local out
  out=$(wrk -t 2 -c 64 -d "${DURATION}s" --latency ${2:+-H "Authorization: Bearer $2"} "$1")
  python3 - "$out" <<'PY'
import re, sys
text = sys.argv[1]
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
p50 = ms(re.search(r"\s50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"\s99%\s+(\S+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {errors.group(1) if errors else 0}")
PY
}

rows=()
measure() { # backend label, base, project, token
  local backend=$1 base=$2 pid=$3 token=$4 floor env proj
  floor=$(run_wrk "$base/" "")
  proj=$(run_wrk "$base/projects/$pid" "$token")
  env=$(run_wrk "$base/projects/$pid/environments" "$token")
  rows+=("$backend|GET / (floor)|$floor|$floor")
  rows+=("$backend|GET /projects/{id}|$proj|$floor")
  rows+=("$backend|GET /projects/{id}/environments (50)|$env|$floor")
}

base=$(start_grove sqlite)
read -r pid token < <(seed "$base" "$work/sqlite")
measure sqlite "$base" "$pid" "$token"
kill "$(cat "$work/sqlite.pid")"; rm "$work/sqlite.pid"; sleep 0.5

# The same data without the response cache: every GET rendered anew.
base=$(start_grove sqlite --no-response-cache)
measure "sqlite, no cache" "$base" "$pid" "$token"
kill "$(cat "$work/sqlite.pid")"; rm "$work/sqlite.pid"

mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg initdb -D "$work/pg/data" -U postgres -A trust >/dev/null
as_pg pg_ctl -D "$work/pg/data" -l "$work/pg/log" -w -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
base=$(start_grove postgres --database-url "postgres://postgres@127.0.0.1:$port/postgres")
read -r pid token < <(seed "$base" "$work/postgres")
measure postgres "$base" "$pid" "$token"
kill "$(cat "$work/postgres.pid")"; rm "$work/postgres.pid"; sleep 0.5

# PostgreSQL without the response cache (the cache follows other processes' writes through LISTEN/NOTIFY).
base=$(start_grove postgres --database-url "postgres://postgres@127.0.0.1:$port/postgres" --no-response-cache)
measure "postgres, no cache" "$base" "$pid" "$token"

echo "| store | route | req/s | p50 ms | p99 ms | non-2xx | × floor req/s |"
echo "|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
  IFS='|' read -r backend route stats floor <<<"$r"
  read -r rps p50 p99 errs <<<"$stats"
  read -r frps _ <<<"$floor"
  ratio=$(python3 -c "print(f'{$rps/$frps:.2f}')")
  echo "| $backend | $route | $rps | $p50 | $p99 | $errs | $ratio |"
done

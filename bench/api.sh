#!/usr/bin/env bash
# bench/api: wrk at 64 connections against a release `grove serve` on SQLite and on PostgreSQL.
# Routes: GET / (the framework floor: routing + JSON, no auth, no store), GET /projects/{id} and
# GET /projects/{id}/environments with 50 environments. Prints a markdown table with ratios to the floor.
# Usage: bench/api.sh [seconds per run (default 10)]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
. bench/lib.sh
bench_cluster_init

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

other_project() { # base, token -> prints the id of a second project (another tenant's, for the writer below)
  local base=$1 access=$2 org sub pid
  org=$(curl -sf -H "Authorization: Bearer $access" "$base/organizations" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  sub=$(curl -sf -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d '{"project_title":"Other"}' "$base/organizations/$org/subscriptions")
  pid=$(echo "$sub" | python3 -c 'import json,sys; print(json.load(sys.stdin)["project_id"])')
  for _ in $(seq 200); do curl -sf -H "Authorization: Bearer $access" "$base/projects/$pid/environments/main" | grep -q '"status":"active"' && break; sleep 0.05; done
  echo "$pid"
}

writer_pid=
start_writer() { # base, token, project: renames the project's main environment about 20 times a second until stopped
  local base=$1 access=$2 pid=$3
  ( i=0; while :; do i=$((i + 1))
      curl -sf -o /dev/null -X PATCH -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d "{\"title\":\"Main $i\"}" \
        "$base/projects/$pid/environments/main" || true
      sleep 0.05; done ) &
  writer_pid=$!
}
stop_writer() { kill "$writer_pid" 2>/dev/null || true; wait "$writer_pid" 2>/dev/null || true; }

run_wrk() { # url, token, [Accept-Encoding] -> "rps p50ms p99ms"
  local out
  out=$(wrk -t 2 -c 64 -d "${DURATION}s" --latency ${2:+-H "Authorization: Bearer $2"} ${3:+-H "Accept-Encoding: $3"} "$1")
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
measure() { # backend label, base, project, token, [Accept-Encoding of every request]
  local backend=$1 base=$2 pid=$3 token=$4 enc=${5:-} floor env proj
  floor=$(run_wrk "$base/" "" "$enc")
  proj=$(run_wrk "$base/projects/$pid" "$token" "$enc")
  env=$(run_wrk "$base/projects/$pid/environments" "$token" "$enc")
  rows+=("$backend|GET / (floor)|$floor|$floor")
  rows+=("$backend|GET /projects/{id}|$proj|$floor")
  rows+=("$backend|GET /projects/{id}/environments (50)|$env|$floor")
}

base=$(start_grove sqlite)
read -r pid token < <(seed "$base" "$work/sqlite")
measure sqlite "$base" "$pid" "$token"
# The same with the header HTTP clients send by default (curl-based ones, Go, Python requests): cached answers come gzip.
measure "sqlite, gzip" "$base" "$pid" "$token" gzip
kill "$(cat "$work/sqlite.pid")"; rm "$work/sqlite.pid"; sleep 0.5

# The same data without the response cache: every GET rendered anew (records and environments the memos know are
# not decoded or rendered again: the case of an answer rendered after an unrelated write).
base=$(start_grove sqlite --no-response-cache)
measure "sqlite, no cache" "$base" "$pid" "$token"
kill "$(cat "$work/sqlite.pid")"; rm "$work/sqlite.pid"; sleep 0.5

# And without the memos: every record decoded and every environment rendered on every request.
base=$(start_grove sqlite --no-response-cache --no-render-memo)
measure "sqlite, no cache, no memo" "$base" "$pid" "$token"
kill "$(cat "$work/sqlite.pid")"; rm "$work/sqlite.pid"

port=$(start_pg)
base=$(start_grove postgres --database-url "postgres://postgres@127.0.0.1:$port/postgres")
read -r pid token < <(seed "$base" "$work/postgres")
measure postgres "$base" "$pid" "$token"
measure "postgres, gzip" "$base" "$pid" "$token" gzip
# The same while another tenant writes to its own project about 20 times a second: answers are versioned per
# project, so the measured project's cached answers stay valid.
other=$(other_project "$base" "$token")
start_writer "$base" "$token" "$other"
measure "postgres, gzip, another project writing" "$base" "$pid" "$token" gzip
stop_writer
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

#!/usr/bin/env bash
# bench/activities: one environment's activity queue under a burst of record changes. One client posts N variables
# back to back (each an environment.variable.create activity); then the activities are read back and the table shows
# how long each waited in the queue and ran, and the lane's throughput (N over the sum of run times). Anchor: the
# API's own answer time per POST. SQLite, then PostgreSQL.
# Usage: bench/activities.sh [variables (default 300)]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-300}
. bench/lib.sh
bench_cluster_init

measure() { # name, base URL
  local name=$1 base=$2 access org pid t0 t1 left
  access=$(curl -sf -d "grant_type=api_token&api_token=$(cat "$work/$name/initial-api-token")" "$base/oauth2/token" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  org=$(curl -sf -H "Authorization: Bearer $access" "$base/organizations" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  pid=$(curl -sf -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d '{"project_title":"Bench"}' "$base/organizations/$org/subscriptions" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["project_id"])')
  for _ in $(seq 200); do curl -sf -H "Authorization: Bearer $access" "$base/projects/$pid/environments/main" | grep -q '"status":"active"' && break; sleep 0.05; done
  t0=$(date +%s%N)
  for i in $(seq "$N"); do
    curl -sf -o /dev/null -H "Authorization: Bearer $access" -H 'Content-Type: application/json' -d "{\"name\":\"V$i\",\"value\":\"x\"}" \
      "$base/projects/$pid/environments/main/variables"
  done
  t1=$(date +%s%N)
  for _ in $(seq 600); do
    left=$(curl -sf -H "Authorization: Bearer $access" "$base/projects/$pid/activities?state=pending&state=in_progress" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
    [ "$left" = 0 ] && break; sleep 0.2
  done
  curl -sf -H "Authorization: Bearer $access" "$base/projects/$pid/activities?type=environment.variable.create&count=$N" |
    python3 -c '
import json, sys
from datetime import datetime
label, n, post_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
acts = json.load(sys.stdin)
t = lambda s: datetime.fromisoformat(s).timestamp()
wait = sorted(t(a["started_at"]) - t(a["created_at"]) for a in acts)
ran = sorted(t(a["completed_at"]) - t(a["started_at"]) for a in acts)
ok = sum(1 for a in acts if a.get("result") == "success")
pct = lambda xs, p: xs[min(len(xs) - 1, int(len(xs) * p))] * 1000
print(f"| {label} | {ok}/{n} | {post_ms / n:.1f} | {pct(wait, .5):.1f} | {pct(wait, .99):.1f} | {pct(ran, .5):.1f} | {n / max(sum(ran), 1e-9):.0f} |")
' "$name" "$N" "$(( (t1 - t0) / 1000000 ))"
  kill "$(cat "$work/$name.pid")"; rm "$work/$name.pid"; sleep 0.5
}

echo "| store | succeeded | POST ms (anchor) | queue wait p50 ms | queue wait p99 ms | run p50 ms | lane activities/s |"
echo "|---|---|---|---|---|---|---|"
measure sqlite "$(start_grove sqlite)"
port=$(start_pg)
measure postgres "$(start_grove postgres --database-url "postgres://postgres@127.0.0.1:$port/postgres")"

#!/usr/bin/env bash
# bench/branch: how long until a branched environment's PostgreSQL accepts connections with its parent's data,
# for parents of about 100 MB, 1 GB and 4 GB on the btrfs (copy-on-write) driver, beside what Dokku and Coolify
# users do: pg_dump | pg_restore of the same database into a new one. Needs root (a loop-mounted btrfs image).
# Usage: bench/branch.sh [scale factors, default "7 68 270"] (pgbench scale: about 15 MB each)
set -euo pipefail
cd "$(dirname "$0")/.."
SCALES=${1:-7 68 270}
[ "$(id -u)" = 0 ] || { echo "bench/branch needs root (grove serve --volume-image)" >&2; exit 1; }
command -v pgbench >/dev/null || PATH=/usr/lib/postgresql/15/bin:$PATH
. bench/lib.sh
bench_build
work=$(mktemp -d)
cleanup() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true; sleep 3; umount "$work/data/volumes" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_TERMINAL_PROMPT=0
bench_serve "$work/data" "$work/grove.log" --volume-image 24G
export GROVE_CONFIG_DIR=$work/cli
pid=$("$GROVE" project:create --title branch-bench 2>/dev/null | grep -o 'Project [a-z0-9]*' | head -1 | cut -d' ' -f2)
export GROVE_PROJECT=$pid

git init -q -b main "$work/app"
mkdir -p "$work/app/.platform"
printf 'name: app\ntype: python:3.11\nrelationships:\n  database: "db:postgresql"\nweb:\n  commands:\n    start: python3 -m http.server $PORT --bind 127.0.0.1\n' > "$work/app/.platform.app.yaml"
printf 'db:\n  type: postgresql:15\n  disk: 8192\n' > "$work/app/.platform/services.yaml"
git -C "$work/app" add -A && git -C "$work/app" -c user.email=b@b -c user.name=b commit -qm app
git -C "$work/app" push -q "${API/http:\/\//http://grove:$TOKEN@}/$pid.git" main 2>"$work/push.log" || { cat "$work/push.log" "$work/grove.log" >&2; exit 1; }

rel() { "$GROVE" relationships -e "$1" | python3 -c "import json,sys; d=json.load(sys.stdin)['database'][0]; print(d['$2'])"; }
port=$(rel main port) pass=$(rel main password)
run="$work/data/run/services/$pid/main/db"
now() { date +%s.%N; }
db_bytes() { PGPASSWORD=$pass psql -h 127.0.0.1 -p "$port" -U main -d main -qAtc "select pg_database_size('main')"; }

echo "PostgreSQL 15 on a btrfs image; $(nproc) cores; pgbench data; times are wall seconds." >&2
rows=()
for s in $SCALES; do
  PGPASSWORD=$pass pgbench -q -i -s "$s" -h 127.0.0.1 -p "$port" -U main main >/dev/null 2>&1
  # A database in steady state: checkpointed and on disk, as a running one is between checkpoints.
  psql -h "$run" -p "$port" -U postgres -qAtc "checkpoint" >/dev/null; sync; sleep 2
  size=$(db_bytes)
  env=b$s
  t0=$(now); "$GROVE" environment:branch "$env" main >/dev/null 2>&1; t1=$(now)
  branch=$(echo "$t1 - $t0" | bc)
  # The clone serves the parent's rows.
  cport=$(rel "$env" port)
  n=$(PGPASSWORD=$pass psql -h 127.0.0.1 -p "$cport" -U main -d main -qAtc "select count(*) from pgbench_accounts")
  [ "$n" = "$((s * 100000))" ] || { echo "the clone of scale $s has $n accounts" >&2; exit 1; }
  # The service's own time: the snapshot, then the server accepting connections on it.
  log=$("$GROVE" activity:log -e "$env" 2>/dev/null || true)
  snap=$(echo "$log" | grep -o 'Cloned service db from main (btrfs, [0-9]* ms)' | grep -o '[0-9]* ms' | grep -o '[0-9]*' || echo 0)
  accept=$(echo "$log" | grep -o 'Service db accepts connections ([0-9]* ms)' | grep -o '[0-9]* ms' | grep -o '[0-9]*' || echo 0)
  service=$(echo "($snap + $accept) / 1000" | bc -l)
  dump="-"
  if [ "$s" -le 100 ]; then
    psql -h "$run" -p "$port" -U postgres -qAtc "drop database if exists restore_$s" -c "create database restore_$s" >/dev/null
    t0=$(now)
    PGPASSWORD=$pass pg_dump -Fc -h 127.0.0.1 -p "$port" -U main main | pg_restore -h "$run" -p "$port" -U postgres -d "restore_$s" --no-owner
    t1=$(now)
    dump=$(echo "$t1 - $t0" | bc)
    psql -h "$run" -p "$port" -U postgres -qAtc "drop database restore_$s" >/dev/null
  fi
  rows+=("$s|$size|$branch|$service|$snap|$dump")
done

echo "| parent database | snapshot + PostgreSQL accepting | whole \`grove environment:branch\` | pg_dump \\| pg_restore | speed-up (service) |"
echo "|---|---|---|---|---|"
first=""
for r in "${rows[@]}"; do
  IFS='|' read -r s size branch service snap dump <<<"$r"
  mb=$(echo "$size / 1048576" | bc)
  [ -z "$first" ] && first=$service
  if [ "$dump" = "-" ]; then ratio="-"; else ratio=$(printf '%.0fx' "$(echo "$dump / $service" | bc -l)"); fi
  printf "| %s MB (scale %s) | %.2f s (snapshot %s ms; %.2fx the smallest) | %.2f s | %s | %s |\n" "$mb" "$s" "$service" "$snap" \
    "$(echo "$service / $first" | bc -l)" "$branch" "$( [ "$dump" = "-" ] && echo "-" || printf '%.1f s' "$dump")" "$ratio"
done

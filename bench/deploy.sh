#!/usr/bin/env bash
# bench/deploy: push-to-serving time of a trivial Python app through a release `grove serve`: a cold build
# (new project), a cache hit (the same tree pushed as a new active branch: the build is reused), and the app's
# own start time (python3 starting the same server directly) as the anchor. Usage: bench/deploy.sh [runs (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
. bench/lib.sh
bench_build
work=$(mktemp -d)
cleanup() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true; sleep 1; rm -rf "$work"; }
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_TERMINAL_PROMPT=0
bench_serve "$work/data" "$work/grove.log"
api=$API rport=$ROUTER_PORT token=$TOKEN
export GROVE_CONFIG_DIR=$work/cli

git init -q -b main "$work/app"
cat > "$work/app/.platform.app.yaml" <<'YAML'
name: app
type: python:3.11
hooks:
  build: python3 -m compileall -q .
web:
  commands:
    start: python3 server.py
YAML
cat > "$work/app/server.py" <<'PY'
import os, http.server
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8999"))), H).serve_forever()
PY
git -C "$work/app" add -A && git -C "$work/app" -c user.email=b@b -c user.name=b commit -qm app

now() { date +%s.%N; }
serving() { # host
  for _ in $(seq 600); do [ "$(curl -s -k -L -o /dev/null -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$rport/")" = 200 ] && return 0; sleep 0.02; done; return 1
}
declare -a cold hit own
for r in $(seq "$RUNS"); do
  pid=$("$GROVE" project:create --title "bench $r" 2>/dev/null | grep -o 'Project [a-z0-9]*' | head -1 | cut -d' ' -f2)
  url=${api/http:\/\//http://grove:$token@}/$pid.git
  t0=$(now); git -C "$work/app" push -q "$url" main 2>/dev/null; serving "main-$pid.localhost"; t1=$(now)
  cold+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); git -C "$work/app" push -q -o environment.status=active "$url" main:refs/heads/copy 2>/dev/null; serving "copy-$pid.localhost"; t1=$(now)
  hit+=("$(echo "$t1 - $t0" | bc)")
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  t0=$(now); PORT=$port /usr/bin/python3 "$work/app/server.py" >/dev/null 2>&1 & ownpid=$!
  for _ in $(seq 500); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.01; done; t1=$(now)
  kill "$ownpid"
  own+=("$(echo "$t1 - $t0" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mc=$(median "${cold[@]}"); mh=$(median "${hit[@]}"); mo=$(median "${own[@]}")
echo "Trivial Python app (http.server), median of $RUNS runs; $(nproc) cores; push-to-serving wall time."
echo
echo "| case | seconds | over the app's own start |"
echo "|---|---|---|"
printf "| the app's own start (anchor) | %.2f | - |\n" "$mo"
printf "| push, cold build | %.2f | +%.2f s |\n" "$mc" "$(echo "$mc - $mo" | bc -l)"
printf "| push, build reused (new active branch) | %.2f | +%.2f s |\n" "$mh" "$(echo "$mh - $mo" | bc -l)"

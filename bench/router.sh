#!/usr/bin/env bash
# bench/router: wrk through Grove's router (the nginx configuration Grove generates for a pushed app) beside a
# hand-written nginx reverse proxy to the same upstream, same machine, same run. The upstream is the pushed
# application itself: nginx serving a small static body on $PORT, so the proxies, not the app, are measured.
# Prints a markdown table: req/s and p99 latency, with ratios. Usage: bench/router.sh [seconds per run (default 10)]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
. bench/lib.sh
bench_build
work=$(mktemp -d)
chmod 755 "$work"
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -f "$work/proxy/nginx.pid" ] && kill "$(cat "$work/proxy/nginx.pid")" 2>/dev/null || true
  sleep 1; rm -rf "$work"
}
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_TERMINAL_PROMPT=0

bench_serve "$work/data" "$work/grove.log"
api=$API rport=$ROUTER_PORT token=$TOKEN
export GROVE_CONFIG_DIR=$work/cli
pid=$("$GROVE" project:create --title bench 2>/dev/null | grep -o 'Project [a-z0-9]*' | head -1 | cut -d' ' -f2)

# The application: nginx answering "hello" on $PORT from a config written at start.
git init -q -b main "$work/app"
cat > "$work/app/.platform.app.yaml" <<'YAML'
name: app
type: python:3.11
web:
  commands:
    start: |
      mkdir -p /tmp/n && printf 'worker_processes 1; daemon off; pid /tmp/n/pid; error_log /tmp/n/err; events {} http { access_log off; client_body_temp_path /tmp/n; proxy_temp_path /tmp/n; fastcgi_temp_path /tmp/n; uwsgi_temp_path /tmp/n; scgi_temp_path /tmp/n; server { listen 127.0.0.1:%s; location / { return 200 "hello\\n"; } } }' "$PORT" > /tmp/n/conf
      exec /usr/sbin/nginx -p /tmp/n -c /tmp/n/conf
YAML
# Plain http on both sides (an https-only route would answer http with a redirect).
mkdir -p "$work/app/.platform"
echo '"http://{default}/": {type: upstream, upstream: "app:http"}' > "$work/app/.platform/routes.yaml"
git -C "$work/app" add -A && git -C "$work/app" -c user.email=b@b -c user.name=b commit -qm app
git -C "$work/app" push -q "${api/http:\/\//http://grove:$token@}/$pid.git" main 2>/dev/null
host="main-$pid.localhost"
upstream=$(grep -o 'server 127.0.0.1:[0-9]*' "$work/data/router/nginx.conf" | head -1 | sed 's/server //')

# The hand-written reverse proxy: the same upstream, keepalive, one worker.
mkdir -p "$work/proxy"
pport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/proxy/nginx.conf" <<CONF
worker_processes 1; pid $work/proxy/nginx.pid; error_log $work/proxy/error.log; $( [ "$(id -u)" = 0 ] && echo "user root root;" )
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/proxy; proxy_temp_path $work/proxy; fastcgi_temp_path $work/proxy; uwsgi_temp_path $work/proxy; scgi_temp_path $work/proxy;
  upstream app { server $upstream; keepalive 32; }
  server { listen 127.0.0.1:$pport; location / { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host \$http_host; proxy_pass http://app; } }
}
CONF
/usr/sbin/nginx -p "$work/proxy" -c "$work/proxy/nginx.conf"
sleep 0.5
curl -sf -H "Host: $host" "http://127.0.0.1:$rport/" >/dev/null || { echo "the router does not answer" >&2; cat "$work/grove.log" >&2; exit 1; }

run() { # url -> "req/s p99(ms)"
  wrk -t2 -c64 -d"${DURATION}s" --latency -H "Host: $host" "$1" | awk '
    /Requests\/sec/ {rps=$2}
    /^ *99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; p99=v}
    END {printf "%s %s\n", rps, p99}'
}
# Alternate the two twice and keep each one's better run: the machine's speed drifts between runs.
read -r hr hp < <(run "http://127.0.0.1:$pport/")
read -r gr gp < <(run "http://127.0.0.1:$rport/")
read -r hr2 hp2 < <(run "http://127.0.0.1:$pport/")
read -r gr2 gp2 < <(run "http://127.0.0.1:$rport/")
best() { python3 -c "import sys; a,b,c,d=map(float,sys.argv[1:]); print(max(a,c), min(b,d))" "$@"; }
read -r hr hp < <(best "$hr" "$hp" "$hr2" "$hp2")
read -r gr gp < <(best "$gr" "$gp" "$gr2" "$gp2")
echo "wrk: 2 threads, 64 connections, ${DURATION}s each, best of two alternating runs; $(nproc) cores; upstream: nginx static 'hello'."
echo
echo "| proxy | req/s | p99 ms | req/s ratio | p99 ratio |"
echo "|---|---|---|---|---|"
printf "| hand-written nginx (anchor) | %.0f | %.2f | 1.00x | 1.00x |\n" "$hr" "$hp"
printf "| Grove router | %.0f | %.2f | %.2fx | %.2fx |\n" "$gr" "$gp" "$(echo "$gr / $hr" | bc -l)" "$(echo "$gp / $hp" | bc -l)"

# Shared by the bench scripts: a release build and a throwaway `grove serve`.
# bench_build sets GROVE; bench_serve DATA_DIR LOG [grove serve options] starts a server and sets API, ROUTER_PORT, TOKEN, SERVER_PID
# and exports GROVE_API_URL / GROVE_TOKEN for the CLI.
bench_build() {
  export PATH=/opt/swift/usr/bin:$PATH
  swift build -c release --product grove >/dev/null
  GROVE=$PWD/.build/release/grove
}

bench_serve() {
  "$GROVE" serve --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --router-tls-port 0 --ssh-listen off --data-dir "$1" --log-level error "${@:3}" >"$2" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do grep -q "router listening" "$2" && break; sleep 0.05; done
  API=$(grep -o 'API listening on http://127.0.0.1:[0-9]*' "$2" | head -1 | sed 's/API listening on //')
  ROUTER_PORT=$(grep -o 'router listening on http://127.0.0.1:[0-9]*' "$2" | head -1 | sed 's/.*://')
  TOKEN=$(cat "$1/initial-api-token")
  export GROVE_API_URL=$API GROVE_TOKEN=$TOKEN
}

# Several servers side by side in one work directory ($work, which bench_cluster_init makes): bench_cluster_init sets
# GROVE and work and cleans both up on exit; start_grove NAME [options] starts one (NAME its data dir, log and pid) and
# prints its API URL; as_pg runs a PostgreSQL program (as the postgres user when root); start_pg starts a private
# cluster in $work/pg and prints its port.
bench_cluster_init() {
  export PATH=/opt/swift/usr/bin:$PATH
  swift build -c release --product grove >/dev/null
  GROVE=.build/release/grove
  work=$(mktemp -d)
  chmod 755 "$work"
  trap bench_cluster_cleanup EXIT
  pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
}

bench_cluster_cleanup() {
  for f in "$work"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  if [ -f "$work/pg/data/postmaster.pid" ]; then as_pg pg_ctl -D "$work/pg/data" -m fast stop >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$pgbin/$1" "${@:2}"; else "$pgbin/$1" "${@:2}"; fi; }

start_grove() { # name, extra args...
  local name=$1; shift
  "$GROVE" serve --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --router-tls-port 0 --ssh-listen off --data-dir "$work/$name" --log-level error "$@" >"$work/$name.log" 2>&1 &
  echo $! > "$work/$name.pid"
  for _ in $(seq 200); do grep -q "API listening on" "$work/$name.log" && break; sleep 0.05; done
  grep -o 'API listening on http://127.0.0.1:[0-9]*' "$work/$name.log" | head -1 | sed 's/API listening on //'
}

start_pg() { # -> port
  mkdir -p "$work/pg"; [ "$(id -u)" = 0 ] && chown postgres "$work/pg"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg initdb -D "$work/pg/data" -U postgres -A trust >/dev/null
  as_pg pg_ctl -D "$work/pg/data" -l "$work/pg/log" -w -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
  echo "$port"
}

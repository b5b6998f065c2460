# Shared by the bench scripts: a release build and a throwaway `grove serve`.
# bench_build sets GROVE; bench_serve DATA_DIR LOG [grove serve options] starts a server and sets API, ROUTER_PORT, TOKEN, SERVER_PID
# and exports GROVE_API_URL / GROVE_TOKEN for the CLI.
bench_build() {
  export PATH=/opt/swift/usr/bin:$PATH
  swift build -c release --product grove >/dev/null
  GROVE=$PWD/.build/release/grove
}

bench_serve() {
  "$GROVE" serve --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --router-tls-port 0 --data-dir "$1" --log-level error "${@:3}" >"$2" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do grep -q "router listening" "$2" && break; sleep 0.05; done
  API=$(grep -o 'API listening on http://127.0.0.1:[0-9]*' "$2" | head -1 | sed 's/API listening on //')
  ROUTER_PORT=$(grep -o 'router listening on http://127.0.0.1:[0-9]*' "$2" | head -1 | sed 's/.*://')
  TOKEN=$(cat "$1/initial-api-token")
  export GROVE_API_URL=$API GROVE_TOKEN=$TOKEN
}

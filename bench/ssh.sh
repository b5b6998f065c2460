#!/usr/bin/env bash
# bench/ssh: the two SSH servers side by side on one pushed application: OpenSSH's sshd driven by Grove
# (--ssh-server openssh) and the built-in one (--ssh-server builtin, the anchor). Measures a whole session (connect,
# key exchange, certificate login, a command, exit) and the stream rate both ways through a session.
# Prints a markdown table with openssh/builtin ratios. Usage: bench/ssh.sh [sessions (default 20)] [MB (default 200)]
set -euo pipefail
cd "$(dirname "$0")/.."
SESSIONS=${1:-20}
MB=${2:-200}
. bench/lib.sh
bench_build
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 1; rm -rf "$work"; }
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_TERMINAL_PROMPT=0

git init -q -b main "$work/app"
printf 'name: app\ntype: python:3.11\nweb:\n  commands:\n    start: python3 -m http.server $PORT --bind 127.0.0.1\n' > "$work/app/.platform.app.yaml"
git -C "$work/app" add -A && git -C "$work/app" -c user.email=b@b -c user.name=b commit -qm app

now_ms() { python3 -c 'import time; print(int(time.monotonic()*1000))'; }
rows=()
for kind in builtin openssh; do
  data=$work/$kind
  "$GROVE" serve --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --router-tls-port 0 --ssh-listen 127.0.0.1:0 --ssh-server "$kind" \
    --data-dir "$data" --log-level error >"$work/$kind.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 400); do grep -q "SSH listening" "$work/$kind.log" && grep -q "API listening" "$work/$kind.log" && break; sleep 0.05; done
  api=$(grep -o 'API listening on http://127.0.0.1:[0-9]*' "$work/$kind.log" | head -1 | sed 's/API listening on //')
  export GROVE_API_URL=$api GROVE_TOKEN=$(cat "$data/initial-api-token") GROVE_CONFIG_DIR=$work/cli-$kind
  pid=$("$GROVE" project:create --title bench 2>/dev/null | grep -o 'Project [a-z0-9]*' | head -1 | cut -d' ' -f2)
  git -C "$work/app" push -q "${api/http:\/\//http://grove:$GROVE_TOKEN@}/$pid.git" main:main 2>/dev/null
  "$GROVE" ssh-cert:load >/dev/null
  url=$("$GROVE" ssh -p "$pid" -e main --pipe)
  target=${url#ssh://}; port=${target##*:}; target=${target%:*}
  key=$GROVE_CONFIG_DIR/ssh/id_ed25519
  ssh_=(ssh -F /dev/null -i "$key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p "$port" "$target")
  "${ssh_[@]}" true
  start=$(now_ms)
  for _ in $(seq "$SESSIONS"); do "${ssh_[@]}" true; done
  session=$(( ($(now_ms) - start) / SESSIONS ))
  start=$(now_ms)
  "${ssh_[@]}" "head -c $((MB << 20)) /dev/zero" > /dev/null
  down=$(python3 -c "print(f'{$MB / (($(now_ms) - $start) / 1000):.0f}')")
  start=$(now_ms)
  head -c $((MB << 20)) /dev/zero | "${ssh_[@]}" "cat > /dev/null"
  up=$(python3 -c "print(f'{$MB / (($(now_ms) - $start) / 1000):.0f}')")
  rows+=("$kind $session $down $up")
done
read -r _ bs bd bu <<<"${rows[0]}"
read -r _ os od ou <<<"${rows[1]}"
echo "| server | session (ms) | download (MB/s) | upload (MB/s) |"
echo "|---|---|---|---|"
echo "| builtin (anchor) | $bs | $bd | $bu |"
echo "| openssh | $os | $od | $ou |"
python3 -c "print(f'| openssh / builtin | {$os/$bs:.2f}x | {$od/$bd:.2f}x | {$ou/$bu:.2f}x |')"

#!/usr/bin/env bash
# bench/git: push and then clone a repository of 5,000 commits and ~50 MB of incompressible blobs through a release
# `grove serve` (smart HTTP, hooks, the environment.push activity) beside the same operations against a bare
# repository over file:// (git alone: the floor). Prints a markdown table with the ratios.
# Usage: bench/git.sh [runs (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
. bench/lib.sh
bench_build
work=$(mktemp -d)
cleanup() { [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME=$work GIT_TERMINAL_PROMPT=0

# The source repository: 5,000 commits through fast-import; every 100th commit adds a 1 MB random blob.
git init -q -b main "$work/src"
python3 - "$work" <<'PY' | git -C "$work/src" fast-import --quiet
import os, sys
out = sys.stdout.buffer
mark = 0
for i in range(5000):
    out.write(b"commit refs/heads/main\n")
    out.write(b"committer Bench <bench@example.com> %d +0000\n" % (1700000000 + i))
    msg = b"commit %d" % i
    out.write(b"data %d\n%s\n" % (len(msg), msg))
    if i > 0:
        pass
    body = b"line %d\n" % i
    out.write(b"M 100644 inline counter.txt\ndata %d\n%s\n" % (len(body), body))
    if i % 100 == 0:
        blob = os.urandom(1 << 20)
        out.write(b"M 100644 inline assets/blob-%04d.bin\ndata %d\n" % (i, len(blob)))
        out.write(blob + b"\n")
PY
git -C "$work/src" checkout -q main
size=$(du -sm "$work/src/.git" | cut -f1)

bench_serve "$work/data" "$work/grove.log"
base=$API token=$TOKEN
export GROVE_CONFIG_DIR=$work/cli

now() { date +%s.%N; }
declare -a gp gc fp fc
for r in $(seq "$RUNS"); do
  pid=$("$GROVE" project:create --title "bench $r" 2>/dev/null | grep -o 'Project [a-z0-9]*' | head -1 | cut -d' ' -f2)
  url=${base/http:\/\//http://grove:$token@}/$pid.git
  git init -q --bare "$work/floor$r.git"
  t0=$(now); git -C "$work/src" push -q "file://$work/floor$r.git" main 2>/dev/null; t1=$(now)
  fp+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); git -C "$work/src" push -q "$url" main 2>/dev/null; t1=$(now)
  gp+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); git clone -q --bare "file://$work/floor$r.git" "$work/fclone$r" ; t1=$(now)
  fc+=("$(echo "$t1 - $t0" | bc)")
  t0=$(now); git clone -q --bare "$url" "$work/gclone$r"; t1=$(now)
  gc+=("$(echo "$t1 - $t0" | bc)")
  rm -rf "$work/fclone$r" "$work/gclone$r"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mp=$(median "${gp[@]}"); mf=$(median "${fp[@]}"); cp=$(median "${gc[@]}"); cf=$(median "${fc[@]}")
echo "Repository: 5,000 commits, $size MB in .git; median of $RUNS runs; $(nproc) cores."
echo
echo "| operation | git file:// (floor) s | Grove smart HTTP s | ratio |"
echo "|---|---|---|---|"
printf "| push (new project, main) | %.2f | %.2f | %.2fx |\n" "$mf" "$mp" "$(echo "$mp / $mf" | bc -l)"
printf "| clone --bare | %.2f | %.2f | %.2fx |\n" "$cf" "$cp" "$(echo "$cp / $cf" | bc -l)"

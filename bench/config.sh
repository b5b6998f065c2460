#!/usr/bin/env bash
# bench/config: how long `grove app:config-validate` (the push's own configuration reader, run locally) takes on
# configuration files written to hurt the server, beside an ordinary project (the anchor). Each hostile file is refused
# at a limit; this shows what reaching the limit costs. Prints a markdown table; the median of N runs per case.
# Usage: bench/config.sh [runs (default 5)]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
. bench/lib.sh
bench_build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

app='name: app
type: python:3.12
web: {commands: {start: python3 -m http.server $PORT}}'
mk() { mkdir -p "$work/$1/.platform"; printf '%s\n' "$app" > "$work/$1/.platform.app.yaml"; }

# anchor: an ordinary project (one app, two services, two routes)
mk ordinary
printf '%s\n' 'relationships: {db: "db:postgresql", cache: "cache:redis"}' 'disk: 512' \
  'mounts: {"/data": {source: local, source_path: data}}' >> "$work/ordinary/.platform.app.yaml"
printf '%s\n' 'db: {type: "postgresql:16", disk: 512}' 'cache: {type: "redis:7.0"}' > "$work/ordinary/.platform/services.yaml"
printf '%s\n' '"https://{default}/": {type: upstream, upstream: "app:http"}' '"https://www.{default}/": {type: redirect, to: "https://{default}/"}' \
  > "$work/ordinary/.platform/routes.yaml"

# billion laughs: nine levels of ten aliases
mk laughs
{ echo 'variables:'; echo '  env:'; echo '    l0: &l0 "lol"'
  for i in $(seq 1 9); do printf '    l%d: &l%d [' "$i" "$i"; for j in $(seq 10); do printf '*l%d%s' $((i-1)) "$([ "$j" -lt 10 ] && echo ', ')"; done; echo ']'; done
} >> "$work/laughs/.platform.app.yaml"

# aliases used as keys, 30 levels
mk keyaliases
{ echo 'x0: &x0 {a: 1, b: 2}'; for i in $(seq 1 30); do echo "x$i: &x$i {? *x$((i-1)) : 1, ? [*x$((i-1))] : 2}"; done; } >> "$work/keyaliases/.platform.app.yaml"

# includes: six levels, each including the next 40 times
mk includes
mkdir -p "$work/includes/conf"
for l in 0 1 2 3 4 5; do
  if [ $l -eq 5 ]; then next="'leaf'"; else next="!include l$((l+1)).yaml"; fi
  { printf '['; for j in $(seq 40); do printf '%s%s' "$next" "$([ "$j" -lt 40 ] && echo ', ')"; done; echo ']'; } > "$work/includes/conf/l$l.yaml"
done
echo 'variables: {env: {big: !include conf/l0.yaml}}' >> "$work/includes/.platform.app.yaml"

# 30,000 keys in one map (valid: read in full)
mk manykeys
{ echo 'variables:'; echo '  env:'; for i in $(seq 0 29999); do echo "    k$i: v"; done; } >> "$work/manykeys/.platform.app.yaml"

# deep nesting
mk deep
printf 'variables: {env: {deep: %s%s}}\n' "$(printf '[%.0s' $(seq 100))" "$(printf ']%.0s' $(seq 100))" >> "$work/deep/.platform.app.yaml"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run_case() {
  local dir=$1 t0 t1 status
  for _ in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    if "$GROVE" app:config-validate -q --dir "$work/$dir" >/dev/null 2>"$work/$dir.err"; then status=valid; else status=refused; fi
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000 )) $status"
  done
}

echo "| case | result | median ms | × ordinary |"
echo "|---|---|---|---|"
anchor=
for c in ordinary laughs keyaliases includes manykeys deep; do
  out=$(run_case "$c")
  us=$(echo "$out" | cut -d' ' -f1 | median)
  status=$(echo "$out" | tail -1 | cut -d' ' -f2)
  [ -z "$anchor" ] && anchor=$us
  printf '| %s | %s | %.1f | %.1f |\n' "$c" "$status" "$(echo "$us / 1000" | bc -l)" "$(echo "$us / $anchor" | bc -l)"
done

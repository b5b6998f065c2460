#!/usr/bin/env bash
# Regenerates the "## Operations" section of docs/api.md from a running `grove serve`'s /openapi.json.
set -euo pipefail
cd "$(dirname "$0")/.."
GROVE=${GROVE_BIN:-.build/debug/grove}
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; sleep 0.5; rm -rf "$work"' EXIT
"$GROVE" serve --listen 127.0.0.1:0 --router-listen 127.0.0.1:0 --router-tls-port 0 --data-dir "$work/data" --log-level error >"$work/log" 2>&1 &
echo $! > "$work/pid"
for _ in $(seq 100); do grep -q "API listening on" "$work/log" && break; sleep 0.1; done
base=$(grep -o 'API listening on http://127.0.0.1:[0-9]*' "$work/log" | head -1 | sed 's/API listening on //')
curl -sf "$base/openapi.json" > "$work/openapi.json"
python3 - "$work/openapi.json" docs/api.md <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
by_tag = {}
count = 0
for path, ops in doc["paths"].items():
    for method, op in ops.items():
        count += 1
        by_tag.setdefault(op.get("tags", ["Other"])[0], []).append((path, method.upper(), op.get("summary", "")))
out = ["## Operations", "", f"Generated from `/openapi.json` ({count} operations).", ""]
for tag in sorted(by_tag):
    out += [f"### {tag}", "", "| method | path | summary |", "|---|---|---|"]
    for path, method, summary in sorted(by_tag[tag]):
        out.append(f"| {method} | `{path}` | {summary} |")
    out.append("")
text = open(sys.argv[2]).read()
head = text.split("## Operations")[0]
open(sys.argv[2], "w").write(head + "\n".join(out).rstrip() + "\n")
PY
echo "docs/api.md: $(grep -c '^| [A-Z]* | `' docs/api.md) operations listed"

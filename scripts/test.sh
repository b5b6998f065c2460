#!/usr/bin/env bash
# The test command: installs what the tests need, builds, runs unit and integration tests
# (SQLite and a throwaway PostgreSQL), the CLI tests, then the OpenAPI conformance run against Grove's own document
# and the contract check against the official one (../shared/reference/upsun-openapi.json, or GROVE_OFFICIAL_OPENAPI).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
export PATH=/opt/swift/usr/bin:$PATH
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Wrapping|Linking|Merging|Planning)' || true
test -x .build/debug/grove || { echo "build failed"; exit 1; }
# Python oracles the tests call (pyotp for TOTP codes); schemathesis joins the same venv in conformance.sh.
VENV=${GROVE_VENV:-.venv}
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
"$VENV/bin/python3" -c "import pyotp" 2>/dev/null || "$VENV/bin/pip" install -q --disable-pip-version-check "pyotp>=2.9,<3"
export GROVE_VENV=$(cd "$VENV" && pwd)
log=$(mktemp)
set +e
# Tests that watch queued activities race the clock, so they run one at a time after the parallel run
# (their suites' names end in SerialTests).
swift test --skip-build --skip SerialTests 2>&1 | tee "$log" | grep -Ev '^(◇|↳|✔ Test case)'
status=${PIPESTATUS[0]}
swift test --skip-build --filter SerialTests --no-parallel 2>&1 | tee -a "$log" | grep -Ev '^(◇|↳|✔ Test case)'
serial=${PIPESTATUS[0]}
[ "$serial" = 0 ] || status=$serial
set -e
echo "--- OpenAPI conformance (schemathesis)"
conf=0
./scripts/conformance.sh || conf=$?
echo "--- Official contract (answers against the official OpenAPI document)"
"$GROVE_VENV/bin/python3" -c "import openapi_schema_validator" 2>/dev/null || "$GROVE_VENV/bin/pip" install -q --disable-pip-version-check "openapi-schema-validator>=0.6,<1"
contract=0
"$GROVE_VENV/bin/python3" ./scripts/official-contract.py || contract=$?
echo "--- A client generated from the official OpenAPI document (openapi-python-client)"
[ -x "$GROVE_VENV/bin/openapi-python-client" ] || "$GROVE_VENV/bin/pip" install -q --disable-pip-version-check "openapi-python-client>=0.20,<1"
generated=0
"$GROVE_VENV/bin/python3" ./scripts/generated-client.py || generated=$?
passed=$(grep -cE '^✔ Test .* passed after' "$log" || true)
failed=$(grep -cE '^✘ Test .* failed after' "$log" || true)
if [ "$conf" != 0 ]; then failed=$((failed + 1)); else passed=$((passed + 1)); fi
if [ "$contract" != 0 ]; then failed=$((failed + 1)); else passed=$((passed + 1)); fi
if [ "$generated" != 0 ]; then failed=$((failed + 1)); else passed=$((passed + 1)); fi
echo "grove: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$conf" = 0 ] && [ "$contract" = 0 ] && [ "$generated" = 0 ]

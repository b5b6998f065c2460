#!/usr/bin/env bash
# Quick start: build grove in release mode and run the platform on 127.0.0.1:8000 with an embedded SQLite store.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --product grove
exec .build/release/grove serve "$@"

#!/usr/bin/env bash
# Installs what Grove needs on Debian: the Swift toolchain must already be there (see README);
# PostgreSQL (tests and the scale-out store), nginx (the router), bubblewrap (the sandbox), pip,
# wrk (benchmarks) and Python's venv come from apt.
set -euo pipefail
want_pkgs=()
need() { dpkg -s "$1" >/dev/null 2>&1 || want_pkgs+=("$1"); }

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
  else
    echo "Swift 6.1 or newer is missing: install a toolchain from swift.org (e.g. into /opt/swift) and put its usr/bin on PATH." >&2
    exit 1
  fi
fi
# nginx-light is the router, bubblewrap the application sandbox, python3-pip the Python runtime's pip, php-fpm serves PHP;
# openssl is the tests' oracle for TLS certificates. postgresql, mariadb-server, redis-server and memcached are the
# managed services environments run; btrfs-progs gives copy-on-write volumes (grove serve --volume-image); xfsprogs
# lets the tests check the reflink driver on an XFS image; openssh-client's ssh-keygen is the tests' oracle for SSH keys.
# iproute2 and nftables give each environment its own network namespace (grove serve --network isolated);
# qrencode draws the QR code of a two-factor enrolment. zlib1g-dev is the zlib that gzips cached API answers (linked at build).
# openssh-sftp-server is what SSH sessions run for sftp and scp (inside the application's sandbox), openssh-server's
# sshd the SSH server Grove drives in a namespace of its own (both without recommends; Grove never uses the host's ssh
# service), and
# rsync what mount transfers run. The other language runtimes applications may name come from
# Debian too: golang-go, default-jdk-headless, ruby (with bundler), rustc and cargo, elixir, sbcl (lisp); and the
# services chrome-headless (chromium), rabbitmq (rabbitmq-server) and varnish. chromium-driver lets the web console's
# tests drive that chromium like a person would (WebDriver).
for p in git postgresql python3 python3-pip ca-certificates curl openssl nginx-light bubblewrap php-fpm php-cli \
         mariadb-server mariadb-client redis-server redis-tools memcached btrfs-progs xfsprogs openssh-client \
         iproute2 nftables php-mysql php-redis qrencode rsync zlib1g-dev \
         golang-go default-jdk-headless ruby ruby-bundler rustc cargo elixir sbcl \
         chromium chromium-driver rabbitmq-server varnish; do need "$p"; done
if [ "${GROVE_WITH_BENCH:-0}" = 1 ]; then need wrk; fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need python3-venv; fi

# Installed on their own line so apt adds none of their recommendations.
no_recommends=()
dpkg -s openssh-sftp-server >/dev/null 2>&1 || no_recommends+=(openssh-sftp-server)
dpkg -s openssh-server >/dev/null 2>&1 || no_recommends+=(openssh-server)
if [ ${#no_recommends[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${no_recommends[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${no_recommends[@]}" >/dev/null
  else
    want_pkgs+=("${no_recommends[@]}")
  fi
fi

if [ ${#want_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing: ${want_pkgs[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want_pkgs[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want_pkgs[@]}" >/dev/null
  else
    echo "Missing Debian packages: ${want_pkgs[*]} (run: apt-get install ${want_pkgs[*]})" >&2
    exit 1
  fi
fi
# The PostgreSQL package starts a system cluster; tests start their own and do not need it.

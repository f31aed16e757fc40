#!/usr/bin/env bash
# System packages some tests need: headless Chromium (HTML report screenshots) and a PostgreSQL server
# (the leaderboard on PostgreSQL). Installed with apt when running as root on Debian/Ubuntu; elsewhere
# the tests that need them skip and say why.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: ${missing[*]} not installed and cannot install (not root or no apt); the tests needing them will skip"
fi

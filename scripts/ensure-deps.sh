#!/usr/bin/env bash
# Installs exactly the locked dependencies, once per lockfile change: `npm ci` is slow, so a hash of the
# lockfile is remembered inside node_modules and the install is skipped while it matches.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.gpuaas-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "Installing dependencies (npm ci)…"
npm ci --no-audit --no-fund
echo "$want" > "$stamp"

#!/usr/bin/env bash
# The README's start command: install what is locked, check the backing services, then run the platform.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsx scripts/check-services.ts
# node itself (not the tsx CLI, which relays signals): Ctrl-C reaches the launcher once, so it closes gracefully
# instead of taking a relayed second SIGINT for an impatient second press.
exec node --import tsx scripts/dev.ts

#!/usr/bin/env bash
# The README's start command: install what is locked, check the backing services, then run the platform.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsx scripts/check-services.ts
exec npx tsx scripts/dev.ts

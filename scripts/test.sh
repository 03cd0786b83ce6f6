#!/usr/bin/env bash
# The README's test command: installs what is locked, then runs every gate and every test, and reports each
# step so one failure does not hide the others. Exits non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh || exit 1
npx tsx scripts/check-services.ts || exit 1

failed=()
step() { # step <name> <command…>
  local name=$1; shift
  echo; echo "━━ $name"
  local started=$SECONDS
  if "$@"; then echo "━━ $name: ok ($((SECONDS - started)) s)"; else echo "━━ $name: FAILED ($((SECONDS - started)) s)"; failed+=("$name"); fi
}

step typecheck npx tsc --noEmit
step gates npx tsx scripts/ci/run-gates.ts
step tests npx vitest run
step "api coverage" npx tsx scripts/ci/api_coverage.ts

echo
if [ ${#failed[@]} -gt 0 ]; then echo "FAILED: ${failed[*]}"; exit 1; fi
echo "All gates and tests passed."

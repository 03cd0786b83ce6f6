#!/usr/bin/env bash
# Regenerates every generated artefact from the contracts (see scripts/codegen.ts); `--check` only compares.
set -euo pipefail
cd "$(dirname "$0")/.."
exec npx tsx scripts/codegen.ts "$@"

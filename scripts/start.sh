#!/usr/bin/env bash
# Runs atca-fence on its built-in default: a simulated ATCA shelf (two shelf managers in
# OpenIPMI's ipmi_sim, four blades), with fence_atca shown fencing a blade through it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run --silent build
exec node dist/sim-main.mjs

#!/usr/bin/env bash
# Installs what atca-fence needs on a fresh Debian 12 machine: the real peers the tests and
# the simulated shelf talk to (Debian packages, only those missing), then the npm packages
# from the lockfile. Safe to run again: it does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  ipmitool openipmi libopenipmi-dev gcc libc6-dev perl
  snmp snmptrapd
  pacemaker pacemaker-cli-utils corosync fence-agents crmsh pcs
  libxml2-utils iproute2
  drbd-utils
  stress-ng
  prometheus chromium fonts-dejavu-core openssl
)
# drbd-utils: its OCF agent (ocf:linbit:drbd), which pcs validates when the reference cluster's
# commands (docs/reference/pcs-resources.sh) are run against a CIB file; no kernel module.
# stress-ng: the CPU load of the false-fence run (bench/three-node-stress.ts).
# prometheus (with promtool): scrapes atcad and checks its metrics and alerting rules;
# chromium: the dashboard's browser test (driven by playwright-core, no browser download);
# openssl: the API's TLS test makes its certificate.

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "ensure-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Pacemaker's postinst must not start services on a build machine.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "ensure-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

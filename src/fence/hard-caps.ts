/**
 * Hard caps on ipmitool where the family's rule turns the agent's own timeouts off (run by
 * pacemaker-fenced, disable_timeout unset). Without them a hung ipmitool — a host name whose
 * lookup never returns, a shelf manager answering "duplicate request" for ever, any bug —
 * would hang the agent until Pacemaker kills it, and the second shelf manager (`ip2`) would
 * never be tried. ipmitool's own limits do not bound everything: they bound a *silent peer*,
 * not ipmitool itself. Numbers (ipmitool 1.8.19, lanplus, measured against a frozen ipmi_sim):
 *
 * - one request to a silent shelf manager in an open `shell` session fails after
 *   R·N + R(R−1)/2 s (-N 2 -R 1: 2.0 s; -N 3 -R 2: 7.0 s; -N 2 -R 4: 14.0 s): each retry
 *   waits one second longer. A one-shot `ipmitool raw` instead opens its session after
 *   ipmi_raw.c set a fixed 15 s timeout and 1 retry; a build that applies that to an open
 *   session too would take 15 s. So a command is capped at max(15 s, that bound) + 5 s: later
 *   than ipmitool's own "no answer" in either case (which the agent needs, to tell a silent
 *   IPMC from a silent shelf manager), and 20 s at the defaults.
 * - a login to a silent shelf manager fails after twice that bound (Get Channel Auth
 *   Capabilities is sent twice): 4.1 s at -N 2 -R 1, 10.1 s at -N 2 -R 2 or -N 5 -R 1. A
 *   login that works takes 0.07 s (2.1 s when ipmitool has to probe cipher suites). Capped at
 *   max(30 s, 2 × bound + 10 s): ten times the slowest working login measured, and still half
 *   of Pacemaker's default 60 s fencing timeout left for `ip2`.
 */

/** ipmitool's own give-up time, in seconds, for one request to a silent peer (-N, -R). */
export function ipmitoolRequestBoundSec(retransmitSec: number, retries: number): number {
  return retries * retransmitSec + (retries * (retries - 1)) / 2;
}

/** ipmi_raw.c: the fixed session timeout a one-shot `ipmitool raw` uses. */
const RAW_FIXED_TIMEOUT_SEC = 15;

export function loginCapMs(retransmitSec: number, retries: number): number {
  return Math.max(30, 2 * ipmitoolRequestBoundSec(retransmitSec, retries) + 10) * 1000;
}

export function commandCapMs(retransmitSec: number, retries: number): number {
  return (Math.max(RAW_FIXED_TIMEOUT_SEC, ipmitoolRequestBoundSec(retransmitSec, retries)) + 5) * 1000;
}

/** The configured bound when there is one, the cap where the family's rule turned it off. */
export function capped(configuredMs: number, capMs: number): number {
  return Number.isFinite(configuredMs) ? configuredMs : capMs;
}

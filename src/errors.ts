/**
 * The one error catalogue. Codes are stable: never reuse or renumber one, only add.
 * `fence` names the fence-agents family message class the agent reports the error under;
 * `docs/errors.md` documents every code and a test keeps the two in step.
 */
export type FenceClass =
  | 'usage' // bad option or argument
  | 'login' // could not log in to any shelf manager
  | 'connection' // the shelf manager stopped answering mid-way
  | 'status' // the state of the plug could not be read or is not trustworthy
  | 'waiting-off'
  | 'waiting-on'
  | 'refused' // the shelf refused a command
  | 'internal';

interface Entry {
  readonly message: string;
  readonly fence: FenceClass;
}

export const ERRORS = {
  ATCA_ERR_BAD_OPTION: { message: 'Invalid option value', fence: 'usage' },
  ATCA_ERR_UNKNOWN_OPTION: { message: 'Unknown command-line option', fence: 'usage' },
  ATCA_ERR_MISSING_OPTION: { message: 'A required option is missing', fence: 'usage' },
  ATCA_ERR_UNKNOWN_ACTION: { message: 'Unrecognised action', fence: 'usage' },
  ATCA_ERR_PASSWORD_SCRIPT: { message: 'The password script failed', fence: 'usage' },
  ATCA_ERR_IPMITOOL_MISSING: { message: 'ipmitool is not installed or not executable', fence: 'usage' },
  ATCA_ERR_LOGIN_REJECTED: { message: 'The shelf manager rejected the login', fence: 'login' },
  ATCA_ERR_SHMC_UNREACHABLE: { message: 'No shelf manager answered', fence: 'login' },
  ATCA_ERR_SHMC_LOST: { message: 'The shelf manager stopped answering', fence: 'connection' },
  ATCA_ERR_IPMI_TIMEOUT: { message: 'Timed out waiting for the shelf manager', fence: 'connection' },
  ATCA_ERR_SLOT_UNKNOWN: { message: 'The shelf has no such slot', fence: 'status' },
  ATCA_ERR_IPMC_UNREACHABLE: { message: "The blade's IPMC does not answer: its state is unknown", fence: 'status' },
  ATCA_ERR_STATE_UNKNOWN: { message: 'The hot-swap state is not one that proves on or off', fence: 'status' },
  ATCA_ERR_NOT_HOTSWAP_SENSOR: { message: 'The configured sensor is not a FRU Hot Swap sensor', fence: 'status' },
  ATCA_ERR_BAD_RESPONSE: { message: 'The shelf answered with a malformed response', fence: 'status' },
  ATCA_ERR_IPMI_CC: { message: 'The shelf refused the command', fence: 'refused' },
  ATCA_ERR_FRU_LOCKED: { message: 'The FRU is deactivation-locked', fence: 'refused' },
  ATCA_ERR_FRU_ABSENT: { message: 'No FRU is installed in the slot', fence: 'refused' },
  ATCA_ERR_POWER_OFF_TIMEOUT: { message: 'Timed out waiting to power OFF', fence: 'waiting-off' },
  ATCA_ERR_POWER_ON_TIMEOUT: { message: 'Timed out waiting to power ON', fence: 'waiting-on' },
  ATCA_ERR_INTERNAL: { message: 'Internal error', fence: 'internal' },
  // atcad
  ATCA_ERR_CONFIG_INVALID: { message: 'The configuration is invalid', fence: 'usage' },
  ATCA_ERR_CONFIG_SECRET: { message: 'A secret named in the configuration cannot be read', fence: 'usage' },
  ATCA_ERR_TRAP_MALFORMED: { message: 'A trap could not be decoded', fence: 'internal' },
  ATCA_ERR_TRAP_AUTH: { message: 'A trap failed authentication (community or SNMPv3 user/key)', fence: 'internal' },
  ATCA_ERR_TRAP_UNKNOWN_SOURCE: {
    message: 'A trap came from an address that belongs to no configured shelf',
    fence: 'internal',
  },
  ATCA_ERR_PCMK_FAILED: { message: 'A Pacemaker command failed', fence: 'internal' },
  ATCA_ERR_PCMK_TIMEOUT: { message: 'A Pacemaker command timed out', fence: 'internal' },
  ATCA_ERR_PCMK_UNREACHABLE: { message: 'The Pacemaker daemons cannot be reached', fence: 'internal' },
  ATCA_ERR_JOURNAL: { message: 'The journal cannot be written', fence: 'internal' },
  ATCA_ERR_TRAP_NOT_NOTIFICATION: {
    message: 'A datagram on the trap port is an SNMP request or response, not a notification',
    fence: 'internal',
  },
  ATCA_ERR_TRAP_REPLY: { message: 'A reply to an SNMP inform or discovery request was not sent', fence: 'internal' },
  ATCA_ERR_TRAP_DROPPED: { message: 'The kernel dropped datagrams on the trap socket', fence: 'internal' },
  ATCA_ERR_TRAP_OVERSIZE: { message: 'A datagram on the trap port is larger than any trap', fence: 'internal' },
  // atcad's API
  ATCA_ERR_API_BAD_REQUEST: { message: 'The request is not valid', fence: 'usage' },
  ATCA_ERR_API_UNAUTHORIZED: { message: 'A valid bearer token is needed', fence: 'usage' },
  ATCA_ERR_API_RATE_LIMITED: { message: 'Too many failed authentications: try again later', fence: 'usage' },
  ATCA_ERR_API_NOT_FOUND: { message: 'No such resource', fence: 'usage' },
  ATCA_ERR_API_UNAVAILABLE: { message: 'atcad cannot answer this now', fence: 'internal' },
  ATCA_ERR_API_CONFIG: { message: 'The API cannot start with this configuration', fence: 'usage' },
  ATCA_ERR_API_CONFLICT: { message: 'The request conflicts with the configuration', fence: 'usage' },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof ERRORS;

export class AtcaError extends Error {
  readonly code: ErrorCode;
  readonly fence: FenceClass;
  /** Free text with the specifics (slot, address, state); never holds a secret. */
  readonly detail: string;

  constructor(code: ErrorCode, detail = '', options?: { cause?: unknown }) {
    const entry = ERRORS[code];
    super(detail ? `${entry.message}: ${detail}` : entry.message, options);
    this.name = 'AtcaError';
    this.code = code;
    this.fence = entry.fence;
    this.detail = detail;
  }
}

export function isAtcaError(e: unknown, code?: ErrorCode): e is AtcaError {
  return e instanceof AtcaError && (code === undefined || e.code === code);
}

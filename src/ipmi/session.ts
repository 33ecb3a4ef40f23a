/** The narrow interface every IPMI transport implements: one request, one response. */
export interface RawRequest {
  /** IPMB address to bridge to; undefined talks to the shelf manager itself. */
  readonly target?: number;
  readonly netfn: number;
  readonly cmd: number;
  readonly data: readonly number[];
}

export interface IpmiSession {
  /** Resolves with the response bytes after the completion code; rejects with an AtcaError. */
  raw(req: RawRequest): Promise<number[]>;
  close(): Promise<void>;
  /** Human-readable name of the shelf manager this session talks to (host:port), for logs. */
  readonly peer: string;
}

export interface IpmiEndpoint {
  readonly host: string;
  readonly port: number;
}

/** How to reach a shelf manager; the password travels separately (environment only). */
export interface IpmiConnectOptions {
  readonly ipmitoolPath: string;
  readonly username?: string;
  readonly password?: string;
  readonly lanplus: boolean;
  readonly cipher?: string;
  readonly privlvl?: string;
  /** ipmitool -N: seconds between retransmits. */
  readonly retransmitSec: number;
  /** ipmitool -R: retries per request. */
  readonly retries: number;
  /** Bound on session set-up, ms; Infinity disables it. */
  readonly loginTimeoutMs: number;
  /** Bound on one command's answer, ms; Infinity disables it. */
  readonly commandTimeoutMs: number;
  /** Debug lines (every request and its answer). */
  readonly log: (line: string) => void;
  /** Things an operator should know (a missing setpriv); defaults to `log`. */
  readonly warn?: (line: string) => void;
}

import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import snmp from 'net-snmp';
import type { DomainEvent } from '../domain/events.js';
import { AtcaError, type ErrorCode, isAtcaError } from '../errors.js';
import { decodePet, PET_ENTERPRISE, PET_TRAP_OID_PREFIX, PET_VARBIND_OID, type PetRecord } from './pet.js';
import { PetDuplicates } from './pet-duplicates.js';
import { petToEvent } from './pet-event.js';
import { type LogFn, RateLimitedLog } from './rate-limited-log.js';

/** Requested receive buffer of the trap socket (see start()). */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

/** SNMPv2-MIB snmpTrapOID.0 and snmpTrapEnterprise.0. */
const SNMP_TRAP_OID = '1.3.6.1.6.3.1.1.4.1.0';
const SNMP_TRAP_ENTERPRISE = '1.3.6.1.6.3.1.1.4.3.0';
/** RFC 3584 §3.1: v1 generic traps 0–5 become snmpTraps.(generic + 1). */
const SNMP_TRAPS = '1.3.6.1.6.3.1.1.5';
const GENERIC_ENTERPRISE_SPECIFIC = 6;
const LOG_INTERVAL_MS = 10_000;
const DUPLICATE_WINDOW_MS = 60_000;

export interface V3User {
  readonly name: string;
  readonly authProtocol: 'sha' | 'md5';
  readonly authKey: string;
  readonly privProtocol: 'aes' | 'des';
  readonly privKey: string;
}

export interface TrapReceiverOptions {
  readonly address: string;
  readonly port: number;
  /** Accepted v1/v2c communities (secrets: never logged). */
  readonly communities: readonly string[];
  /** Accepted SNMPv3 users, all at authPriv (keys are secrets: never logged). */
  readonly v3Users: readonly V3User[];
  /** Source IP address → shelf name. Traps from any other address are dropped. */
  readonly sources: ReadonlyMap<string, string>;
  readonly log: LogFn;
  readonly onTrap: (t: ReceivedTrap) => void;
}

export interface TrapVarbind {
  readonly oid: string;
  /** net-snmp's ObjectType name (OctetString, OID, TimeTicks, …). */
  readonly type: string;
  /** Buffers (OCTET STRING, Opaque) as lowercase hex. */
  readonly value: string | number | boolean | null;
}

export interface ReceivedTrap {
  readonly shelf: string;
  /** The datagram's source address. */
  readonly from: string;
  readonly version: 1 | 2 | 3;
  /** performance.now() when the datagram arrived. */
  readonly receivedAt: number;
  /** The enterprise-specific trap number (PET: sensor type, event type, direction, offset). */
  readonly specific?: number;
  /** v1: the Trap-PDU's enterprise; v2c/v3: snmpTrapEnterprise.0 when sent. */
  readonly enterprise?: string;
  /** v2c/v3: snmpTrapOID.0; v1: its RFC 3584 equivalent (enterprise.0.specific, or snmpTraps.N). */
  readonly trapOid?: string;
  readonly pet?: PetRecord;
  /** Undefined when the trap is valid but not one we understand (counted as notUnderstood). */
  readonly event?: DomainEvent;
  /** The same PET (sequence, timestamp, data) arrived within the last minute: journal it, act on nothing. */
  readonly duplicate?: boolean;
  readonly varbinds: readonly TrapVarbind[];
}

/**
 * Counters, each datagram counted once under `received` and at most once under
 * accepted / badAuth / unknownSource / malformed, checked in that order: source, then
 * authentication, then decoding. `notUnderstood` is a subset of `accepted` (delivered with no
 * event). received − (accepted + badAuth + unknownSource + malformed) is what net-snmp answered
 * itself without a notification: SNMPv3 discovery requests and other Report-worthy messages.
 */
export interface TrapCounters {
  readonly received: number;
  readonly accepted: number;
  readonly badAuth: number;
  readonly unknownSource: number;
  readonly malformed: number;
  readonly notUnderstood: number;
  /** A subset of `accepted`: PETs already seen within DUPLICATE_WINDOW_MS (delivered flagged, not acted on). */
  readonly duplicates: number;
}

/** Counters before any trap. */
export const NO_TRAPS: TrapCounters = Object.freeze({
  received: 0,
  accepted: 0,
  badAuth: 0,
  unknownSource: 0,
  malformed: 0,
  notUnderstood: 0,
  duplicates: 0,
});

type Reason = 'badAuth' | 'unknownSource' | 'malformed';

const REASON_CODE: Readonly<Record<Reason, ErrorCode>> = {
  badAuth: 'ATCA_ERR_TRAP_AUTH',
  unknownSource: 'ATCA_ERR_TRAP_UNKNOWN_SOURCE',
  malformed: 'ATCA_ERR_TRAP_MALFORMED',
};

/** Why a datagram is refused; `detail` goes into the log line, so it never holds a secret. */
class Rejected extends Error {
  constructor(
    readonly reason: Reason,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function invalidConfig(detail: string): AtcaError {
  return new AtcaError('ATCA_ERR_CONFIG_INVALID', `traps: ${detail}`);
}

function validate(o: TrapReceiverOptions): void {
  if (!isIPv4(o.address) && !isIPv6(o.address)) throw invalidConfig(`listen address ${o.address} is not an IP`);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw invalidConfig(`port ${o.port} is invalid`);
  // An empty community would let net-snmp's "community not shown" case through unchecked.
  if (o.communities.some((c) => c.length === 0)) throw invalidConfig('a community is empty');
  const names = new Set<string>();
  for (const u of o.v3Users) {
    if (u.name.length === 0) throw invalidConfig('an SNMPv3 user has an empty name');
    if (names.has(u.name)) throw invalidConfig(`SNMPv3 user ${u.name} is listed twice`);
    names.add(u.name);
    // RFC 3414 §11.2 and net-snmp's own tools: pass phrases of at least 8 characters.
    if (u.authKey.length < 8 || u.privKey.length < 8) {
      throw invalidConfig(`SNMPv3 user ${u.name}: auth and priv keys need at least 8 characters`);
    }
  }
  for (const a of o.sources.keys()) {
    if (!isIPv4(a) && !isIPv6(a)) throw invalidConfig(`trap source ${a} is not an IP address`);
  }
}

/** A v4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; sources are configured as a.b.c.d. */
function normaliseAddress(a: string): string {
  return a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

function varbindValue(v: unknown): TrapVarbind['value'] {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  if (typeof v === 'bigint') return v.toString();
  return String(v);
}

/** Says why net-snmp refused a datagram, from the error's class and code; never its message text. */
function classifyError(e: snmp.ReceiverError): Rejected {
  if (e.name === 'ResponseInvalidError') {
    if (e.code === snmp.ResponseInvalidCode.EAuthFailure) {
      return new Rejected('badAuth', 'SNMPv3 digest does not match (wrong auth key?)');
    }
    if (e.code === snmp.ResponseInvalidCode.ECouldNotDecrypt) {
      return new Rejected('badAuth', 'SNMPv3 PDU does not decrypt (wrong priv key?)');
    }
    return new Rejected('malformed', 'invalid SNMP message');
  }
  if (e.name === 'RequestFailedError') {
    // The message names the community or user it got: we only use it to choose our words.
    const m = e.message;
    if (m.startsWith('Local community')) return new Rejected('badAuth', 'unknown community');
    if (m.startsWith('Local user') && m.includes('not found')) return new Rejected('badAuth', 'unknown SNMPv3 user');
    return new Rejected('badAuth', 'SNMPv3 security level below the configured authPriv');
  }
  if (e.name === 'RequestInvalidError') return new Rejected('malformed', 'an SNMP request, not a notification');
  return new Rejected('malformed', 'not a decodable SNMP message');
}

/**
 * The SNMP trap listener of atcad: net-snmp's receiver, plus what it lacks for our use — source
 * filtering by shelf, PET decoding into domain events, counters, and rate-limited, secret-free
 * logging. Nothing a peer sends can make it throw: every datagram ends as a delivery to onTrap
 * or as a counted, logged rejection.
 */
export class TrapReceiver {
  readonly #o: TrapReceiverOptions;
  readonly #log: RateLimitedLog;
  readonly #communities: ReadonlySet<string>;
  readonly #users: ReadonlySet<string>;
  #receiver: snmp.Receiver | undefined;
  #socket: Socket | undefined;
  #bound = false;
  #arrival: { mono: number; wall: number } | undefined;
  #counters = { ...NO_TRAPS };
  readonly #duplicates = new PetDuplicates(DUPLICATE_WINDOW_MS);

  constructor(options: TrapReceiverOptions) {
    validate(options);
    this.#o = options;
    this.#log = new RateLimitedLog(options.log, LOG_INTERVAL_MS);
    this.#communities = new Set(options.communities);
    this.#users = new Set(options.v3Users.map((u) => u.name));
  }

  /** A snapshot; each read returns a fresh frozen object. */
  get counters(): TrapCounters {
    return Object.freeze({ ...this.#counters });
  }

  /** The socket's receive buffer as the kernel granted it (bytes), while listening. */
  get receiveBufferSize(): number | undefined {
    try {
      return this.#bound ? this.#socket?.getRecvBufferSize() : undefined;
    } catch {
      return undefined;
    }
  }

  /** Log lines dropped by the 10 s per-reason rate limit so far. */
  get suppressedLogLines(): number {
    return this.#log.suppressed;
  }

  /** Resolves once the UDP socket is bound; rejects (and cleans up) if it cannot be. */
  async start(): Promise<void> {
    if (this.#receiver) throw new AtcaError('ATCA_ERR_INTERNAL', 'trap receiver already started');
    const transport: SocketType = isIPv6(this.#o.address) ? 'udp6' : 'udp4';
    let socket: Socket | undefined;
    // net-snmp's receiver has no "listening" callback, but its Listener creates its socket through
    // the `dgramModule` option (documented for sessions, honoured by receivers too). We hand it
    // our own createSocket so that we see the socket: to await binding, and to note each
    // datagram's arrival time before net-snmp parses it (its callback runs in the same tick).
    const dgramModule: snmp.DgramModule = {
      createSocket: (type) => {
        const s = createSocket(type);
        s.on('message', () => {
          this.#counters.received++;
          this.#arrival = { mono: performance.now(), wall: Date.now() };
        });
        socket = s;
        return s;
      },
    };
    const receiver = snmp.createReceiver(
      { address: this.#o.address, port: this.#o.port, transport, includeAuthentication: true, dgramModule },
      (error, notification) => this.#onCallback(error, notification),
    );
    const s = socket as Socket | undefined;
    if (!s) {
      receiver.close();
      throw new AtcaError('ATCA_ERR_INTERNAL', 'net-snmp did not create its socket through dgramModule');
    }
    this.#receiver = receiver;
    this.#socket = s;
    const auth = receiver.getAuthorizer();
    for (const c of this.#o.communities) auth.addCommunity(c);
    for (const u of this.#o.v3Users) {
      auth.addUser({
        name: u.name,
        level: snmp.SecurityLevel.authPriv,
        authProtocol: snmp.AuthProtocols[u.authProtocol],
        authKey: u.authKey,
        privProtocol: snmp.PrivProtocols[u.privProtocol],
        privKey: u.privKey,
      });
    }
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('listening', () => {
          this.#bound = true;
          s.off('error', reject);
          // Room for a burst while atcad is busy (a GC pause, a fence being journaled): the
          // default 208 KiB holds ~30 ms of traps at 10k/s. The kernel caps it at rmem_max.
          try {
            s.setRecvBufferSize(RECV_BUFFER_BYTES);
          } catch {
            // Not allowed here: the default buffer still works.
          }
          resolve();
        });
        s.once('error', reject);
        s.once('close', () => reject(new Error('closed by stop() before it was bound')));
      });
    } catch (e) {
      try {
        s.close();
      } catch {
        // never bound: nothing to close
      }
      this.#receiver = undefined;
      this.#socket = undefined;
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new AtcaError(
        'ATCA_ERR_INTERNAL',
        `cannot listen for traps on ${this.#o.address}:${this.#o.port}: ${code}`,
        {
          cause: e,
        },
      );
    }
    this.#o.log('info', `listening for SNMP traps on udp:${this.#o.address}:${this.#o.port}`);
  }

  /** Closes the socket; resolves when it is closed. Safe to call twice, or without start(). */
  async stop(): Promise<void> {
    const s = this.#socket;
    this.#socket = undefined;
    this.#receiver = undefined;
    this.#bound = false;
    if (s) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        try {
          s.close();
        } catch {
          resolve();
        }
      });
    }
    this.#log.flush();
  }

  #onCallback(error: snmp.ReceiverError | null, notification: snmp.Notification | null): void {
    const arrival = this.#arrival ?? { mono: performance.now(), wall: Date.now() };
    this.#arrival = undefined;
    try {
      if (error) this.#onError(error);
      else if (notification) this.#onNotification(notification, arrival);
    } catch (e) {
      // A bug of ours must not escape into net-snmp's socket handler (it would be reported back
      // to us as a ProcessingError and counted twice) nor crash the daemon.
      this.#log.emit('internal', 'error', `trap handling failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #onError(error: snmp.ReceiverError): void {
    if (!error.rinfo) {
      // A socket error, not about any datagram; before binding, start() reports it instead.
      if (!this.#bound) return;
      this.#log.emit('socket', 'error', `trap socket error: ${String(error.code ?? error.name)}`);
      return;
    }
    const from = normaliseAddress(error.rinfo.address);
    const shelf = this.#o.sources.get(from);
    if (shelf === undefined) {
      this.#reject(new Rejected('unknownSource', ''), error.rinfo);
      return;
    }
    this.#reject(classifyError(error), error.rinfo, shelf);
  }

  #reject(r: Rejected, rinfo: RemoteInfo, shelf?: string): void {
    this.#counters[r.reason]++;
    const who = `${normaliseAddress(rinfo.address)}:${rinfo.port}${shelf === undefined ? '' : ` (shelf ${shelf})`}`;
    const e = new AtcaError(REASON_CODE[r.reason], r.detail ? `from ${who}: ${r.detail}` : `from ${who}`);
    this.#log.emit(r.reason, 'warn', `${e.code}: ${e.message}`);
  }

  #onNotification(n: snmp.Notification, arrival: { mono: number; wall: number }): void {
    const from = normaliseAddress(n.rinfo.address);
    const shelf = this.#o.sources.get(from);
    if (shelf === undefined) {
      this.#reject(new Rejected('unknownSource', ''), n.rinfo);
      return;
    }
    const pdu = n.pdu;
    const version: 1 | 2 | 3 = pdu.type === snmp.PduType.Trap ? 1 : pdu.user !== undefined ? 3 : 2;
    // net-snmp lets through a v3 message with an empty user name and no authentication, and
    // (were one configured) an empty community: only names we configured count as authenticated.
    if (version === 3 ? !this.#users.has(pdu.user ?? '') : !this.#communities.has(pdu.community ?? '')) {
      const detail = version === 3 ? 'SNMPv3 noAuthNoPriv message from an unconfigured user' : 'unknown community';
      this.#reject(new Rejected('badAuth', detail), n.rinfo, shelf);
      return;
    }
    let decoded: Omit<ReceivedTrap, 'shelf' | 'from' | 'version' | 'receivedAt'>;
    try {
      decoded = this.#decode(pdu, shelf, arrival.wall);
    } catch (e) {
      if (e instanceof Rejected) {
        this.#reject(e, n.rinfo, shelf);
        return;
      }
      if (isAtcaError(e, 'ATCA_ERR_TRAP_MALFORMED')) {
        this.#reject(new Rejected('malformed', e.detail), n.rinfo, shelf);
        return;
      }
      throw e;
    }
    const duplicate =
      decoded.pet !== undefined && this.#duplicates.check(shelf, decoded.specific ?? 0, decoded.pet, arrival.mono);
    const trap: ReceivedTrap = {
      shelf,
      from,
      version,
      receivedAt: arrival.mono,
      ...decoded,
      ...(duplicate ? { duplicate } : {}),
    };
    this.#counters.accepted++;
    if (duplicate) this.#counters.duplicates++;
    if (trap.event === undefined) {
      this.#counters.notUnderstood++;
      const what = trap.pet ? `PET specific ${trap.specific}` : `trap ${trap.trapOid ?? '(no trap OID)'}`;
      this.#log.emit('notUnderstood', 'info', `trap from ${from} (shelf ${shelf}) not understood: ${what}`);
    }
    try {
      this.#o.onTrap(trap);
    } catch (e) {
      this.#log.emit('onTrap', 'error', `trap consumer failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  #decode(
    pdu: snmp.NotificationPdu,
    shelf: string,
    at: number,
  ): Omit<ReceivedTrap, 'shelf' | 'from' | 'version' | 'receivedAt'> {
    const varbinds: TrapVarbind[] = pdu.varbinds.map((v) => ({
      oid: v.oid,
      type: snmp.ObjectType[v.type] ?? String(v.type),
      value: varbindValue(v.value),
    }));
    let enterprise: string | undefined;
    let trapOid: string | undefined;
    let specific: number | undefined;
    let isPet = false;
    if (pdu.type === snmp.PduType.Trap) {
      enterprise = pdu.enterprise;
      const generic = pdu.generic ?? -1;
      if (generic === GENERIC_ENTERPRISE_SPECIFIC && pdu.specific !== undefined) {
        specific = pdu.specific;
        trapOid = `${enterprise}.0.${specific}`;
        isPet = enterprise === PET_ENTERPRISE;
      } else if (generic >= 0 && generic < GENERIC_ENTERPRISE_SPECIFIC) {
        trapOid = `${SNMP_TRAPS}.${generic + 1}`;
      }
    } else {
      const oidValue = pdu.varbinds.find((v) => v.oid === SNMP_TRAP_OID)?.value;
      trapOid = typeof oidValue === 'string' ? oidValue : undefined;
      const ent = pdu.varbinds.find((v) => v.oid === SNMP_TRAP_ENTERPRISE)?.value;
      enterprise = typeof ent === 'string' ? ent : undefined;
      if (trapOid?.startsWith(PET_TRAP_OID_PREFIX)) {
        const last = trapOid.slice(PET_TRAP_OID_PREFIX.length);
        if (!/^\d{1,10}$/.test(last)) throw new Rejected('malformed', `PET trap OID ${trapOid} has no specific number`);
        specific = Number(last);
        isPet = true;
      }
    }
    const head = {
      ...(specific === undefined ? {} : { specific }),
      ...(enterprise === undefined ? {} : { enterprise }),
      ...(trapOid === undefined ? {} : { trapOid }),
      varbinds,
    };
    if (!isPet || specific === undefined) return head;
    const bytes = pdu.varbinds.find((v) => v.oid === PET_VARBIND_OID)?.value;
    if (!Buffer.isBuffer(bytes)) throw new Rejected('malformed', `PET without an OCTET STRING ${PET_VARBIND_OID}`);
    const pet = decodePet(bytes);
    const event = petToEvent(pet, specific, shelf, at);
    return { ...head, pet, ...(event === undefined ? {} : { event }) };
  }
}

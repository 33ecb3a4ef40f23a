import { createSocket, type RemoteInfo, type Socket, type SocketType } from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import snmp from 'net-snmp';
import type { DomainEvent } from '../domain/events.js';
import { AtcaError, type ErrorCode, isAtcaError } from '../errors.js';
import { clip } from './clip.js';
import { engineSelfTest } from './engine-self-test.js';
import {
  type DecodedNotification,
  decodeNotification,
  JOURNAL_OID_CHARS,
  type JournalVarbinds,
  journalVarbinds,
  type OmittedVarbinds,
  type TrapVarbind,
} from './notification.js';
import type { PetRecord } from './pet.js';
import { PetDuplicates } from './pet-duplicates.js';
import { type LogFn, RateLimitedLog } from './rate-limited-log.js';
import { ReplyBudget } from './reply-budget.js';
import { classifyRefusal, type EngineNotification, SnmpEngine, type V3User } from './snmp-engine.js';
import { UdpDropCounter } from './udp-drops.js';

export type { OmittedVarbinds, TrapVarbind } from './notification.js';
export type { V3User } from './snmp-engine.js';

/**
 * The largest datagram handed to net-snmp; larger ones are counted as oversize, unparsed. A PET
 * varbind is at most 110 bytes; its envelope (v1 Trap-PDU with community, enterprise, agent
 * address and time stamp, or v2c's sysUpTime and snmpTrapOID varbinds) adds under 150, SNMPv3's
 * header and USM parameters (engine ID and user name up to 32 bytes each, a 12–48 byte digest,
 * 8 bytes of salt) about 150 more: a PET trap is under 450 bytes in any version. 4096 leaves
 * nine times that for vendor traps with a few more varbinds, and is what keeps a trap's cost
 * (parsing, journaling) bounded: a 60 KB OCTET STRING trap became 121 KB of journal.
 */
export const MAX_TRAP_DATAGRAM_BYTES = 4096;

/** Requested receive buffer of the trap socket (see start()). */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
const LOG_INTERVAL_MS = 10_000;
const DUPLICATE_WINDOW_MS = 60_000;
/** How often the kernel's drop count is read (and a change logged, rate-limited). */
const HOUSEKEEPING_MS = 1_000;
/** Default reply budgets per configured source; see TrapReceiverOptions.replyLimit and reportLimit. */
const REPLY_PER_SECOND = 100;
const REPLY_BURST = 200;
const REPORT_PER_SECOND = 10;
const REPORT_BURST = 20;
/**
 * Source ports below 1024 a reply may go to: an inform sender uses an ephemeral port, or its
 * agent's own socket (161), or 162. Any other well-known port is no trap sender's: it is a
 * spoofer's aim (echo 7, chargen 19, DNS 53, NTP 123, the shelf manager's RMCP 623), and
 * nothing is sent there.
 */
const REPLY_WELL_KNOWN_PORTS: ReadonlySet<number> = new Set([161, 162]);
/** A log line longer than this is cut (values a peer chose are cut to 128 characters before). */
const MAX_LOG_LINE = 1024;
/**
 * SNMPv3 key derivations (1–2 ms of CPU each) for engine IDs not yet seen to authenticate from a
 * source: at most KEY_BURST at once, KEY_PER_SECOND sustained, per source. A shelf manager has
 * one engine ID (two per shelf with a redundant pair, one source address each), learned on its
 * first authenticated trap; a spoofer sending a new engine ID per datagram gets one derivation a
 * second. Engine IDs pinned in TrapReceiverOptions.engineIds need no token.
 */
const KEY_PER_SECOND = 1;
const KEY_BURST = 4;
/** Engine IDs remembered per source (the oldest forgotten first). */
const KNOWN_ENGINES_PER_SOURCE = 8;
/** usmStats (RFC 3414 §5) varbind of a Report: 1.3.6.1.6.3.15.1.1.N.0. */
const USM_STATS_PREFIX = '1.3.6.1.6.3.15.1.1.';
const USM_UNKNOWN_ENGINE_ID = '4';
const USM_UNKNOWN_USER_NAME = '3';

export interface TrapReceiverOptions {
  readonly address: string;
  readonly port: number;
  /** Accepted v1/v2c communities (secrets: never logged). */
  readonly communities: readonly string[];
  /** Accepted SNMPv3 users, all at authPriv (keys are secrets: never logged). */
  readonly v3Users: readonly V3User[];
  /**
   * Source IP address → shelf name. A datagram from any other address is counted as
   * unknownSource and dropped before it is parsed: never decoded, never answered.
   */
  readonly sources: ReadonlyMap<string, string>;
  readonly log: LogFn;
  readonly onTrap: (t: ReceivedTrap) => void;
  /**
   * atcad's own SNMPv3 engine ID, hex (5–32 bytes), as a v3 inform sender must know it (it
   * learns it by discovery). Random per start when not given; give one to keep it across restarts.
   */
  readonly engineId?: string;
  /**
   * Replies (inform Responses, v3 Reports) per configured source: at most `burst` at once,
   * `perSecond` sustained; beyond that the datagram is still handled, only the reply is not sent
   * (counted as repliesLimited; an inform sender then retries, and the retry is a duplicate).
   * Default 100/s, burst 200: far above what a shelf manager's informs need (it waits for each
   * acknowledgement), and it bounds what a spoofer of a configured source can reflect at that
   * source to ~30 kB/s.
   */
  readonly replyLimit?: { readonly perSecond: number; readonly burst: number };
  /**
   * Reports answering SNMPv3 discovery, per configured source, in a budget of their own: a
   * discovery request needs no credentials, so anyone spoofing a source can ask for them, and
   * they must not spend the budget of the authenticated informs' Responses. Default 10/s, burst
   * 20: an inform sender discovers once when it starts (and again after a timeout).
   */
  readonly reportLimit?: { readonly perSecond: number; readonly burst: number };
  /**
   * Source IP address → the SNMPv3 engine IDs (hex, 5–32 bytes) its shelf manager sends traps
   * with. Their keys are derived without spending the source's key budget (KEY_BURST,
   * KEY_PER_SECOND), so a spoofer of the source sending fresh engine IDs cannot keep a genuine
   * trap waiting for one. Other engine IDs from the source still work, within the budget.
   */
  readonly engineIds?: ReadonlyMap<string, readonly string[]>;
}

export interface ReceivedTrap {
  readonly shelf: string;
  /** The datagram's source address. */
  readonly from: string;
  /** From the message's version field (1 = SNMPv1, 2 = SNMPv2c, 3 = SNMPv3). */
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
  /**
   * In journal form, bounded (notification.ts JOURNAL_VARBINDS_CHARS: a long value is cut, with
   * its length and SHA-256); computed when first read (most traps are journaled as their event only).
   */
  readonly varbinds: readonly TrapVarbind[];
  /** The varbinds past the journal form's bound, summarised; undefined when all are listed. */
  readonly varbindsOmitted?: OmittedVarbinds;
}

/**
 * What became of each datagram: every datagram that reached the socket ends as exactly one of
 * these, so `received` is always their sum.
 *
 * - accepted: delivered to onTrap with a domain event (first sighting).
 * - notUnderstood: delivered with no event: a valid trap that is not a PET, or a PET we do not map.
 * - duplicates: delivered flagged `duplicate` (the same PET within DUPLICATE_WINDOW_MS): journal only.
 * - unknownSource: from an address in no shelf's sources; dropped unparsed and unanswered.
 * - oversize: from a configured source, but larger than MAX_TRAP_DATAGRAM_BYTES; dropped
 *   unparsed and unanswered.
 * - badAuth: unknown community or SNMPv3 user, wrong digest, does not decrypt, below authPriv.
 * - malformed: not a decodable SNMP message, a PDU its version may not carry, a PET notification
 *   without a usable PET varbind, or a message net-snmp failed on.
 * - notNotification: a well-formed SNMP request or response (Get, Set, Response, Report…), not
 *   a notification; nothing is answered.
 * - discovery: an SNMPv3 discovery request, answered with a Report (subject to reportLimit).
 * - internalError: a bug of ours, or a message net-snmp neither delivered, refused nor answered
 *   (logged as an error; should stay 0).
 */
export const TRAP_OUTCOMES = [
  'accepted',
  'notUnderstood',
  'duplicates',
  'unknownSource',
  'oversize',
  'badAuth',
  'malformed',
  'notNotification',
  'discovery',
  'internalError',
] as const;
export type TrapOutcome = (typeof TRAP_OUTCOMES)[number];

/**
 * The receiver's counters since start(). `received` = the sum of the TRAP_OUTCOMES, always (a
 * datagram is counted under both in the same synchronous step). The rest are not outcomes:
 *
 * - repliesSent / replyErrors / repliesLimited / repliesWithheld: replies net-snmp asked for
 *   (inform Responses; Reports to discovery, unknown-user and unauthenticated v3 requests), each
 *   ending as exactly one: sent; failed (would not encode, or the kernel refused it); not sent
 *   for the reply budget; or withheld. Every reply is held until its datagram's outcome is
 *   decided, and only a Response to an inform delivered to onTrap (accepted, notUnderstood,
 *   duplicates: a configured community or SNMPv3 user) or a Report to a discovery request is
 *   sent, only to the datagram's (configured) source, and not to a well-known port other than
 *   161 and 162; any other is withheld. A failed reply does not change its datagram's outcome.
 * - kernelDrops: datagrams the kernel dropped on the socket (receive buffer full) — they never
 *   reached `received`. Read from /proc when the counters are read; 0 where /proc does not tell
 *   (see TrapReceiver.kernelDropsAvailable).
 * - keysRefused: of the badAuth, SNMPv3 messages whose engine ID was new to their source while
 *   its key-derivation budget was spent (KEY_BURST, KEY_PER_SECOND).
 */
export interface TrapCounters extends Readonly<Record<TrapOutcome, number>> {
  readonly received: number;
  readonly repliesSent: number;
  readonly replyErrors: number;
  readonly repliesLimited: number;
  readonly repliesWithheld: number;
  readonly kernelDrops: number;
  /** SNMPv3 messages refused (as badAuth) because their engine ID was new and the source's key budget spent. */
  readonly keysRefused: number;
}

/** Counters before any trap. */
export const NO_TRAPS: TrapCounters = Object.freeze({
  received: 0,
  accepted: 0,
  notUnderstood: 0,
  duplicates: 0,
  unknownSource: 0,
  oversize: 0,
  badAuth: 0,
  malformed: 0,
  notNotification: 0,
  discovery: 0,
  internalError: 0,
  repliesSent: 0,
  replyErrors: 0,
  repliesLimited: 0,
  repliesWithheld: 0,
  kernelDrops: 0,
  keysRefused: 0,
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Refusals that are logged, with their code. */
const REFUSAL_CODE = {
  unknownSource: 'ATCA_ERR_TRAP_UNKNOWN_SOURCE',
  oversize: 'ATCA_ERR_TRAP_OVERSIZE',
  badAuth: 'ATCA_ERR_TRAP_AUTH',
  malformed: 'ATCA_ERR_TRAP_MALFORMED',
  notNotification: 'ATCA_ERR_TRAP_NOT_NOTIFICATION',
  internalError: 'ATCA_ERR_INTERNAL',
} as const satisfies Partial<Record<TrapOutcome, ErrorCode>>;
type Refusal = keyof typeof REFUSAL_CODE;

/** A reply net-snmp asked for, held until its datagram's outcome is decided. */
interface HeldReply {
  /** An inform's Response, or a Report (discovery: the outcome says which). */
  readonly kind: 'response' | 'report';
  /** Encoded when asked for (net-snmp changes the message afterwards); undefined: it does not encode. */
  readonly bytes: Buffer | undefined;
}

/** The datagram being handled: its outcome is set exactly once. */
interface Current {
  readonly rinfo: RemoteInfo;
  readonly from: string;
  readonly shelf: string;
  readonly mono: number;
  readonly wall: number;
  outcome: TrapOutcome | undefined;
  /** The engine ID (hex) granted a key derivation for this datagram, or refused one. */
  keyGranted?: string;
  keyRefused?: boolean;
  reply?: HeldReply;
}

const HEX_ENGINE_ID = /^(0x)?([0-9a-f]{2}){5,32}$/i;

/** An engine ID as hex, lowercase, without 0x. */
const engineHex = (id: string) => id.replace(/^0x/i, '').toLowerCase();

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
  // RFC 3411 SnmpEngineID: 5 to 32 octets.
  if (o.engineId !== undefined && !HEX_ENGINE_ID.test(o.engineId)) {
    throw invalidConfig('the SNMPv3 engine ID must be 5 to 32 bytes of hex');
  }
  for (const [source, ids] of o.engineIds ?? []) {
    if (!o.sources.has(source))
      throw invalidConfig(`SNMPv3 engine IDs are pinned for ${source}, which is no trap source`);
    if (!ids.every((id) => HEX_ENGINE_ID.test(id))) {
      throw invalidConfig(`an SNMPv3 engine ID pinned for ${source} is not 5 to 32 bytes of hex`);
    }
  }
  for (const [name, r] of [
    ['replyLimit', o.replyLimit],
    ['reportLimit', o.reportLimit],
  ] as const) {
    if (r !== undefined && !(r.perSecond >= 0 && r.burst >= 0 && Number.isFinite(r.perSecond + r.burst))) {
      throw invalidConfig(`${name} needs finite, non-negative perSecond and burst`);
    }
  }
}

/** Whether a reply may go to this source port (see REPLY_WELL_KNOWN_PORTS). */
function replyPortAllowed(port: number): boolean {
  return port >= 1024 ? port <= 65535 : REPLY_WELL_KNOWN_PORTS.has(port);
}

/** A v4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; sources are configured as a.b.c.d. */
function normaliseAddress(a: string): string {
  return a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/**
 * A trap as delivered. Every field is an own property except `varbinds` and `varbindsOmitted`,
 * getters that build the journal form on first read (most traps are journaled as their event
 * only); toJSON() includes them, so JSON.stringify (the journal) sees the same object as before,
 * bounded: the varbinds as journalVarbinds() bounds them, trapOid and enterprise cut at 128
 * characters. (A spread copy, `{ ...t }`, has neither getter: read them from the trap itself.)
 */
class Trap implements ReceivedTrap {
  readonly shelf: string;
  readonly from: string;
  readonly version: 1 | 2 | 3;
  readonly receivedAt: number;
  declare readonly specific?: number;
  declare readonly enterprise?: string;
  declare readonly trapOid?: string;
  declare readonly pet?: PetRecord;
  declare readonly event?: DomainEvent;
  declare readonly duplicate?: boolean;
  readonly #raw: readonly snmp.Varbind[];
  #journal: JournalVarbinds | undefined;

  constructor(c: Current, d: DecodedNotification, raw: readonly snmp.Varbind[], duplicate: boolean) {
    this.shelf = c.shelf;
    this.from = c.from;
    this.version = d.version;
    this.receivedAt = c.mono;
    // Absent fields stay absent (not undefined-valued), as before.
    if (d.specific !== undefined) this.specific = d.specific;
    if (d.enterprise !== undefined) this.enterprise = d.enterprise;
    if (d.trapOid !== undefined) this.trapOid = d.trapOid;
    if (d.pet !== undefined) this.pet = d.pet;
    if (d.event !== undefined) this.event = d.event;
    if (duplicate) this.duplicate = true;
    this.#raw = raw;
  }

  get varbinds(): readonly TrapVarbind[] {
    this.#journal ??= journalVarbinds(this.#raw);
    return this.#journal.varbinds;
  }

  get varbindsOmitted(): OmittedVarbinds | undefined {
    this.#journal ??= journalVarbinds(this.#raw);
    return this.#journal.omitted;
  }

  toJSON(): Omit<ReceivedTrap, 'varbinds'> & { varbinds: readonly TrapVarbind[] } {
    const out: { -readonly [K in keyof ReceivedTrap]: ReceivedTrap[K] } = { ...this, varbinds: this.varbinds };
    const omitted = this.varbindsOmitted;
    if (omitted !== undefined) out.varbindsOmitted = omitted;
    if (this.trapOid !== undefined) out.trapOid = clip(this.trapOid, JOURNAL_OID_CHARS);
    if (this.enterprise !== undefined) out.enterprise = clip(this.enterprise, JOURNAL_OID_CHARS);
    return out;
  }
}

/**
 * The SNMP trap listener of atcad. It owns its UDP socket; net-snmp is only the decoder and
 * authenticator (SnmpEngine). For each datagram, in one synchronous step:
 *
 * 1. `received` is counted; a source that is not configured is counted as unknownSource and
 *    dropped: nothing from it is parsed or answered;
 * 2. one larger than MAX_TRAP_DATAGRAM_BYTES is counted as oversize and dropped, unparsed;
 * 3. the engine decodes and authenticates it, inside a try: whatever net-snmp throws, the
 *    datagram is counted (malformed), never the process's problem;
 * 4. a reply net-snmp asks for is encoded at once (inside a try) and held;
 * 5. a notification is checked (version/PDU, community or v3 user) and decoded into a PET and a
 *    domain event, then given to onTrap (whose exceptions are caught and logged);
 * 6. with the outcome decided, a held reply is sent only if the outcome merits one (see
 *    TrapCounters), under a per-source budget (one for Responses, one for discovery Reports),
 *    only to the datagram's (configured) source; failures are counted, never thrown or printed.
 *
 * Every datagram ends as exactly one outcome counter (TRAP_OUTCOMES). Log lines are
 * rate-limited per reason, never hold a community or key, and quote what a peer chose cut to
 * 128 characters. The kernel's drop count on the socket is read every second, and a change is
 * logged. start() first runs engineSelfTest(), and refuses to start if net-snmp fails it.
 */
export class TrapReceiver {
  readonly #o: TrapReceiverOptions;
  readonly #log: RateLimitedLog;
  readonly #communities: ReadonlySet<string>;
  readonly #users: ReadonlySet<string>;
  /** Responses to authenticated informs. */
  readonly #replyBudget: ReplyBudget;
  /** Reports to discovery requests (which need no credentials). */
  readonly #reportBudget: ReplyBudget;
  /** Per source: SNMPv3 engine IDs (hex) pinned by configuration. */
  readonly #pinnedEngines = new Map<string, ReadonlySet<string>>();
  readonly #duplicates = new PetDuplicates(DUPLICATE_WINDOW_MS);
  readonly #keyBudget = new ReplyBudget(KEY_PER_SECOND, KEY_BURST);
  /** Per source: SNMPv3 engine IDs (hex) seen in authenticated messages, oldest first. */
  readonly #knownEngines = new Map<string, string[]>();
  readonly #counters: Mutable<TrapCounters> = { ...NO_TRAPS };
  #engine: SnmpEngine | undefined;
  #socket: Socket | undefined;
  #bound = false;
  #cur: Current | undefined;
  #drops: UdpDropCounter | undefined;
  #dropsBase = 0;
  /** kernelDrops of earlier sockets (a stop() and start() again). */
  #dropsCarried = 0;
  #dropsLogged = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: TrapReceiverOptions) {
    validate(options);
    this.#o = options;
    const log = options.log;
    // A throwing log function must not turn into a lost datagram count.
    this.#log = new RateLimitedLog((level, msg) => {
      try {
        log(level, msg.length > MAX_LOG_LINE ? `${msg.slice(0, MAX_LOG_LINE)}…(line cut)` : msg);
      } catch {
        // nowhere left to report it
      }
    }, LOG_INTERVAL_MS);
    this.#communities = new Set(options.communities);
    this.#users = new Set(options.v3Users.map((u) => u.name));
    const limit = options.replyLimit ?? { perSecond: REPLY_PER_SECOND, burst: REPLY_BURST };
    this.#replyBudget = new ReplyBudget(limit.perSecond, limit.burst);
    const reports = options.reportLimit ?? { perSecond: REPORT_PER_SECOND, burst: REPORT_BURST };
    this.#reportBudget = new ReplyBudget(reports.perSecond, reports.burst);
    for (const [source, ids] of options.engineIds ?? []) this.#pinnedEngines.set(source, new Set(ids.map(engineHex)));
  }

  /** A snapshot (kernelDrops read from /proc now); each read returns a fresh frozen object. */
  get counters(): TrapCounters {
    this.#readDrops();
    return Object.freeze({ ...this.#counters });
  }

  /** Whether kernelDrops is real: /proc told us which socket is ours (Linux). */
  get kernelDropsAvailable(): boolean {
    return this.#drops !== undefined;
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

  /**
   * Resolves once the UDP socket is bound; rejects (and cleans up) if it cannot be, or with
   * ATCA_ERR_INTERNAL before binding anything if net-snmp fails engineSelfTest().
   */
  async start(): Promise<void> {
    if (this.#socket) throw new AtcaError('ATCA_ERR_INTERNAL', 'trap receiver already started');
    const failure = engineSelfTest();
    if (failure !== undefined) {
      throw new AtcaError(
        'ATCA_ERR_INTERNAL',
        `net-snmp does not behave as the trap receiver was written for (3.29.2), so traps are not received: self-test: ${failure}`,
      );
    }
    const engine = new SnmpEngine(
      {
        communities: this.#o.communities,
        v3Users: this.#o.v3Users,
        ...(this.#o.engineId ? { engineId: this.#o.engineId } : {}),
      },
      {
        notification: (n) => this.#onNotification(n),
        refused: (e) => this.#onRefused(e),
        reply: (m, rinfo) => this.#reply(m, rinfo),
      },
    );
    const transport: SocketType = isIPv6(this.#o.address) ? 'udp6' : 'udp4';
    const s = createSocket(transport);
    this.#engine = engine;
    this.#socket = s;
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.once('close', () => reject(new Error('closed by stop() before it was bound')));
        s.bind(this.#o.port, this.#o.address, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      try {
        s.close();
      } catch {
        // never bound: nothing to close
      }
      this.#socket = undefined;
      this.#engine = undefined;
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      throw new AtcaError(
        'ATCA_ERR_INTERNAL',
        `cannot listen for traps on ${this.#o.address}:${this.#o.port}: ${code}`,
        {
          cause: e,
        },
      );
    }
    this.#bound = true;
    s.on('error', (e: NodeJS.ErrnoException) =>
      this.#log.emit('socket', 'error', `trap socket error: ${e.code ?? e.name}`),
    );
    s.on('message', (buffer: Buffer, rinfo: RemoteInfo) => this.#onDatagram(buffer, rinfo));
    // Room for a burst while atcad is busy (a GC pause, a fence being journaled): the default
    // 208 KiB holds ~30 ms of traps at 10k/s. The kernel caps it at net.core.rmem_max.
    try {
      s.setRecvBufferSize(RECV_BUFFER_BYTES);
    } catch {
      // Not allowed here: the default buffer still works.
    }
    this.#drops = UdpDropCounter.find(s.address().port);
    this.#dropsBase = this.#drops?.read() ?? 0;
    if (!this.#drops) {
      this.#log.emit('kernelDrops', 'warn', 'the kernel drop count of the trap socket cannot be read (/proc/net/udp)');
    }
    this.#timer = setInterval(() => this.#housekeeping(), HOUSEKEEPING_MS);
    this.#timer.unref();
    this.#o.log(
      'info',
      `listening for SNMP traps on udp:${this.#o.address}:${this.#o.port} (receive buffer ${this.receiveBufferSize ?? '?'} bytes)`,
    );
  }

  /** Closes the socket; resolves when it is closed. Safe to call twice, or without start(). */
  async stop(): Promise<void> {
    const s = this.#socket;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (s && this.#bound) this.#housekeeping();
    this.#dropsCarried = this.#counters.kernelDrops;
    this.#socket = undefined;
    this.#engine = undefined;
    this.#bound = false;
    this.#drops = undefined;
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

  #onDatagram(buffer: Buffer, rinfo: RemoteInfo): void {
    this.#counters.received++;
    const from = normaliseAddress(rinfo.address);
    const shelf = this.#o.sources.get(from);
    if (shelf === undefined) {
      this.#counters.unknownSource++;
      this.#log.emit('unknownSource', 'warn', () => {
        const e = new AtcaError(REFUSAL_CODE.unknownSource, `from ${from}:${rinfo.port}`);
        return `${e.code}: ${e.message}`;
      });
      return;
    }
    const engine = this.#engine;
    const cur: Current = { rinfo, from, shelf, mono: performance.now(), wall: Date.now(), outcome: undefined };
    this.#cur = cur;
    try {
      if (buffer.length > MAX_TRAP_DATAGRAM_BYTES) {
        this.#settle('oversize', `${buffer.length} bytes, more than the ${MAX_TRAP_DATAGRAM_BYTES} a trap may have`);
      } else {
        engine?.handle(buffer, rinfo, this.#keyGate);
      }
    } catch {
      // net-snmp threw outside its own try (our sink never throws): the datagram is at fault.
      if (cur.outcome === undefined) this.#settle('malformed', 'net-snmp could not process the message');
    } finally {
      if (cur.outcome === undefined) {
        this.#settle('internalError', 'net-snmp neither delivered, refused nor answered the message');
      }
      this.#cur = undefined;
    }
    if (cur.reply === undefined) return;
    try {
      this.#dispatch(cur, cur.reply);
    } catch {
      // #dispatch throws nothing it knows of; a bug there must cost a reply, not the process
      this.#counters.replyErrors++;
    }
  }

  /** Counts the current datagram's outcome (the first one only) and logs a refusal. */
  #settle(outcome: TrapOutcome, detail = ''): void {
    const cur = this.#cur;
    if (cur === undefined || cur.outcome !== undefined) return;
    if (cur.keyRefused && (outcome === 'badAuth' || outcome === 'malformed')) {
      // The message failed because we refused net-snmp the key, whatever it made of that.
      outcome = 'badAuth';
      detail = 'SNMPv3 engine ID new to this source, and its key budget is spent';
      this.#counters.keysRefused++;
    }
    cur.outcome = outcome;
    this.#counters[outcome]++;
    if (outcome in REFUSAL_CODE) {
      this.#emitRefusal(outcome as Refusal, cur, detail);
    }
  }

  #emitRefusal(r: Refusal, cur: Current, detail: string): void {
    // The AtcaError (and its stack trace) only for a line that is written.
    this.#log.emit(r, r === 'internalError' ? 'error' : 'warn', () => {
      const who = `from ${cur.from}:${cur.rinfo.port} (shelf ${cur.shelf})`;
      // A detail can quote what the peer sent (a trap OID): cut, like every such value.
      const e = new AtcaError(REFUSAL_CODE[r], detail ? `${who}: ${clip(detail, 2 * 128)}` : who);
      return `${e.code}: ${e.message}`;
    });
  }

  /** Whether net-snmp may derive a key for `engineId` while handling the current datagram. */
  readonly #keyGate = (engineId: Buffer): boolean => {
    const cur = this.#cur;
    if (cur === undefined) return true;
    const hex = engineId.toString('hex');
    if (
      hex === cur.keyGranted ||
      hex === this.#engine?.engineId ||
      this.#pinnedEngines.get(cur.from)?.has(hex) ||
      this.#knownEngines.get(cur.from)?.includes(hex)
    ) {
      return true;
    }
    if (cur.keyGranted === undefined && this.#keyBudget.take(cur.from)) {
      cur.keyGranted = hex;
      return true;
    }
    cur.keyRefused = true;
    return false;
  };

  #learnEngine(source: string, engineId: string): void {
    const known = this.#knownEngines.get(source) ?? [];
    if (known.includes(engineId)) return;
    known.push(engineId);
    if (known.length > KNOWN_ENGINES_PER_SOURCE) known.shift();
    this.#knownEngines.set(source, known);
  }

  #onRefused(e: snmp.ReceiverError): void {
    const [r, detail] = classifyRefusal(e);
    this.#settle(r, detail);
  }

  #onNotification(n: EngineNotification): void {
    const cur = this.#cur;
    if (cur === undefined || cur.outcome !== undefined) return;
    try {
      this.#deliver(cur, n);
    } catch (e) {
      this.#settle('internalError', `trap handling failed: ${e instanceof Error ? e.name : typeof e}`);
    }
  }

  #deliver(cur: Current, n: EngineNotification): void {
    const { pdu, version } = n;
    // net-snmp lets through a v3 message with an empty user name and no authentication, and
    // (were one configured) an empty community: only names we configured count as authenticated.
    if (version === 3 ? !this.#users.has(n.user ?? '') : !this.#communities.has(n.community ?? '')) {
      this.#settle(
        'badAuth',
        version === 3 ? 'SNMPv3 noAuthNoPriv message from an unconfigured user' : 'unknown community',
      );
      return;
    }
    if (version === 3 && n.engineId) this.#learnEngine(cur.from, n.engineId);
    let decoded: DecodedNotification;
    try {
      decoded = decodeNotification(version, pdu, cur.shelf, cur.wall);
    } catch (e) {
      if (!isAtcaError(e, 'ATCA_ERR_TRAP_MALFORMED')) throw e;
      this.#settle('malformed', e.detail);
      return;
    }
    const duplicate =
      decoded.pet !== undefined && this.#duplicates.check(cur.shelf, decoded.specific ?? 0, decoded.pet, cur.mono);
    const trap = new Trap(cur, decoded, pdu.varbinds, duplicate);
    this.#settle(duplicate ? 'duplicates' : trap.event === undefined ? 'notUnderstood' : 'accepted');
    if (!duplicate && trap.event === undefined) {
      this.#log.emit('notUnderstood', 'info', () => {
        const what = trap.pet ? `PET specific ${trap.specific}` : `trap ${clip(trap.trapOid ?? '(no trap OID)')}`;
        return `trap from ${cur.from} (shelf ${cur.shelf}) not understood: ${what}`;
      });
    }
    try {
      this.#o.onTrap(trap);
    } catch (e) {
      this.#log.emit(
        'onTrap',
        'error',
        () => `trap consumer failed: ${clip(e instanceof Error ? e.message : String(e))}`,
      );
    }
  }

  /**
   * A reply net-snmp built: encoded now (net-snmp changes the message once this returns) and held
   * for #dispatch, which sends it or not once the datagram's outcome is decided. Never throws.
   */
  #reply(message: snmp.Message, rinfo: RemoteInfo): void {
    const cur = this.#cur;
    const c = this.#counters;
    // Replies are only ever asked for while handling a datagram from a configured source, and
    // only to that datagram's sender, once; anything else would be a bug, refused here as well.
    if (
      cur === undefined ||
      rinfo !== cur.rinfo ||
      cur.reply !== undefined ||
      !this.#o.sources.has(normaliseAddress(rinfo.address))
    ) {
      c.replyErrors++;
      this.#log.emit('internalReply', 'error', 'ATCA_ERR_INTERNAL: a reply to no current datagram was refused');
      return;
    }
    let pduType: number | undefined;
    let usm: string | undefined;
    try {
      pduType = message.pdu.type;
      const oid = message.pdu.varbinds?.[0]?.oid;
      if (oid?.startsWith(USM_STATS_PREFIX)) usm = oid.slice(USM_STATS_PREFIX.length).split('.')[0];
    } catch {
      // fall through: a reply we cannot read is not sent
    }
    let kind: HeldReply['kind'];
    if (pduType === snmp.PduType.Report) {
      kind = 'report';
      if (usm !== USM_UNKNOWN_ENGINE_ID) {
        // A Report to an unknown user or a message below authPriv: its outcome is badAuth, and
        // an unauthenticated request gets no reply (the refusal is logged here, not told there).
        this.#settle(
          'badAuth',
          usm === USM_UNKNOWN_USER_NAME ? 'unknown SNMPv3 user' : 'SNMPv3 message below authPriv',
        );
        cur.reply = { kind, bytes: undefined };
        return;
      }
      this.#settle('discovery');
    } else if (pduType === snmp.PduType.GetResponse) {
      kind = 'response';
    } else {
      c.replyErrors++;
      this.#log.emit('internalReply', 'error', 'ATCA_ERR_INTERNAL: net-snmp asked to send an unexpected PDU');
      return;
    }
    let bytes: Buffer | undefined;
    try {
      bytes = message.toBuffer();
    } catch {
      bytes = undefined;
    }
    cur.reply = { kind, bytes };
  }

  /** Sends the current datagram's held reply if its outcome merits one; counts it either way. */
  #dispatch(cur: Current, held: HeldReply): void {
    const c = this.#counters;
    const o = cur.outcome;
    const merited =
      held.kind === 'report' ? o === 'discovery' : o === 'accepted' || o === 'notUnderstood' || o === 'duplicates';
    if (!merited) {
      // Not an authenticated notification we took, nor a discovery request: its own outcome
      // (badAuth, malformed…) is counted and logged already.
      c.repliesWithheld++;
      return;
    }
    const rinfo = cur.rinfo;
    // Log lines are built only when written (see RateLimitedLog.emit).
    const line = (detail: string) => () => {
      const e = new AtcaError('ATCA_ERR_TRAP_REPLY', `to ${cur.from}:${rinfo.port} (shelf ${cur.shelf}): ${detail}`);
      return `${e.code}: ${e.message}`;
    };
    if (!replyPortAllowed(rinfo.port)) {
      c.repliesWithheld++;
      this.#log.emit('replyPort', 'warn', line('a well-known port no trap sender sends from, reply not sent'));
      return;
    }
    const bytes = held.bytes;
    if (bytes === undefined) {
      c.replyErrors++;
      this.#log.emit('reply', 'warn', line('the reply does not encode (a value net-snmp cannot write)'));
      return;
    }
    const budget = held.kind === 'report' ? this.#reportBudget : this.#replyBudget;
    if (!budget.take(cur.from)) {
      c.repliesLimited++;
      this.#log.emit(
        'replyLimited',
        'warn',
        line(`the ${held.kind === 'report' ? 'discovery Report' : 'inform Response'} budget is spent, reply not sent`),
      );
      return;
    }
    const s = this.#socket;
    try {
      if (!s) throw new Error('no socket');
      s.send(bytes, rinfo.port, rinfo.address, (err) => {
        if (err) {
          c.replyErrors++;
          this.#log.emit('reply', 'warn', line((err as NodeJS.ErrnoException).code ?? err.name));
        } else {
          c.repliesSent++;
        }
      });
    } catch (err) {
      c.replyErrors++;
      this.#log.emit('reply', 'warn', line((err as NodeJS.ErrnoException).code ?? 'send failed'));
    }
  }

  #readDrops(): void {
    const d = this.#drops?.read();
    if (d !== undefined) this.#counters.kernelDrops = this.#dropsCarried + d - this.#dropsBase;
  }

  #housekeeping(): void {
    try {
      this.#readDrops();
      const drops = this.#counters.kernelDrops;
      if (drops > this.#dropsLogged) {
        // "more" counts from the last line written (a rate-limited one moves nothing).
        this.#log.emit('kernelDrops', 'warn', () => {
          const e = new AtcaError(
            'ATCA_ERR_TRAP_DROPPED',
            `udp:${this.#o.address}:${this.#o.port}: ${drops - this.#dropsLogged} more datagram(s) dropped, ${drops} since start`,
          );
          this.#dropsLogged = drops;
          return `${e.code}: ${e.message}`;
        });
      }
      SnmpEngine.trimKeyCache();
    } catch {
      // housekeeping must never take the timer (and the process) down
    }
  }
}

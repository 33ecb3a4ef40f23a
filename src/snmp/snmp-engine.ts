import type { RemoteInfo } from 'node:dgram';
import asn1 from 'asn1-ber';
import snmp from 'net-snmp';
import { AtcaError } from '../errors.js';

/**
 * net-snmp's receiver used as a message engine only: decoding, community and USM checks,
 * decryption, and building the replies SNMP asks for (an inform's Response, a v3 Report). It
 * owns no socket and sends nothing: the trap receiver owns the socket, checks each datagram's
 * source before handing it here, and decides whether and how a reply goes out.
 *
 * How: net-snmp's Listener creates its socket through the `dgramModule` option. We give it an
 * inert stand-in that records the `'message'` handler net-snmp attaches (and binds nothing);
 * handle() calls that handler, as a socket would. Replies go through `Listener#send`, which we
 * replace on this instance with the sink's `reply`, so net-snmp never encodes (or prints an
 * error about) a reply itself. `formatCallbackData` is replaced to hand us the message itself
 * (its version, community or user) rather than net-snmp's reformatted copy of the PDU.
 * While handle() runs, asn1-ber's `Reader#readBitString` returns the BIT STRING's content octets
 * (a Buffer) instead of expanding each byte into eight '0'/'1' characters (60 KB became a 480 KB
 * string). These are internals of net-snmp 3.29 and asn1-ber 1.2 (net-snmp pinned exactly in
 * package.json); the constructor checks they are there and refuses to run otherwise, and
 * engineSelfTest() (engine-self-test.ts, run by TrapReceiver.start) checks that they behave.
 */

export interface V3User {
  readonly name: string;
  readonly authProtocol: 'sha' | 'md5';
  readonly authKey: string;
  readonly privProtocol: 'aes' | 'des';
  readonly privKey: string;
}

export interface SnmpEngineOptions {
  readonly communities: readonly string[];
  /** All at authPriv. */
  readonly v3Users: readonly V3User[];
  /** This engine's SNMPv3 engine ID (hex); random when not given. */
  readonly engineId?: string;
}

/** A notification that passed net-snmp's checks, as the message carried it. */
export interface EngineNotification {
  /** The message's version field: 0 (SNMPv1), 1 (SNMPv2c) or 3. */
  readonly version: number;
  readonly pdu: snmp.NotificationPdu;
  /** v1/v2c: the community it carried (net-snmp has checked it against the configured ones). */
  readonly community: string | undefined;
  /** v3: the user net-snmp took it for ('' for an unauthenticated message with no user name). */
  readonly user: string | undefined;
  /** v3: the authoritative engine ID, hex (the sender's, for a trap). */
  readonly engineId: string | undefined;
}

/**
 * Asked before net-snmp derives a key it has not cached (RFC 3414 password-to-key: 1 MB hashed,
 * then localised to an engine ID; 1–2 ms each, two per message). A v3 trap carries its sender's
 * engine ID, so without this a spoofed source sending a new engine ID per datagram would cost
 * atcad milliseconds of CPU per datagram. Return false to refuse (the message then fails).
 */
export type KeyGate = (engineId: Buffer) => boolean;

/** The gate of the handle() call in progress; derivations outside one are not gated. */
let currentGate: KeyGate | undefined;
/** Whether a handle() call is in progress (the BIT STRING guard applies only then). */
let handling = false;

class KeyDerivationRefused extends Error {}

/** Wraps net-snmp's passwordToKey once per process, so that handle() can gate it. */
function installKeyGate(): boolean {
  const a = snmp.Authentication;
  const derive = a.passwordToKey;
  const cacheKey = a.computeCacheKey;
  if (typeof derive !== 'function' || typeof cacheKey !== 'function') return false;
  if ((derive as { gated?: boolean }).gated) return true;
  const gated = (authProtocol: number, password: string, engineID: Buffer): Buffer => {
    const gate = currentGate;
    if (gate !== undefined && a.authToKeyCache?.[cacheKey(authProtocol, password, engineID)] === undefined) {
      if (!gate(engineID)) throw new KeyDerivationRefused('SNMPv3 key derivation refused');
    }
    return derive(authProtocol, password, engineID);
  };
  a.passwordToKey = Object.assign(gated, { gated: true });
  return true;
}

/** BER tag of a BIT STRING. */
const TAG_BIT_STRING = 0x03;

/**
 * Wraps asn1-ber's readBitString once per process: inside handle() it reads the TLV like an
 * OCTET STRING and returns its content (the unused-bits octet, then the bits) as a Buffer,
 * which the journal shows as hex like any other buffer. Outside handle() it is unchanged.
 */
function installBitStringGuard(): boolean {
  const proto = asn1.Ber?.Reader?.prototype;
  const expand = proto?.readBitString;
  if (typeof expand !== 'function' || typeof proto.readString !== 'function') return false;
  if ((expand as { guarded?: boolean }).guarded) return true;
  const guarded = function (this: asn1.BerReader, tag?: number): string | Buffer | null {
    return handling ? this.readString(tag || TAG_BIT_STRING, true) : expand.call(this, tag);
  };
  proto.readBitString = Object.assign(guarded, { guarded: true });
  return true;
}

/** Whether net-snmp's key cache is there, and keyed the way the key gate looks it up. */
function keyCacheLooksRight(): boolean {
  const a = snmp.Authentication;
  const cache = a.authToKeyCache;
  return (
    typeof cache === 'object' &&
    cache !== null &&
    typeof a.computeCacheKey?.(snmp.AuthProtocols.sha, 'probe-password', Buffer.from('8000000001', 'hex')) === 'string'
  );
}

/** Why net-snmp refused a datagram: an outcome and our own words, never its message text. */
export type Refusal = 'badAuth' | 'malformed' | 'notNotification';

/**
 * Why net-snmp refused a datagram, from the error's class and code. Two cases tell apart only by
 * the start of net-snmp's English message (which names the community or user it got, and so is
 * never logged): engineSelfTest() checks that those messages still read as expected.
 */
export function classifyRefusal(e: snmp.ReceiverError): [Refusal, string] {
  if (e.name === 'ResponseInvalidError') {
    if (e.code === snmp.ResponseInvalidCode.EAuthFailure)
      return ['badAuth', 'SNMPv3 digest does not match (wrong auth key?)'];
    if (e.code === snmp.ResponseInvalidCode.ECouldNotDecrypt) {
      return ['badAuth', 'SNMPv3 PDU does not decrypt (wrong priv key?)'];
    }
    return ['malformed', 'invalid SNMP message'];
  }
  if (e.name === 'RequestFailedError') {
    const m = typeof e.message === 'string' ? e.message : '';
    if (m.startsWith('Local community')) return ['badAuth', 'unknown community'];
    if (m.startsWith('Local user') && m.includes('not found')) return ['badAuth', 'unknown SNMPv3 user'];
    return ['badAuth', 'SNMPv3 security level below the configured authPriv'];
  }
  if (e.name === 'RequestInvalidError') return ['notNotification', 'an SNMP request, not a notification'];
  return ['malformed', 'not a decodable SNMP message'];
}

/** Where the engine's verdict on a message goes; each handle() calls at least one of these. */
export interface SnmpEngineSink {
  notification(n: EngineNotification): void;
  /** net-snmp refused the message (undecodable, bad community or USM, not a notification). */
  refused(e: snmp.ReceiverError): void;
  /**
   * net-snmp wants to answer: a Response to an inform (before the inform is delivered) or a v3
   * Report (discovery, unknown user, missing auth). Encoding (`toBuffer`, which can throw) and
   * sending are the sink's. Must not throw.
   */
  reply(message: snmp.Message, rinfo: RemoteInfo): void;
}

/** The stand-in socket net-snmp's Listener gets: it records the message handler, does nothing else. */
class InertSocket {
  handler: ((buffer: Buffer, rinfo: RemoteInfo) => void) | undefined;

  on(event: string, fn: (buffer: Buffer, rinfo: RemoteInfo) => void): this {
    if (event === 'message') this.handler = fn;
    return this;
  }

  bind(): void {}

  close(callback?: () => void): void {
    callback?.();
  }

  address(): { address: string; family: string; port: number } {
    return { address: '', family: '', port: 0 };
  }

  send(): void {
    // Listener#send is replaced, so nothing in net-snmp's receiver path reaches this.
    throw new Error('the SNMP engine has no socket');
  }
}

/** Entries of net-snmp's (process-wide) localised-key cache above which handle() clears it. */
const KEY_CACHE_MAX = 1024;

export class SnmpEngine {
  /** This engine's own SNMPv3 engine ID, hex. */
  readonly engineId: string;
  readonly #handler: (buffer: Buffer, rinfo: RemoteInfo) => void;
  /** The message whose notification net-snmp is about to report (set by formatCallbackData). */
  #message: snmp.Message | undefined;

  constructor(options: SnmpEngineOptions, sink: SnmpEngineSink) {
    const socket = new InertSocket();
    const receiver = snmp.createReceiver(
      {
        port: 1, // never bound: the socket is the stand-in above
        // Without 0x: net-snmp strips only a lower-case one, and would read 0X… as no hex at all.
        ...(options.engineId === undefined ? {} : { engineID: options.engineId.replace(/^0x/i, '') }),
        dgramModule: { createSocket: () => socket as unknown as ReturnType<snmp.DgramModule['createSocket']> },
      },
      (error, notification) => {
        if (error) sink.refused(error);
        else if (notification && this.#message) {
          const m = this.#message;
          this.#message = undefined;
          const v3 = m.version === 3;
          sink.notification({
            version: m.version,
            pdu: m.pdu as snmp.NotificationPdu,
            community: v3 ? undefined : m.community,
            user: v3 ? (m.user?.name ?? '') : undefined,
            engineId: v3 ? m.msgSecurityParameters?.msgAuthoritativeEngineID?.toString('hex') : undefined,
          });
        }
      },
    ) as snmp.ReceiverInternals;
    const listener = receiver.listener;
    const handler = socket.handler;
    const own = receiver.engine?.engineID;
    const fail = (what: string) =>
      new AtcaError(
        'ATCA_ERR_INTERNAL',
        `net-snmp is not the version the trap receiver was written for (3.29): ${what}`,
      );
    if (!listener || typeof listener.send !== 'function') throw fail('its receiver has no listener with send()');
    if (typeof receiver.formatCallbackData !== 'function') throw fail('its receiver has no formatCallbackData()');
    if (!handler) throw fail('its listener attached no message handler');
    if (!Buffer.isBuffer(own) || own.length < 5 || own.length > 32) {
      throw fail('its receiver has no SNMPv3 engine ID of 5 to 32 bytes');
    }
    if (options.engineId !== undefined && own.toString('hex') !== options.engineId.replace(/^0x/i, '').toLowerCase()) {
      throw fail('its receiver did not take the configured SNMPv3 engine ID');
    }
    if (!keyCacheLooksRight() || !installKeyGate())
      throw fail('its SNMPv3 key derivation or key cache is not where it was');
    if (!installBitStringGuard()) throw fail("asn1-ber's BER reader is not the one it was");
    listener.send = (message, rinfo) => sink.reply(message, rinfo);
    // Replaces net-snmp's own (which `delete`s two PDU fields, sending the PDU object into V8's
    // slow dictionary mode, and copies the community into it): we keep the message instead.
    receiver.formatCallbackData = (message, rinfo) => {
      this.#message = message;
      return { pdu: message.pdu as snmp.NotificationPdu, rinfo };
    };
    this.#handler = handler;
    this.engineId = own.toString('hex');
    const auth = receiver.getAuthorizer();
    for (const c of options.communities) auth.addCommunity(c);
    for (const u of options.v3Users) {
      auth.addUser({
        name: u.name,
        level: snmp.SecurityLevel.authPriv,
        authProtocol: snmp.AuthProtocols[u.authProtocol],
        authKey: u.authKey,
        privProtocol: snmp.PrivProtocols[u.privProtocol],
        privKey: u.privKey,
      });
    }
  }

  /**
   * Runs net-snmp over one datagram; the verdict arrives at the sink before this returns.
   * Can throw: net-snmp does work outside its own try (building a Report, for one). The
   * caller catches, and only hands in datagrams from configured sources. `gate` is asked
   * before each key derivation net-snmp has not cached (see KeyGate).
   */
  handle(buffer: Buffer, rinfo: RemoteInfo, gate?: KeyGate): void {
    this.#message = undefined;
    currentGate = gate;
    handling = true;
    try {
      this.#handler(buffer, rinfo);
    } finally {
      currentGate = undefined;
      handling = false;
    }
  }

  /**
   * net-snmp caches each localised key forever, one per (protocol, password, engine ID): a v3
   * message with an engine ID never seen before adds one. Traps carry the sender's engine ID,
   * so a spoofer can grow the cache without bound. Clears it once it holds more than
   * KEY_CACHE_MAX entries (the legitimate ones are recomputed, ~1 ms each). Returns whether it did.
   */
  static trimKeyCache(max = KEY_CACHE_MAX): boolean {
    const a = snmp.Authentication;
    const cache = a.authToKeyCache;
    if (cache === undefined) return false;
    let n = 0;
    for (const _ in cache) {
      if (++n > max) {
        a.authToKeyCache = {};
        return true;
      }
    }
    return false;
  }
}

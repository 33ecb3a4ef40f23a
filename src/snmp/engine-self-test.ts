import { randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import snmp from 'net-snmp';
import { classifyRefusal, type EngineNotification, type Refusal, SnmpEngine } from './snmp-engine.js';

/**
 * A functional check of the net-snmp internals the trap receiver relies on, run at every
 * TrapReceiver.start() before the socket is bound: hand-built datagrams go through a throwaway
 * SnmpEngine in memory (no socket), and each must end as it does with net-snmp 3.29.2. The
 * constructor checks that the internals are there; this checks that they still behave:
 *
 * - a good v2c trap is delivered with its version, community and varbinds, and a BIT STRING in it
 *   comes out as its bytes (the guard against asn1-ber's expansion works on net-snmp's reader);
 * - a v2c inform asks for a Response through the sink (not a socket) and is delivered;
 * - a wrong community and an unknown SNMPv3 user are refused with the messages classifyRefusal
 *   reads, and garbage as undecodable;
 * - a v3 discovery request asks for a Report naming usmStatsUnknownEngineIDs and our engine ID;
 * - a v3 authPriv message with an engine ID never seen asks the key gate, and fails when refused;
 * - a derived key lands in the key cache under the key the gate looks up.
 *
 * Costs about 2 ms (one key derivation, cached for the process after the first start).
 */

const COMMUNITY = 'atcad-self-test';
const USER = 'atcad-self-test';
const AUTH_KEY = 'atcad-self-test-auth';
const PRIV_KEY = 'atcad-self-test-priv';
const PET_TRAP_OID = '1.3.6.1.4.1.3183.1.1.0.15757062';
const USM_UNKNOWN_ENGINE_IDS = '1.3.6.1.6.3.15.1.1.4.0';
const RINFO: RemoteInfo = { address: '127.0.0.1', family: 'IPv4', port: 40000, size: 0 };

// --- A few BER encoders (definite lengths, short tags) ----------------------------------------

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const c = Buffer.concat(parts);
  const n = c.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), c]);
}

function int(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; ; v = Math.floor(v / 256)) {
    bytes.unshift(v & 0xff);
    if (v < 256) break;
  }
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

function oid(o: string): Buffer {
  const arcs = o.split('.').map(Number);
  const out = [arcs[0]! * 40 + arcs[1]!];
  for (const a of arcs.slice(2)) {
    const b = [a & 0x7f];
    for (let v = Math.floor(a / 128); v > 0; v = Math.floor(v / 128)) b.unshift((v & 0x7f) | 0x80);
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}

const str = (s: string | Buffer) => tlv(0x04, typeof s === 'string' ? Buffer.from(s) : s);
const seq = (...xs: Buffer[]) => tlv(0x30, ...xs);
const varbind = (o: string, value: Buffer) => seq(oid(o), value);

function community(tag: number, c: string, ...extra: Buffer[]): Buffer {
  const vbs = seq(
    varbind('1.3.6.1.2.1.1.3.0', tlv(0x43, Buffer.from([1]))),
    varbind('1.3.6.1.6.3.1.1.4.1.0', oid(PET_TRAP_OID)),
    ...extra,
  );
  return seq(int(1), str(c), tlv(tag, int(7), int(0), int(0), vbs));
}

/** An SNMPv3 message: `flags` (1 auth, 2 priv, 4 reportable), USM parameters, then `scoped`. */
function v3(flags: number, engineId: Buffer, user: string, scoped: Buffer, auth = 0, priv = 0): Buffer {
  const header = seq(int(1), int(65507), str(Buffer.from([flags])), int(3));
  const usm = str(seq(str(engineId), int(0), int(0), str(user), str(Buffer.alloc(auth)), str(Buffer.alloc(priv))));
  return seq(int(3), header, usm, scoped);
}

// --- The run ----------------------------------------------------------------------------------

interface Seen {
  notifications: EngineNotification[];
  refusals: [Refusal, string][];
  replies: { type: number; firstOid: string | undefined; bytes: Buffer | undefined }[];
  gated: string[];
}

function expect(what: string, ok: boolean, seen: Seen): void {
  if (!ok) {
    const got = `${seen.notifications.length} delivered, refused ${JSON.stringify(seen.refusals)}, ${seen.replies.length} reply(ies)`;
    throw new Error(`${what} (got ${got})`);
  }
}

/** Runs the checks; returns what went wrong, or undefined when net-snmp behaves as expected. */
export function engineSelfTest(): string | undefined {
  let seen: Seen = { notifications: [], refusals: [], replies: [], gated: [] };
  const engine = new SnmpEngine(
    {
      communities: [COMMUNITY],
      v3Users: [{ name: USER, authProtocol: 'sha', authKey: AUTH_KEY, privProtocol: 'aes', privKey: PRIV_KEY }],
    },
    {
      notification: (n) => seen.notifications.push(n),
      refused: (e) => seen.refusals.push(classifyRefusal(e)),
      reply: (m) => {
        let bytes: Buffer | undefined;
        try {
          bytes = m.toBuffer();
        } catch {
          bytes = undefined;
        }
        seen.replies.push({ type: m.pdu.type, firstOid: m.pdu.varbinds?.[0]?.oid, bytes });
      },
    },
  );
  const run = (name: string, datagram: Buffer, check: (s: Seen) => void): void => {
    seen = { notifications: [], refusals: [], replies: [], gated: [] };
    const s = seen;
    try {
      engine.handle(datagram, RINFO, (id) => {
        s.gated.push(id.toString('hex'));
        return false;
      });
    } catch (e) {
      throw new Error(`${name}: net-snmp threw ${e instanceof Error ? e.name : typeof e}`);
    }
    try {
      check(s);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  };
  try {
    run(
      'a v2c trap',
      community(0xa7, COMMUNITY, varbind('1.3.6.1.2.1.1.5.0', tlv(0x03, Buffer.from([0, 0xa5])))),
      (s) => {
        const n = s.notifications[0];
        expect(
          'is delivered once, nothing else',
          s.notifications.length === 1 && !s.refusals.length && !s.replies.length,
          s,
        );
        const vb = n?.pdu.varbinds;
        expect(
          'as SNMPv2c with its community',
          n?.version === 1 && n.community === COMMUNITY && n.pdu.type === 0xa7,
          s,
        );
        expect('with its varbinds', vb?.length === 3 && vb[1]?.value === PET_TRAP_OID, s);
        const bits = vb?.[2]?.value;
        expect('with a BIT STRING as its bytes', Buffer.isBuffer(bits) && bits.equals(Buffer.from([0, 0xa5])), s);
      },
    );
    run('a v2c inform', community(0xa6, COMMUNITY), (s) => {
      const r = s.replies[0];
      expect('asks for one reply and is delivered', s.replies.length === 1 && s.notifications.length === 1, s);
      expect('the reply is a Response that encodes', r?.type === snmp.PduType.GetResponse && r.bytes !== undefined, s);
      expect('delivered as an inform', s.notifications[0]?.pdu.type === snmp.PduType.InformRequest, s);
    });
    run('a wrong community', community(0xa7, `${COMMUNITY}-x`), (s) => {
      expect('is refused as one', s.refusals.length === 1 && s.refusals[0]?.[1] === 'unknown community', s);
    });
    const scoped = (pdu: number) => seq(str(''), str(''), tlv(pdu, int(9), int(0), int(0), seq()));
    run('an unknown SNMPv3 user', v3(0, Buffer.from('8000000001', 'hex'), 'nobody', scoped(0xa7)), (s) => {
      expect('is refused as one', s.refusals.length === 1 && s.refusals[0]?.[1] === 'unknown SNMPv3 user', s);
    });
    run('an SNMPv3 discovery request', v3(4, Buffer.alloc(0), '', scoped(0xa0)), (s) => {
      const r = s.replies[0];
      expect('asks for one Report', s.replies.length === 1 && r?.type === snmp.PduType.Report, s);
      expect('naming usmStatsUnknownEngineIDs', r?.firstOid === USM_UNKNOWN_ENGINE_IDS, s);
      expect('with our engine ID', r?.bytes?.includes(Buffer.from(engine.engineId, 'hex')) === true, s);
      expect('and nothing else', !s.refusals.length && !s.notifications.length, s);
    });
    // An engine ID no message has used (the gate refuses it, so it never reaches the key cache).
    const unseen = Buffer.concat([Buffer.from('80000000', 'hex'), randomBytes(8)]);
    const encrypted = str(Buffer.alloc(16));
    run('an SNMPv3 authPriv message from a new engine ID', v3(3, unseen, USER, encrypted, 12, 8), (s) => {
      expect('asks the key gate', s.gated.includes(unseen.toString('hex')), s);
      expect(
        'and is refused when the gate says no',
        s.refusals.length === 1 && s.refusals[0]?.[0] !== 'notNotification',
        s,
      );
      expect('and nothing else', !s.replies.length && !s.notifications.length, s);
    });
    run('garbage', Buffer.from('not an SNMP message'), (s) => {
      expect('is refused as undecodable', s.refusals.length === 1 && s.refusals[0]?.[0] === 'malformed', s);
    });
  } catch (e) {
    return (e as Error).message;
  }
  // The key gate looks derived keys up in the cache by computeCacheKey: check they land there.
  const a = snmp.Authentication;
  const probe = Buffer.from('80001f8880a7a7a7a7a7a7a7', 'hex');
  try {
    a.passwordToKey?.(snmp.AuthProtocols.sha, AUTH_KEY, probe);
    const key = a.computeCacheKey?.(snmp.AuthProtocols.sha, AUTH_KEY, probe);
    if (key === undefined || !Buffer.isBuffer(a.authToKeyCache?.[key]))
      return 'a derived SNMPv3 key is not in the key cache';
  } catch (e) {
    return `deriving an SNMPv3 key threw ${e instanceof Error ? e.name : typeof e}`;
  }
  return undefined;
}

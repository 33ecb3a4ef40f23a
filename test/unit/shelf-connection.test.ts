// ShelfConnection's two ways to run a step. Fake sessions stand for the two shelf managers
// here: what is checked is which step runs where and how often, at the exact point a shelf
// manager fails — the integration tests (fence-atca-failover*.test.ts) kill real ones.
import { describe, expect, it } from 'vitest';
import { AtcaError } from '../../src/errors.js';
import { AtcaDevice } from '../../src/ipmi/atca-device.js';
import type { IpmiEndpoint, IpmiSession, RawRequest } from '../../src/ipmi/session.js';
import { ShelfConnection } from '../../src/ipmi/shelf-connection.js';
import { IpmcSilentError, IpmiCcError } from '../../src/ipmi/shell-session.js';
import { SILENT } from '../../src/log.js';

const A: IpmiEndpoint = { host: 'shmm-a', port: 623 };
const B: IpmiEndpoint = { host: 'shmm-b', port: 623 };

/** A shelf manager that answers, or fails the way a real one does, request by request. */
class FakeShelfManager {
  readonly seen: string[] = [];
  /** What the next requests do; then every one answers [0x00]. */
  script: ('answer' | 'lost' | 'timeout' | 'cc')[] = [];
  refuseLogin = false;
  silentAtLogin = false;
  closed = 0;
  /** Login attempts, and sessions handed out (each one an ipmitool process on a real shelf). */
  logins = 0;
  opened = 0;
  /** How long a login takes (0: at once). */
  loginMs = 0;

  constructor(readonly ep: IpmiEndpoint) {}

  /** Sessions handed out and not closed. */
  get live(): number {
    return this.opened - this.closed;
  }

  async open(): Promise<IpmiSession> {
    this.logins++;
    if (this.loginMs > 0) await new Promise((r) => setTimeout(r, this.loginMs));
    if (this.silentAtLogin) throw new AtcaError('ATCA_ERR_SHMC_UNREACHABLE', `${this.ep.host}: silent`);
    if (this.refuseLogin) throw new AtcaError('ATCA_ERR_LOGIN_REJECTED', `${this.ep.host}: refused`);
    const peer = `${this.ep.host}:${this.ep.port}`;
    this.opened++;
    let closed = false;
    return {
      peer,
      raw: (req: RawRequest) => {
        this.seen.push(`${req.cmd}`);
        const what = this.script.shift() ?? 'answer';
        if (what === 'lost') return Promise.reject(new AtcaError('ATCA_ERR_SHMC_LOST', `${peer}: no answer`));
        if (what === 'timeout') return Promise.reject(new AtcaError('ATCA_ERR_IPMI_TIMEOUT', `${peer}: timeout`));
        if (what === 'cc') return Promise.reject(new IpmiCcError(0xd5, 0x82, `${peer}: CC 0xd5`));
        return Promise.resolve([0x00]);
      },
      close: () => {
        // Closing a session twice is harmless (ipmitool has exited); count each session once.
        if (!closed) this.closed++;
        closed = true;
        return Promise.resolve();
      },
    };
  }
}

function shelf(): { a: FakeShelfManager; b: FakeShelfManager; conn: ShelfConnection } {
  const a = new FakeShelfManager(A);
  const b = new FakeShelfManager(B);
  const conn = new ShelfConnection([A, B], (ep) => (ep === A ? a : b).open(), SILENT);
  return { a, b, conn };
}

const step = (cmd: number) => (p: { session: IpmiSession }) => p.session.raw({ netfn: 0x2c, cmd, data: [0] });

describe('ShelfConnection.run (steps that may run twice: reads, set-to-a-value writes)', () => {
  it.each(['lost', 'timeout'] as const)('reruns the step on the other shelf manager when one goes %s', async (how) => {
    const { a, b, conn } = shelf();
    a.script = [how];
    expect(await conn.run(step(0x2d))).toEqual([0x00]);
    expect([a.seen, b.seen]).toEqual([['45'], ['45']]);
    expect(a.closed).toBe(1);
    expect(conn.peer).toBe('shmm-b:623');
  });

  it('an answer (a completion code) is never a reason to switch', async () => {
    const { a, b, conn } = shelf();
    a.script = ['cc'];
    await expect(conn.run(step(0x0c))).rejects.toBeInstanceOf(IpmiCcError);
    expect(b.seen).toEqual([]);
  });
});

describe('ShelfConnection.runOnce (commands: never repeated)', () => {
  it.each(['lost', 'timeout'] as const)('a shelf manager going %s mid-command: reported, not rerun', async (how) => {
    const { a, b, conn } = shelf();
    a.script = [how];
    const r = await conn.runOnce(step(0x0c));
    expect(r.answered).toBe(false);
    expect(r.answered ? undefined : r.error.code).toBe(how === 'lost' ? 'ATCA_ERR_SHMC_LOST' : 'ATCA_ERR_IPMI_TIMEOUT');
    expect([a.seen, b.seen]).toEqual([['12'], []]);
    // The next step (reading the state, say) goes to the other shelf manager.
    await conn.run(step(0x2d));
    expect(b.seen).toEqual(['45']);
  });

  it('a shelf manager silent at login: the command goes to the other (nothing was sent)', async () => {
    const { a, b, conn } = shelf();
    a.silentAtLogin = true;
    expect(await conn.runOnce(step(0x0c))).toEqual({ answered: true, value: [0x00] });
    expect([a.seen, b.seen]).toEqual([[], ['12']]);
  });

  it('a completion code is an answer: thrown to the caller, no failover', async () => {
    const { a, b, conn } = shelf();
    a.script = ['cc'];
    await expect(conn.runOnce(step(0x0c))).rejects.toBeInstanceOf(IpmiCcError);
    expect(b.seen).toEqual([]);
    expect(conn.peer).toBe('shmm-a:623');
  });

  it('with one shelf manager, the next step opens a new session on the same one', async () => {
    const a = new FakeShelfManager(A);
    const conn = new ShelfConnection([A], () => a.open(), SILENT);
    a.script = ['lost'];
    expect((await conn.runOnce(step(0x0c))).answered).toBe(false);
    expect(await conn.run(step(0x2d))).toEqual([0x00]);
    expect(a.seen).toEqual(['12', '45']);
    expect(a.closed).toBe(1);
  });

  it('both shelf managers refusing the login is a login error, not silence', async () => {
    const { a, b, conn } = shelf();
    a.refuseLogin = true;
    b.refuseLogin = true;
    await expect(conn.runOnce(step(0x0c))).rejects.toMatchObject({ code: 'ATCA_ERR_LOGIN_REJECTED' });
  });
});

describe('ShelfConnection with concurrent callers (atcad: poll, trap-driven read, confirmation at once)', () => {
  it('one login for callers that all find no session; no session is left open after close()', async () => {
    const { a, b, conn } = shelf();
    a.loginMs = 20;
    const r = await Promise.all([1, 2, 3].map(() => conn.run(step(0x01))));
    expect(r).toEqual([[0x00], [0x00], [0x00]]);
    expect([a.logins, a.opened, b.logins]).toEqual([1, 1, 0]);
    await conn.close();
    expect(a.live).toBe(0);
  });

  it('callers whose steps fail on the same session fail over once: the next login is not back at the dead one', async () => {
    const { a, b, conn } = shelf();
    await conn.run(step(0x01));
    // shmm-a dies: both steps under way fail on its session, and it no longer answers logins.
    a.script = ['lost', 'lost'];
    a.silentAtLogin = true;
    b.loginMs = 10;
    const r = await Promise.all([conn.run(step(0x2d)), conn.run(step(0x2d))]);
    expect(r).toEqual([[0x00], [0x00]]);
    expect(conn.peer).toBe('shmm-b:623');
    // One login to shmm-b (shared), none back to shmm-a.
    expect([a.logins, b.logins, b.opened]).toEqual([1, 1, 1]);
    expect(a.live).toBe(0);
    // Still on shmm-b for the next step.
    await conn.run(step(0x2d));
    expect(b.logins).toBe(1);
  });

  it('runOnce callers failing on the same session: one failover', async () => {
    const { a, b, conn } = shelf();
    await conn.run(step(0x01));
    a.script = ['lost', 'lost'];
    const r = await Promise.all([conn.runOnce(step(0x0c)), conn.runOnce(step(0x0c))]);
    expect(r.map((x) => x.answered)).toEqual([false, false]);
    await conn.run(step(0x2d));
    expect([a.logins, b.logins]).toEqual([1, 1]);
    expect(conn.peer).toBe('shmm-b:623');
  });

  it('a rerun that fails the same way drops its session too', async () => {
    const { a, b, conn } = shelf();
    a.script = ['lost'];
    b.script = ['lost'];
    await expect(conn.run(step(0x2d))).rejects.toMatchObject({ code: 'ATCA_ERR_SHMC_LOST' });
    expect(conn.peer).toBeUndefined();
    expect([a.live, b.live]).toEqual([0, 0]);
    // The next step logs in afresh (both shelf managers answer again).
    expect(await conn.run(step(0x2d))).toEqual([0x00]);
    expect(a.logins + b.logins).toBe(3);
  });

  it('a login that completes after close() is closed, not kept', async () => {
    const { a, conn } = shelf();
    a.loginMs = 20;
    const r = conn.run(step(0x01));
    await new Promise((res) => setTimeout(res, 5));
    await conn.close();
    await expect(r).rejects.toMatchObject({ code: 'ATCA_ERR_SHMC_LOST' });
    expect([a.opened, a.live]).toEqual([1, 0]);
    expect(conn.peer).toBeUndefined();
    // Usable again afterwards.
    expect(await conn.run(step(0x01))).toEqual([0x00]);
  });
});

describe('AtcaDevice over ShelfConnection: a blade IPMC that is silent while its shelf manager answers', () => {
  /** Slot 1 at IPMB 0x82; every bridged request times out as ipmitool reports it after the probe. */
  function silentIpmc(ep: IpmiEndpoint, seen: string[]): IpmiSession {
    return {
      peer: `${ep.host}:${ep.port}`,
      raw: (req: RawRequest) => {
        seen.push(`${ep.host} ${req.target ?? 0x20} ${req.netfn}/${req.cmd}`);
        if (req.target === undefined) return Promise.resolve([0x00, 0x41, 0x82, 0xff, 0x00, 0x01, 0x00]);
        return Promise.reject(new IpmcSilentError(req.target, 'IPMB 0x82: no answer, the shelf manager answers'));
      },
      close: () => Promise.resolve(),
    };
  }

  it('a read is ATCA_ERR_IPMC_UNREACHABLE (state unknown), a command is lost (outcome unknown): no failover', async () => {
    const seen: string[] = [];
    const conn = new ShelfConnection([A, B], (ep) => Promise.resolve(silentIpmc(ep, seen)), SILENT);
    const dev = new AtcaDevice(conn, { fruId: 0, hotswapSensor: 0 }, SILENT);
    await expect(dev.state('1')).rejects.toMatchObject({
      code: 'ATCA_ERR_IPMC_UNREACHABLE',
      detail: expect.stringMatching(/slot 1 \(IPMB 0x82\) did not answer, while the shelf manager does/),
    });
    const r = await dev.deactivate('1');
    expect(r).toMatchObject({
      kind: 'lost',
      detail: expect.stringMatching(/did not answer, while the shelf manager does/),
    });
    expect(seen.every((l) => l.startsWith('shmm-a '))).toBe(true);
    expect(conn.peer).toBe('shmm-a:623');
  });
});

describe('AtcaDevice: an IPMC without activation policy support (CC 0xC1)', () => {
  it('Get FRU Activation Policy answering CC 0xC1 reads as not locked, and is logged', async () => {
    const warnings: string[] = [];
    const session: IpmiSession = {
      peer: 'shmm-a:623',
      raw: (req: RawRequest) => {
        if (req.target === undefined) return Promise.resolve([0x00, 0x41, 0x82, 0xff, 0x00, 0x01, 0x00]);
        if (req.cmd === 0x0b)
          return Promise.reject(new IpmiCcError(0xc1, 0x82, 'IPMB 0x82: CC 0xc1 (invalid command)'));
        return Promise.reject(new IpmiCcError(0xd5, 0x82, 'IPMB 0x82: CC 0xd5'));
      },
      close: () => Promise.resolve(),
    };
    const log = { ...SILENT, warn: (m: string) => void warnings.push(m) };
    const dev = new AtcaDevice(
      new ShelfConnection([A], () => Promise.resolve(session), SILENT),
      { fruId: 0, hotswapSensor: 0 },
      log,
    );
    expect(await dev.activationPolicy('1')).toEqual({ locked: false, deactivationLocked: false });
    expect(warnings.join('\n')).toMatch(/slot 1: the IPMC does not implement Get FRU Activation Policy .*not locked/);
  });

  it('any other completion code is still an error', async () => {
    const session: IpmiSession = {
      peer: 'shmm-a:623',
      raw: (req: RawRequest) => {
        if (req.target === undefined) return Promise.resolve([0x00, 0x41, 0x82, 0xff, 0x00, 0x01, 0x00]);
        return Promise.reject(new IpmiCcError(0xd3, 0x82, 'IPMB 0x82: CC 0xd3'));
      },
      close: () => Promise.resolve(),
    };
    const dev = new AtcaDevice(
      new ShelfConnection([A], () => Promise.resolve(session), SILENT),
      { fruId: 0, hotswapSensor: 0 },
      SILENT,
    );
    await expect(dev.activationPolicy('1')).rejects.toMatchObject({ code: 'ATCA_ERR_IPMI_CC' });
  });
});

describe('ShelfConnection.managers (what the operators see of each shelf manager)', () => {
  it('not tried, answering, failed with its reason, and the state of the one not in use kept', async () => {
    const { a, conn } = shelf();
    expect(conn.managers().map((m) => m.state)).toEqual(['not tried', 'not tried']);
    await conn.run(step(0x2d));
    expect(conn.managers().map((m) => m.state)).toEqual(['answering', 'not tried']);
    a.script = ['lost'];
    await conn.run(step(0x2d));
    const [ma, mb] = conn.managers();
    expect(ma).toMatchObject({ name: 'shmm-a:623', state: 'failed', error: expect.stringMatching(/no answer/) });
    expect(mb).toMatchObject({ name: 'shmm-b:623', state: 'answering' });
    await conn.close();
    expect(conn.managers().map((m) => m.state)).toEqual(['failed', 'answered']);
  });
});

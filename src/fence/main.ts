import { AtcaError } from '../errors.js';
import { AtcaDevice } from '../ipmi/atca-device.js';
import type { IpmiConnectOptions, IpmiEndpoint } from '../ipmi/session.js';
import { ShelfConnection } from '../ipmi/shelf-connection.js';
import { IpmitoolShellSession } from '../ipmi/shell-session.js';
import { capped, commandCapMs, loginCapMs } from './hard-caps.js';
import { type AgentLog, createLog } from './log.js';
import { parseArgv, parseStdin, type RawInput } from './parse-input.js';
import { runPasswordScript } from './password-script.js';
import { CONTACTS_DEVICE, checkRequired, type FenceOptions, resolveOptions } from './resolve-options.js';
import { EXIT_FAIL, EXIT_OK, failureLines, runAction, usageText, versionText } from './run-action.js';

export interface AgentIo {
  readonly argv: readonly string[];
  readonly readStdin: () => Promise<string>;
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
}

function endpoints(o: FenceOptions): IpmiEndpoint[] {
  const eps = [{ host: o.ip!, port: o.ipport }];
  if (o.ip2) eps.push({ host: o.ip2, port: o.ipport2 ?? o.ipport });
  return eps;
}

/**
 * How ipmitool is run. login_timeout and shell_timeout bound session set-up and each request;
 * where the family's rule turned them off (the fencer runs the agent), hard caps still apply
 * (src/fence/hard-caps.ts), so that a hung ipmitool fails over to `ip2` instead of hanging
 * until Pacemaker kills the agent.
 */
export function connectOptions(o: FenceOptions, password: string | undefined, log: AgentLog): IpmiConnectOptions {
  const retransmitSec = Math.max(1, Math.round(o.ipmitoolTimeout));
  const retries = 1;
  return {
    ipmitoolPath: o.ipmitoolPath,
    username: o.username,
    password,
    lanplus: o.lanplus,
    cipher: o.cipher,
    privlvl: o.privlvl,
    retransmitSec,
    retries,
    loginTimeoutMs: capped(o.loginTimeout * 1000, loginCapMs(retransmitSec, retries)),
    commandTimeoutMs: capped(o.shellTimeout * 1000, commandCapMs(retransmitSec, retries)),
    log: (l) => log.debug(l),
    warn: (l) => log.warn(l),
  };
}

/** The whole agent: input → options → action → exit code. Never throws. */
export async function fenceAtca(io: AgentIo): Promise<number> {
  let log: AgentLog = createLog({ quiet: false, verbose: false });
  let conn: ShelfConnection | undefined;
  try {
    const raw: RawInput = io.argv.length > 0 ? parseArgv(io.argv) : parseStdin(await io.readStdin());
    const o = resolveOptions(raw, io.env);
    log = createLog(o);
    log.debug(`${versionText()}: ${o.action}, input read ${Math.round(performance.now())} ms after process start`);
    for (const w of raw.warnings) log.warn(w);
    if (o.help) {
      io.out(usageText());
      return EXIT_OK;
    }
    if (o.version) {
      io.out(versionText());
      return EXIT_OK;
    }
    checkRequired(o);
    let password = o.password;
    if (o.passwordScript && CONTACTS_DEVICE.has(o.action)) {
      password = await runPasswordScript(o.passwordScript, 10_000, io.env, (l) => log.warn(l));
      if (Buffer.byteLength(password) > (o.lanplus ? 20 : 16)) {
        throw new AtcaError('ATCA_ERR_BAD_OPTION', 'password_script: printed a password longer than IPMI allows');
      }
    }
    const copts = connectOptions(o, password, log);
    return await runAction(o, {
      log,
      out: io.out,
      clock: { now: () => performance.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
      device: async () => {
        conn = new ShelfConnection(endpoints(o), (ep) => IpmitoolShellSession.open(ep, copts), log);
        return new AtcaDevice(conn, { fruId: o.fruId, hotswapSensor: o.hotswapSensor }, log);
      },
    });
  } catch (e) {
    for (const l of failureLines(e)) log.error(l);
    return EXIT_FAIL;
  } finally {
    await conn?.close().catch(() => undefined);
    log.debug(`done ${Math.round(performance.now())} ms after process start`);
  }
}

import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { AtcaError } from '../errors.js';
import { isExecutable, setprivPath } from '../ipmi/shell-session.js';

/** The most a password script may print: a password is at most 20 bytes. */
const MAX_OUTPUT = 64 * 1024;

/**
 * The command a password_script names. The contract (as before, and as docs/fence_atca.md
 * states): the value is split on white space into a program and its arguments, and run with
 * no shell — no quoting, globbing, variables, pipes or redirections. A program without a
 * slash is looked up in PATH.
 */
export function scriptCommand(script: string, path: string | undefined): { cmd: string; args: string[] } {
  const [cmd, ...args] = script.trim().split(/\s+/);
  if (!cmd) throw new AtcaError('ATCA_ERR_PASSWORD_SCRIPT', 'password_script is empty');
  if (cmd.includes('/')) {
    if (!isExecutable(cmd)) throw new AtcaError('ATCA_ERR_PASSWORD_SCRIPT', `${cmd}: not an executable file`);
    return { cmd, args };
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, cmd))) return { cmd: join(dir, cmd), args };
  }
  throw new AtcaError('ATCA_ERR_PASSWORD_SCRIPT', `${cmd}: not found in PATH`);
}

/**
 * Runs a password_script (execa, no shell) and returns the first line it prints. It dies with
 * the agent (setpriv --pdeathsig KILL) and is killed after `timeoutMs`. Its output is the
 * secret: it is never logged or quoted in an error, and execa's own verbose mode is off.
 */
export async function runPasswordScript(
  script: string,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
): Promise<string> {
  const { cmd, args } = scriptCommand(script, env.PATH);
  const setpriv = setprivPath(warn);
  const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
  const r = await execa(file, argv, {
    env,
    extendEnv: false,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'ignore',
    encoding: 'utf8',
    maxBuffer: MAX_OUTPUT,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    reject: false,
    verbose: 'none',
    stripFinalNewline: false,
  });
  // Never r.message or r.stdout in an error: execa puts the output in its message.
  if (r.timedOut) throw new AtcaError('ATCA_ERR_PASSWORD_SCRIPT', `${cmd} did not finish within ${timeoutMs} ms`);
  if (r.isMaxBuffer) throw new AtcaError('ATCA_ERR_PASSWORD_SCRIPT', `${cmd} printed more than ${MAX_OUTPUT} bytes`);
  if (r.failed && r.exitCode === undefined && r.signal === undefined) {
    throw new AtcaError('ATCA_ERR_PASSWORD_SCRIPT', `${cmd}: cannot run (${r.code ?? 'unknown error'})`);
  }
  if (r.exitCode !== 0) throw new AtcaError('ATCA_ERR_PASSWORD_SCRIPT', `${cmd} exited with ${r.signal ?? r.exitCode}`);
  return r.stdout.split('\n')[0]!.replace(/\r$/, '');
}

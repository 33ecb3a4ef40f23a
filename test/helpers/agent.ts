import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const AGENT = join(fileURLToPath(new URL('../..', import.meta.url)), 'fence-agents/fence_atca');

export interface AgentResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs the bundled fence_atca as Pacemaker does: key=value lines on stdin (or argv). */
export function runAgent(
  input: Record<string, string | number> | string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<AgentResult> {
  const argv = Array.isArray(input) ? input : [];
  const stdin = Array.isArray(input)
    ? ''
    : Object.entries(input)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(AGENT, argv, { env: { PATH: process.env.PATH, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - t0 });
    });
    child.stdin.end(stdin);
  });
}

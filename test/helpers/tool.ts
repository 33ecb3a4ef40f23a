// Pacemaker's tools run as the tests and benches run them (no vitest here: the benches import it).
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const SBIN = '/usr/sbin';

export interface ToolRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function tool(name: string, args: readonly string[], cibFile?: string): Promise<ToolRun> {
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', ...(cibFile ? { CIB_file: cibFile } : {}) };
  return new Promise((resolve) => {
    execFile(join(SBIN, name), args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

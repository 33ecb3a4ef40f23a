import { accessSync, closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';

/**
 * The rules for the files a configuration names, the way ssh and sshd treat the files they
 * trust (docs/configuration.md, "Files atcad trusts"):
 *
 * - a secret file is opened (symlinks followed, as ssh does for keys), then the opened file is
 *   checked with fstat, so what is checked is what is read: it must be a regular file, owned by
 *   root or by the user atcad runs as (as sshd requires of the files it trusts), with no access
 *   at all for group or others (mode & 077 == 0, ssh's rule for private keys), at most
 *   MAX_SECRET_FILE_BYTES, and its first line (the secret) must not be empty;
 * - the ipmitool program must be a regular file atcad can execute, owned by root or that user
 *   and not writable by group or others (whoever can write it runs code as atcad).
 *
 * Messages name the file, never its contents.
 */

/** Largest secret file read. An IPMI password is at most 20 bytes; ssh's limit for keys is 1 MiB. */
export const MAX_SECRET_FILE_BYTES = 64 * 1024;

export type SecretFileResult =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly problems: readonly string[] };

/** A mode as chmod writes it: 0644, 4755. */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** A path as it can be pasted into a shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_/.,:+@%=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function euid(): number | undefined {
  return typeof process.geteuid === 'function' ? process.geteuid() : undefined;
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function openProblem(file: string, e: unknown): string {
  const code = errCode(e);
  switch (code) {
    case 'ENOENT':
      return `${file} does not exist`;
    case 'EACCES':
      return `${file}: permission denied: the user atcad runs as (uid ${euid()}) cannot read it or a folder above it`;
    case 'ELOOP':
      return `${file}: too many levels of symbolic links`;
    case 'ENOTDIR':
      return `${file}: a component of the path is not a folder`;
    default:
      return `${file}: cannot open (${code})`;
  }
}

/** Who besides the owner has some access, for a mode that fails `mode & 077 == 0`. */
function othersAccess(mode: number): string {
  const bits = (b: number) => [b & 4 ? 'read' : '', b & 2 ? 'write' : '', b & 1 ? 'execute' : ''].filter(Boolean);
  const parts: string[] = [];
  const g = bits((mode >> 3) & 7);
  const o = bits(mode & 7);
  if (g.length > 0) parts.push(`group can ${g.join('/')}`);
  if (o.length > 0) parts.push(`others can ${o.join('/')}`);
  return parts.join(', ');
}

/** Ownership by root or the running user: anyone else could chmod or rewrite the file at will. */
function ownerProblem(file: string, st: Stats, what: string): string | undefined {
  const me = euid();
  if (me === undefined || st.uid === me || st.uid === 0) return undefined;
  return `${file} is owned by uid ${st.uid}: ${what} must be owned by root or by the user atcad runs as (uid ${me}), since its owner can change it at will (fix: chown ${me} ${shellQuote(file)})`;
}

/**
 * Opens a secret file, checks it by the rules above and, if it passes, returns its first line
 * (trailing CR removed). On failure, returns every problem found (none of which quotes it).
 */
export function readSecretFile(file: string, whole = false): SecretFileResult {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not hang the daemon (it is refused below, unread).
    fd = openSync(file, constants.O_RDONLY | (constants.O_NOCTTY ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    return { ok: false, problems: [openProblem(file, e)] };
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) return { ok: false, problems: [`${file} is a folder: a secret file must be a regular file`] };
    if (!st.isFile()) {
      return {
        ok: false,
        problems: [`${file} is not a regular file (a FIFO, socket or device): a secret file must be a regular file`],
      };
    }
    const problems: string[] = [];
    const owner = ownerProblem(file, st, 'a secret file');
    if (owner) problems.push(owner);
    if ((st.mode & 0o077) !== 0) {
      problems.push(
        `${file} has mode ${octalMode(st.mode)} (${othersAccess(st.mode)}): a secret file must be accessible by its owner only (fix: chmod 600 ${shellQuote(file)})`,
      );
    }
    if (st.size > MAX_SECRET_FILE_BYTES) {
      problems.push(`${file} is ${st.size} bytes, more than a secret file may be (${MAX_SECRET_FILE_BYTES})`);
    }
    if (problems.length > 0) return { ok: false, problems };
    const buf = Buffer.alloc(MAX_SECRET_FILE_BYTES + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > MAX_SECRET_FILE_BYTES) {
      return {
        ok: false,
        problems: [`${file} is more than ${MAX_SECRET_FILE_BYTES} bytes, more than a secret file may be`],
      };
    }
    if (n === 0) return { ok: false, problems: [`${file} is empty`] };
    // A secret is the first line; a file of several (API tokens, a TLS key) is read whole.
    const text = buf.toString('utf8', 0, n);
    if (whole)
      return text.trim() === ''
        ? { ok: false, problems: [`${file} holds only blank lines`] }
        : { ok: true, value: text };
    const value = text.split('\n')[0]!.replace(/\r$/, '');
    if (value === '')
      return { ok: false, problems: [`${file}: its first line is empty (the secret is the first line)`] };
    return { ok: true, value };
  } catch (e) {
    return { ok: false, problems: [`${file}: cannot read (${errCode(e)})`] };
  } finally {
    closeSync(fd);
  }
}

/**
 * Why a program atcad will run cannot be trusted to be the right one (empty if it can be):
 * a regular file, executable by this process, owned by root or this user, and not writable by
 * group or others. `what` names the program in messages; `fix` says what to do if it is missing.
 */
export function executableProblems(path: string, what: string, fix: string): string[] {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT') return [`${path} does not exist: ${fix}`];
    if (code === 'EACCES')
      return [`${path}: permission denied: the user atcad runs as (uid ${euid()}) cannot reach it`];
    return [`${path}: cannot be examined (${code})`];
  }
  if (st.isDirectory()) return [`${path} is a folder, not ${what}: ${fix}`];
  if (!st.isFile()) return [`${path} is not a regular file, so not ${what}: ${fix}`];
  const problems: string[] = [];
  try {
    accessSync(path, constants.X_OK);
  } catch {
    problems.push(
      `${path} is not executable by the user atcad runs as (uid ${euid()}; mode ${octalMode(st.mode)}): chmod 755 ${shellQuote(path)}, or ${fix}`,
    );
  }
  const owner = ownerProblem(path, st, what);
  if (owner) problems.push(owner);
  if ((st.mode & 0o022) !== 0) {
    problems.push(
      `${path} has mode ${octalMode(st.mode)} (${othersAccess(st.mode & 0o022)}): whoever can write ${what} runs code as atcad (fix: chmod go-w ${shellQuote(path)})`,
    );
  }
  return problems;
}

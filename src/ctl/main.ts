// atcactl: the operator's command line for atcad's API (docs/atcactl.md).
import { readFileSync } from 'node:fs';
import { styleText } from 'node:util';
import { Command, CommanderError, Option } from 'commander';
import { createParser } from 'eventsource-parser';
import { VERSION } from '../version.js';

/** Exit codes: distinct per cause, so that scripts can tell them apart (docs/atcactl.md). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  unauthorized: 4,
  notFound: 5,
  badRequest: 6,
  unavailable: 7,
  rateLimited: 8,
} as const;

class CtlError extends Error {
  constructor(
    message: string,
    readonly exit: number,
  ) {
    super(message);
  }
}

interface Global {
  readonly url: string;
  readonly tokenFile?: string;
  readonly json: boolean;
  readonly timeout: string;
}

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (fmt: Parameters<typeof styleText>[0], s: string) => (colour ? styleText(fmt, s) : s);
const HEALTH_FMT = { green: 'green', yellow: 'yellow', red: 'red' } as const;

function tokenOf(g: Global): string {
  if (!g.tokenFile)
    throw new CtlError(
      'this command changes something: give --token-file FILE (a file holding your token)',
      EXIT.usage,
    );
  let text: string;
  try {
    text = readFileSync(g.tokenFile, 'utf8');
  } catch (e) {
    throw new CtlError(`cannot read the token file: ${(e as Error).message}`, EXIT.usage);
  }
  // The file holds the token alone, or a `name token` line of atcad's own token file.
  const line = text.split(/\r?\n/).find((l) => l.trim() && !l.trim().startsWith('#'));
  const token = line?.trim().split(/\s+/).at(-1);
  if (!token) throw new CtlError(`${g.tokenFile} holds no token`, EXIT.usage);
  return token;
}

function timeoutMs(g: Global): number {
  const n = Number(g.timeout);
  // AbortSignal.timeout takes at most 2^31 - 1 ms (about 24 days).
  if (!Number.isFinite(n) || n <= 0 || n > 86_400)
    throw new CtlError(`--timeout: seconds, more than 0 and at most 86400, not ${g.timeout}`, EXIT.usage);
  return n * 1000;
}

async function call(g: Global, method: string, path: string, body?: unknown, token?: string): Promise<unknown> {
  let r: Response;
  const ms = timeoutMs(g);
  try {
    r = await fetch(new URL(path, g.url), {
      method,
      headers: {
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(ms),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CtlError(
      `atcad does not answer at ${g.url}: ${cause?.code ?? cause?.message ?? (e as Error).message} (is atcad running? --url)`,
      EXIT.unreachable,
    );
  }
  let text: string;
  try {
    text = await r.text();
  } catch (e) {
    throw new CtlError(`atcad stopped answering at ${g.url}: ${(e as Error).message}`, EXIT.unreachable);
  }
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (r.ok) return parsed;
  const err = parsed as { code?: string; message?: string; fields?: { field: string; problem: string }[] } | undefined;
  const msg = `${err?.message ?? `HTTP ${r.status}`}${err?.code ? ` [${err.code}]` : ''}`;
  const exit =
    r.status === 429
      ? EXIT.rateLimited
      : r.status === 401
        ? EXIT.unauthorized
        : r.status === 404
          ? EXIT.notFound
          : r.status === 400
            ? EXIT.badRequest
            : r.status === 503
              ? EXIT.unavailable
              : EXIT.failed;
  throw new CtlError(msg, exit);
}

type Row = readonly string[];

/** Columns padded to their widest cell (colour codes do not count). */
function table(head: Row, rows: readonly Row[]): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes to measure
  const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
  const w = head.map((h, i) => Math.max(plain(h).length, ...rows.map((r) => plain(r[i] ?? '').length)));
  const line = (r: Row) =>
    r
      .map((c, i) => c + ' '.repeat(w[i]! - plain(c).length))
      .join('  ')
      .trimEnd();
  return [line(head.map((h) => paint('bold', h))), ...rows.map(line)].join('\n');
}

const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 23) : '–');

interface SlotSummary {
  shelf: string;
  slot: number;
  node: string;
  hotswap: string;
  health: 'green' | 'yellow' | 'red';
  maintenance: boolean;
  standby: boolean;
  clusterMember: boolean | null;
  reasons: string[];
}

function print(g: Global, data: unknown, text: () => string): void {
  process.stdout.write(`${g.json ? JSON.stringify(data, null, 2) : text()}\n`);
}

function program(): Command {
  const p = new Command('atcactl')
    .description("atcad's operator command line: shelves, slots, the journal, maintenance")
    .version(VERSION)
    .addOption(new Option('--url <url>', "atcad's API").env('ATCAD_URL').default('http://127.0.0.1:8162'))
    .addOption(new Option('--token-file <file>', 'a file holding your API token').env('ATCAD_TOKEN_FILE'))
    .option('--json', 'JSON output (for scripts)', false)
    .option('--timeout <seconds>', 'how long to wait for atcad', '10')
    .showHelpAfterError()
    .exitOverride();
  const g = () => p.opts<Global>();

  p.command('status')
    .description('shelves, their shelf managers and slots')
    .action(async () => {
      const shelves = (await call(g(), 'GET', '/api/v1/shelves')) as {
        name: string;
        shelfManager: { up: boolean | null; peer: string | null; managers: { name: string; state: string }[] };
        slots: SlotSummary[];
      }[];
      print(g(), shelves, () =>
        shelves
          .map((s) => {
            const sm = `${s.shelfManager.up === null ? 'not asked yet' : s.shelfManager.up ? 'up' : paint('red', 'DOWN')} (${s.shelfManager.managers.map((m) => `${m.name} ${m.state}`).join(', ')})`;
            const rows = s.slots.map((v) => [
              String(v.slot),
              v.node,
              v.hotswap,
              paint(HEALTH_FMT[v.health], v.health),
              [
                v.maintenance ? 'maintenance' : '',
                v.standby ? 'standby' : '',
                v.clusterMember === false ? 'not a cluster node' : '',
              ]
                .filter(Boolean)
                .join(', '),
              v.reasons.join(', '),
            ]);
            return `${paint('bold', s.name)}  shelf manager ${sm}\n${table(['slot', 'node', 'hot-swap', 'health', 'flags', 'reasons'], rows)}`;
          })
          .join('\n\n'),
      );
    });

  p.command('slot')
    .description('one slot: sensors, health and its reasons, recent decisions')
    .argument('<shelf>')
    .argument('<slot>')
    .action(async (shelf: string, slot: string) => {
      const path = `/api/v1/shelves/${encodeURIComponent(shelf)}/slots/${encodeURIComponent(slot)}`;
      const d = (await call(g(), 'GET', path)) as Omit<SlotSummary, 'reasons'> & {
        ipmb: string | null;
        reasons: {
          fault: string;
          since: number;
          confirmed: boolean;
          evidence: { at: number; source: string; summary: string }[];
        }[];
        sensors: { name: string; value: number | null; unit: string | null; status: string[]; error: string | null }[];
        pending: { action: string; fault: string } | null;
      };
      const history = (await call(
        g(),
        'GET',
        `/api/v1/decisions?shelf=${encodeURIComponent(shelf)}&slot=${encodeURIComponent(slot)}&limit=10`,
      )) as { items: { at: number; kind: string; reason: string }[] };
      print(g(), { ...d, history: history.items }, () =>
        [
          `${paint('bold', `${shelf} slot ${slot}`)}: ${d.node}, hot-swap ${d.hotswap}, health ${paint(HEALTH_FMT[d.health], d.health)}, IPMC ${d.ipmb ?? 'not found'}${d.maintenance ? ', maintenance' : ''}${d.pending ? `, waiting: ${d.pending.action} for ${d.pending.fault}` : ''}`,
          '',
          d.reasons.length === 0
            ? 'reasons: none'
            : `reasons:\n${d.reasons
                .map(
                  (r) =>
                    `  ${r.fault} (${r.confirmed ? 'confirmed' : 'claimed'}) since ${when(r.since)}\n${r.evidence.map((e) => `    ${when(e.at)} ${e.source}: ${e.summary}`).join('\n')}`,
                )
                .join('\n')}`,
          '',
          table(
            ['sensor', 'value', 'status'],
            d.sensors.map((s) => [
              s.name,
              s.error ?? (s.value === null ? '–' : `${s.value} ${s.unit ?? ''}`),
              s.status.join(', ') || 'ok',
            ]),
          ),
          '',
          `recent decisions:\n${history.items.map((h) => `  ${when(h.at)} ${h.kind}: ${h.reason}`).join('\n') || '  none'}`,
        ].join('\n'),
      );
    });

  const listCommand = (name: 'events' | 'decisions' | 'actions', describe: string) =>
    p
      .command(name)
      .description(describe)
      .option('--shelf <shelf>')
      .option('--slot <n>')
      .option('--node <node>')
      .option('--kind <kind>')
      .option('--since <time>', 'ISO time or ms since the epoch')
      .option('--limit <n>', 'rows', '50');

  const query = (o: Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined || k === 'follow') continue;
      q.set(k, k === 'since' && !/^\d+$/.test(v) ? String(Date.parse(v)) : v);
    }
    return q.toString();
  };

  const line: Record<string, (r: Record<string, unknown>) => string> = {
    events: (r) =>
      `${when(r.at as number)} ${r.shelf ?? '-'}/${r.slot ?? '-'} ${r.source} ${r.kind}${r.understood ? '' : ' (not understood)'}`,
    decisions: (r) => `${when(r.at as number)} ${r.shelf}/${r.slot} ${r.kind}: ${r.reason}`,
    actions: (r) =>
      `${when(r.startedAt as number)} ${r.shelf}/${r.slot} ${r.kind}${r.value ? ` ${r.value}` : ''} ${r.node ?? ''}: ${r.status}${r.note ? ` — ${r.note}` : ''}`,
  };

  listCommand('events', 'journaled events, newest first')
    .option('--source <source>', 'trap, poll, sel, operator')
    .option('--follow', 'then stream new ones as they are journaled')
    .action(async (o: Record<string, string | undefined>) => {
      if (!o.follow) {
        const page = (await call(g(), 'GET', `/api/v1/events?${query(o)}`)) as { items: Record<string, unknown>[] };
        print(g(), page, () => page.items.map(line.events!).join('\n') || 'no events');
        return;
      }
      // The stream first, then the page: nothing journaled in between is missed (rows are told
      // apart by their id). Events name slots, not nodes: a node is its configured slot.
      let shelf = o.shelf;
      let slot = o.slot;
      if (o.node) {
        const shelves = (await call(g(), 'GET', '/api/v1/shelves')) as { slots: SlotSummary[] }[];
        const at = shelves.flatMap((x) => x.slots).find((x) => x.node === o.node);
        if (!at) throw new CtlError(`no slot of atcad's configuration runs node ${o.node}`, EXIT.notFound);
        shelf = at.shelf;
        slot = String(at.slot);
      }
      // Rows are told apart by their id (a bounded set: the page and a stream's resume overlap).
      const seen = new Set<number>();
      const show = (row: Record<string, unknown>) => {
        const id = row.id as number;
        if (seen.has(id)) return;
        seen.add(id);
        if (seen.size > 10_000) seen.delete(seen.values().next().value!);
        process.stdout.write(`${g().json ? JSON.stringify(row) : line.events!(row)}\n`);
      };
      const queued: Record<string, unknown>[] = [];
      let paging = true;
      let connected!: () => void;
      const ready = new Promise<void>((r) => {
        connected = r;
      });
      const streaming = follow(g(), connected, (type, row) => {
        if (type !== 'event') return;
        if (shelf && row.shelf !== shelf) return;
        if (slot && String(row.slot) !== slot) return;
        if (o.kind && row.kind !== o.kind) return;
        if (o.source && row.source !== o.source) return;
        if (paging) queued.push(row);
        else show(row);
      });
      // The page once the stream is connected (or has failed: then its error is the answer).
      await Promise.race([ready, streaming]);
      const page = (await call(g(), 'GET', `/api/v1/events?${query(o)}`)) as { items: Record<string, unknown>[] };
      for (const r of [...page.items].reverse()) show(r);
      paging = false;
      for (const r of queued) show(r);
      await streaming;
    });
  for (const name of ['decisions', 'actions'] as const) {
    listCommand(name, `journaled ${name}, newest first`).action(async (o: Record<string, string | undefined>) => {
      const page = (await call(g(), 'GET', `/api/v1/${name}?${query(o)}`)) as { items: Record<string, unknown>[] };
      print(g(), page, () => page.items.map(line[name]!).join('\n') || `no ${name}`);
    });
  }

  p.command('maintenance')
    .description("switch a slot's maintenance (faults recorded, nothing done)")
    .argument('<on|off>')
    .argument('<shelf>')
    .argument('<slot>')
    .requiredOption('--reason <text>', 'why (journaled with your token name)')
    .action(async (onOff: string, shelf: string, slot: string, o: { reason: string }) => {
      if (onOff !== 'on' && onOff !== 'off') throw new CtlError(`maintenance on or off, not ${onOff}`, EXIT.usage);
      const r = await call(
        g(),
        'POST',
        `/api/v1/shelves/${encodeURIComponent(shelf)}/slots/${encodeURIComponent(slot)}/maintenance`,
        { enabled: onOff === 'on', reason: o.reason },
        tokenOf(g()),
      );
      print(g(), r, () => `maintenance ${onOff} asked for ${shelf} slot ${slot} (journaled)`);
    });

  p.command('poll')
    .description("re-read a shelf's slots and sensors now")
    .argument('<shelf>')
    .option('--reason <text>')
    .action(async (shelf: string, o: { reason?: string }) => {
      const r = await call(
        g(),
        'POST',
        `/api/v1/shelves/${encodeURIComponent(shelf)}/poll`,
        o.reason ? { reason: o.reason } : {},
        tokenOf(g()),
      );
      print(g(), r, () => `poll of ${shelf} asked (journaled)`);
    });
  return p;
}

/** Streams /api/v1/stream until interrupted, resuming after a cut (Last-Event-ID). */
async function follow(
  g: Global,
  connected: () => void,
  on: (type: string, row: Record<string, unknown>) => void,
): Promise<void> {
  let last: string | undefined;
  for (;;) {
    let r: Response;
    try {
      r = await fetch(new URL('/api/v1/stream', g.url), {
        headers: { accept: 'text/event-stream', ...(last ? { 'last-event-id': last } : {}) },
      });
    } catch (e) {
      if (last === undefined)
        throw new CtlError(`atcad does not answer at ${g.url}: ${(e as Error).message}`, EXIT.unreachable);
      await new Promise((res) => setTimeout(res, 2000));
      continue;
    }
    if (r.status === 503) {
      // atcad starting or stopping (journal not open), or every stream taken: try again.
      await r.body?.cancel();
      await new Promise((res) => setTimeout(res, 2000));
      continue;
    }
    if (!r.ok || !r.body)
      throw new CtlError(`the stream answered HTTP ${r.status}`, r.status === 400 ? EXIT.badRequest : EXIT.failed);
    connected();
    const parser = createParser({
      onEvent: (m) => {
        if (m.id) last = m.id;
        if (!m.event || !m.data) return;
        let row: Record<string, unknown>;
        try {
          row = JSON.parse(m.data) as Record<string, unknown>;
        } catch {
          process.stderr.write(`atcactl: the stream sent data that is not JSON (${m.event}): skipped\n`);
          return;
        }
        on(m.event, row);
      },
    });
    const dec = new TextDecoder();
    try {
      for await (const chunk of r.body) parser.feed(dec.decode(chunk as Uint8Array, { stream: true }));
    } catch {
      // Cut: resume from the last id.
    }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const p = program();
  try {
    await p.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; commander printed what was wrong.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0
        ? EXIT.ok
        : EXIT.usage;
    }
    if (e instanceof CtlError) {
      process.stderr.write(`atcactl: ${e.message}\n`);
      return e.exit;
    }
    process.stderr.write(`atcactl: ${(e as Error).stack ?? e}\n`);
    return EXIT.failed;
  }
}

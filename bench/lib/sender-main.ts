// The trap sender: a process of its own (started by bench/lib/sender.ts, pinned to a core or
// put into a cluster's network namespace), so that the traffic it makes does not share the
// measuring process's event loop. It stamps each datagram from a template with a new PET
// sequence number and the current time (atcad drops repeats), and paces the sends per
// millisecond tick. Commands arrive over the IPC channel; it exits when the channel closes.
import { createSocket } from 'node:dgram';
import { Sequence, stamp, type TrapTemplate } from '../../src/sim/trap-datagram.js';
import type { SenderCommand, SenderReport } from './sender.js';

const sock = createSocket('udp4');
let templates: TrapTemplate[] = [];
/** One sequence per template: a receiver tells two traps apart by (template's event, sequence, second). */
let sequences: Sequence[] = [];
/**
 * "As fast as possible" is capped at this many traps per template per second: with 16-bit PET
 * sequence numbers, more would repeat a (sequence, timestamp) pair within one second.
 */
const MAX_PER_TEMPLATE = 60_000;
let job: { stop: boolean; port: number } | undefined;
/** Sends not yet completed: bounded, so that "as fast as possible" does not queue without limit. */
const MAX_IN_FLIGHT = 2048;

function reply(r: SenderReport): void {
  process.send?.(r);
}

function run(c: Extract<SenderCommand, { op: 'start' }>): void {
  const state = { stop: false, port: c.port };
  job = state;
  const t0 = performance.now();
  let calls = 0;
  let done = 0;
  let errors = 0;
  let nextTemplate = 0;
  let finished = false;
  const limit = c.count ?? Number.POSITIVE_INFINITY;
  const rate = c.rate > 0 ? Math.min(c.rate, MAX_PER_TEMPLATE * templates.length) : MAX_PER_TEMPLATE * templates.length;
  const cb = (e: Error | null) => {
    done++;
    if (e) errors++;
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    const wait = () => {
      if (done < calls) {
        setImmediate(wait);
        return;
      }
      if (job === state) job = undefined;
      reply({ op: 'done', sent: calls - errors, errors, ms: performance.now() - t0 });
    };
    wait();
  };
  const tick = () => {
    const el = performance.now() - t0;
    if (state.stop || (c.durationMs !== undefined && el >= c.durationMs) || calls >= limit) {
      finish();
      return;
    }
    const want = Math.min(limit, Math.floor((el * rate) / 1000));
    const now = Date.now();
    for (let n = 0; calls < want && calls - done < MAX_IN_FLIGHT && n < 8192; n++, calls++) {
      const t = templates[nextTemplate]!;
      const sq = sequences[nextTemplate]!;
      nextTemplate = (nextTemplate + 1) % templates.length;
      sock.send(stamp(t, sq.next(), now), state.port, c.host, cb);
    }
    if (calls >= want) setTimeout(tick, 1);
    else setImmediate(tick);
  };
  tick();
}

process.on('message', (m: SenderCommand) => {
  switch (m.op) {
    case 'templates':
      templates = m.templates.map((t) => ({ ...t, datagram: Buffer.from(t.datagram, 'base64') }));
      sequences = templates.map(() => new Sequence());
      reply({ op: 'ok' });
      break;
    case 'start':
      if (job || templates.length === 0) {
        reply({ op: 'error', message: job ? 'already sending' : 'no templates' });
        break;
      }
      run(m);
      break;
    case 'retarget':
      if (job) job.port = m.port;
      reply({ op: 'ok' });
      break;
    case 'stop':
      if (job) job.stop = true;
      else reply({ op: 'done', sent: 0, errors: 0, ms: 0 });
      break;
  }
});
process.on('disconnect', () => process.exit(0));
sock.bind(0, '127.0.0.1', () => reply({ op: 'ready' }));

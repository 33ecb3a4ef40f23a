// When a node attribute's new value became visible in the CIB, seen from outside Pacemaker's
// daemons in one of two ways, both written to a file this process follows:
//   - CibWatch: a CIB client (bench/lib/cib-watch.py) subscribed to the CIB manager's change
//     notifications, the same ones pacemaker-controld acts on. It takes CLOCK_REALTIME (ns)
//     first thing when a notification arrives: the value is in the CIB by then, and the
//     controller is being told. Resolution: well under 1 µs; what it adds is the IPC delivery
//     and the client's wake-up, the same for every contender.
//   - an attribute alert (pacemaker-fencing.md §4, "Alerts"): pacemaker-attrd sends it right
//     after *sending* the CIB modify request, timestamped by libqb's CLOCK_REALTIME_COARSE
//     (1–4 ms steps here: clock_getres says 4 ms). Coarser and a step earlier; kept as a
//     cross-check (BENCH_E2E_ALERT=1).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './stats.js';

export interface AttributeChange {
  /** Wall-clock microseconds since the Unix epoch. */
  readonly atUs: number;
  readonly node: string;
  readonly name: string;
  /** The new value; '' when the attribute was deleted. */
  readonly value: string;
}

/** Follows a file that another process appends lines to, turning lines into attribute changes. */
export class AttributeLog {
  readonly #file: string;
  readonly #parse: (line: string) => AttributeChange[];
  #offset = 0;
  #rest = '';
  readonly #last = new Map<string, string>();

  constructor(file: string, parse: (line: string) => AttributeChange[]) {
    this.#file = file;
    this.#parse = parse;
  }

  /** Reads what was appended since the last call. */
  poll(): AttributeChange[] {
    let size: number;
    try {
      size = statSync(this.#file).size;
    } catch {
      return [];
    }
    if (size <= this.#offset) return [];
    const buf = Buffer.alloc(size - this.#offset);
    const fd = openSync(this.#file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, this.#offset);
    } finally {
      closeSync(fd);
    }
    this.#offset = size;
    const lines = (this.#rest + buf.toString('utf8')).split('\n');
    this.#rest = lines.pop() ?? '';
    const out = lines.flatMap((l) => this.#parse(l));
    for (const c of out) this.#last.set(c.node, c.value);
    return out;
  }

  /** The last value seen for a node (after reading what is new). */
  lastValue(node: string): string | undefined {
    this.poll();
    return this.#last.get(node);
  }

  /** Waits (reading the file every `stepMs`) for the first new change that matches; undefined on timeout. */
  async next(
    match: (c: AttributeChange) => boolean,
    timeoutMs: number,
    stepMs = 2,
  ): Promise<AttributeChange | undefined> {
    const by = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.poll().find(match);
      if (hit) return hit;
      if (performance.now() > by) return undefined;
      await sleep(stepMs);
    }
  }
}

const xmlText = (s: string) =>
  s
    .replace(/&apos;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/**
 * Parses cib-watch.py's lines ("<ns> <notify …>"): the changes of transient attribute `name`
 * in the v2 diff of a status update. `nodes` maps node IDs (node_state id) to names.
 */
export function cibDiffParser(name: string, nodes: ReadonlyMap<string, string>): (line: string) => AttributeChange[] {
  // Pacemaker makes an nvpair's id from "status-<node id>-<name>", '#' turned into '.'.
  const idSuffix = `-${name.replace(/[^A-Za-z0-9_.-]/g, '.')}`;
  return (line) => {
    const sp = line.indexOf(' ');
    if (sp < 0) return [];
    const ns = line.slice(0, sp);
    if (!/^\d+$/.test(ns)) return [];
    const atUs = Number(BigInt(ns) / 1000n) + Number(BigInt(ns) % 1000n) / 1000;
    const diff = line.slice(line.indexOf('<cib_update_result>') + 1);
    if (!diff.includes('<diff format="2"')) return [];
    const out: AttributeChange[] = [];
    for (const chunk of diff.split('<change operation="').slice(1)) {
      const op = chunk.slice(0, chunk.indexOf('"'));
      const path = xmlText(/^[a-z]+" path="([^"]*)"/.exec(chunk)?.[1] ?? '');
      const nodeId = /node_state\[@id='([^']+)'\]/.exec(path)?.[1] ?? /<node_state id="([^"]+)"/.exec(chunk)?.[1];
      const node = nodeId === undefined ? undefined : (nodes.get(nodeId) ?? `id:${nodeId}`);
      if (node === undefined) continue;
      if (op === 'create') {
        const re = new RegExp(`<nvpair [^>]*name="${name}"[^>]*value="([^"]*)"`, 'g');
        for (const m of chunk.matchAll(re)) out.push({ atUs, node, name, value: xmlText(m[1]!) });
      } else if (op === 'modify' && /\/nvpair\[@id='[^']*'\]$/.test(path) && path.endsWith(`${idSuffix}']`)) {
        const v = /<change-attr name="value" operation="set" value="([^"]*)"/.exec(chunk)?.[1];
        if (v !== undefined) out.push({ atUs, node, name, value: xmlText(v) });
      } else if (op === 'delete' && path.endsWith(`${idSuffix}']`)) {
        out.push({ atUs, node, name, value: '' });
      }
    }
    return out;
  };
}

/** Parses the alert agent's lines ("<epoch> <usec> <node> <name> <value>"). */
export function alertLineParser(line: string): AttributeChange[] {
  const [epoch, usec, node, name, value = ''] = line.trim().split(' ');
  if (!epoch || !usec || !node || !name) return [];
  return [{ atUs: Number(epoch) * 1e6 + Number(usec), node, name, value }];
}

/** Writes the alert agent and its (hacluster-writable) output file into `dir`; returns the alert's XML. */
export function writeAlertAgent(dir: string, attribute: string): { xml: string; logFile: string } {
  const agent = join(dir, 'attribute-alert.sh');
  const logFile = join(dir, 'attribute-alerts.log');
  writeFileSync(
    agent,
    `#!/bin/sh
[ "$CRM_alert_kind" = attribute ] || exit 0
echo "$CRM_alert_timestamp_epoch $CRM_alert_timestamp_usec $CRM_alert_node $CRM_alert_attribute_name $CRM_alert_attribute_value" >> "$CRM_alert_recipient"
`,
  );
  chmodSync(agent, 0o755);
  writeFileSync(logFile, '');
  // The agent runs as hacluster.
  const uid = Number(execFileSync('id', ['-u', 'hacluster'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'hacluster'], { encoding: 'utf8' }).trim());
  chownSync(logFile, uid, gid);
  const xml = `<alerts><alert id="bench-attr-alert" path="${agent}">
  <meta_attributes id="bench-attr-alert-meta"><nvpair id="bench-attr-alert-timeout" name="timeout" value="10s"/></meta_attributes>
  <select><select_attributes><attribute id="bench-attr-alert-name" name="${attribute}"/></select_attributes></select>
  <recipient id="bench-attr-alert-to" value="${logFile}"/>
</alert></alerts>`;
  return { xml, logFile };
}

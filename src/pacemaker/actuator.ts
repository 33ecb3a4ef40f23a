import type { AtcadConfig } from '../config/schema.js';
import type { ClusterView } from '../domain/cluster.js';
import { AtcaError } from '../errors.js';

export type PacemakerConfig = AtcadConfig['pacemaker'];

/**
 * The only way atcad acts on the cluster. Every implementation runs (or, dry-run, records) the
 * same argv, built by the pure builders below; no shell is ever involved. Mutating calls never
 * reject: they resolve with an ActionResult whose `error` says what went wrong. The two reads
 * reject with an AtcaError, since a caller cannot decide anything from a partial answer.
 */
export interface ClusterActuator {
  /** Sets the node-health attribute (pacemaker.healthAttribute) of a node. */
  setHealth(node: string, value: HealthValue): Promise<ActionResult>;
  clearHealth(node: string): Promise<ActionResult>;
  setStandby(node: string, on: boolean): Promise<ActionResult>;
  /**
   * Reboot-fences a node. A timeout is a failure, but not proof that no fencing happened: the
   * fencer carries on after its client is killed, so read fenceHistory before trying again.
   */
  fence(node: string): Promise<ActionResult>;
  /** Newest first, as the fencer reports them; includes failed and pending attempts. */
  fenceHistory(node: string): Promise<FenceHistoryEntry[]>;
  /** Every node the cluster knows and whether it is online (for the operators' view). */
  nodes(): Promise<NodeInfo[]>;
  /**
   * The cluster's membership and quorum, read now (for the guard before a fence): voting
   * members only, whether this partition has quorum, and the votes quorum takes.
   */
  cluster(): Promise<ClusterView>;
}

export const HEALTH_VALUES = ['green', 'yellow', 'red'] as const;
export type HealthValue = (typeof HEALTH_VALUES)[number];

export interface ActionResult {
  readonly ok: boolean;
  /** The argv that ran (or would run); argv[0] is the tool's path. Never holds a secret. */
  readonly command: readonly string[];
  /** null when the tool did not exit by itself (killed at the timeout, could not start, dry-run). */
  readonly exitCode: number | null;
  readonly durationMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: AtcaError;
}

export type FenceStatus = 'success' | 'failed' | 'pending' | 'unknown';

export interface FenceHistoryEntry {
  /** reboot, off or on. */
  readonly action: string;
  readonly target: string;
  readonly status: FenceStatus;
  /** The node that ran the fence device. */
  readonly delegate?: string;
  /** The node that asked for fencing. */
  readonly origin?: string;
  readonly client?: string;
  readonly exitReason?: string;
  /** ISO 8601 (UTC); absent while pending. */
  readonly completed?: string;
}

export interface NodeInfo {
  readonly name: string;
  readonly id?: string;
  readonly online: boolean;
  readonly standby: boolean;
  /** The cluster has lost the node and will fence it. */
  readonly unclean: boolean;
  /** member (a corosync node, which votes), remote or ping; as crm_mon says. */
  readonly type: string;
  /** The node's health as the scheduler sees it (the worst of its #health-* attributes), if shown. */
  readonly health?: HealthValue;
}

/** The Pacemaker command-line tools atcad runs. */
export const PCMK_TOOLS = [
  'attrd_updater',
  'crm_attribute',
  'stonith_admin',
  'crm_mon',
  'corosync-quorumtool',
] as const;
export type PcmkTool = (typeof PCMK_TOOLS)[number];
export type ToolPaths = Readonly<Record<PcmkTool, string>>;

/** Debian and RHEL both install the tools in /usr/sbin; absolute paths keep PATH out of it. */
export const DEFAULT_TOOL_PATHS: ToolPaths = Object.freeze({
  attrd_updater: '/usr/sbin/attrd_updater',
  crm_attribute: '/usr/sbin/crm_attribute',
  stonith_admin: '/usr/sbin/stonith_admin',
  crm_mon: '/usr/sbin/crm_mon',
  'corosync-quorumtool': '/usr/sbin/corosync-quorumtool',
});

/** A tool and its arguments, before the tool's name is resolved to a path. */
export type ToolArgv = readonly [PcmkTool, ...string[]];

export function resolveArgv(argv: ToolArgv, paths: ToolPaths): string[] {
  const [tool, ...args] = argv;
  return [paths[tool], ...args];
}

// --- argv builders ---------------------------------------------------------------------------

/**
 * Node and attribute names go straight into argv (no shell), so the only danger is one that
 * a tool would read as an option, or one that holds characters no node name has.
 */
function checkName(kind: string, value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
  if (value.length === 0 || value.length > 255 || value.startsWith('-') || /[\s\x00-\x1f\x7f]/.test(value)) {
    throw new AtcaError('ATCA_ERR_BAD_OPTION', `${kind} ${JSON.stringify(value)} is not a usable Pacemaker name`);
  }
  return value;
}

function checkHealth(value: string): HealthValue {
  if (!(HEALTH_VALUES as readonly string[]).includes(value)) {
    throw new AtcaError('ATCA_ERR_BAD_OPTION', `health value ${JSON.stringify(value)} is not green, yellow or red`);
  }
  return value as HealthValue;
}

/** Live: a transient attribute through attrd, which writes it to the status section. */
export function healthArgv(attr: string, node: string, value: HealthValue): ToolArgv {
  return ['attrd_updater', '-n', checkName('attribute', attr), '-U', checkHealth(value), '-N', checkName('node', node)];
}

/** Live: attrd_updater -D empties the value, which Pacemaker treats as "no health reported". */
export function clearHealthArgv(attr: string, node: string): ToolArgv {
  return ['attrd_updater', '-n', checkName('attribute', attr), '-D', '-N', checkName('node', node)];
}

/**
 * Offline: attrd does not exist, so crm_attribute writes the transient (reboot-lifetime)
 * attribute into the CIB file's status section. That needs a <node_state> for the node:
 * without one crm_attribute exits 105 ("No such device or address").
 */
export function offlineHealthArgv(attr: string, node: string, value: HealthValue): ToolArgv {
  return [
    'crm_attribute',
    '-N',
    checkName('node', node),
    '-n',
    checkName('attribute', attr),
    '-v',
    checkHealth(value),
    '-l',
    'reboot',
  ];
}

export function offlineClearHealthArgv(attr: string, node: string): ToolArgv {
  return ['crm_attribute', '-N', checkName('node', node), '-n', checkName('attribute', attr), '-D', '-l', 'reboot'];
}

/** Permanent (nodes section), so that standby survives the node rebooting; live and offline alike. */
export function standbyArgv(node: string, on: boolean): ToolArgv {
  return ['crm_attribute', '-N', checkName('node', node), '-n', 'standby', '-v', on ? 'on' : 'off', '-l', 'forever'];
}

export function fenceArgv(node: string, timeoutSec: number): ToolArgv {
  if (!Number.isInteger(timeoutSec) || timeoutSec < 1) {
    throw new AtcaError('ATCA_ERR_BAD_OPTION', `fencing timeout ${timeoutSec} is not a whole number of seconds`);
  }
  return ['stonith_admin', '--reboot', checkName('node', node), '--timeout', String(timeoutSec)];
}

/**
 * How long to let stonith_admin run before killing it: its own --timeout plus a margin, so that
 * its own exit 124 (with the fencer's reason) normally wins over our kill.
 */
export function fenceRunnerTimeoutMs(timeoutSec: number): number {
  return timeoutSec * 1000 + Math.max(5000, timeoutSec * 100);
}

/**
 * Offline: nothing can fence, so ask for it the way the controller itself does. The scheduler
 * turns `terminate=true` into "Fence (reboot) <node> 'termination was requested'" — provided
 * stonith-enabled is true; with it false, the request is silently ignored.
 */
export function terminateArgv(node: string): ToolArgv {
  return ['crm_attribute', '-N', checkName('node', node), '-n', 'terminate', '-v', 'true', '-l', 'reboot'];
}

/**
 * --verbose is needed: without it 2.1.5 prints only one successful event, even for '*'.
 * XML because the text form is for people (reasons in parentheses, times quoted).
 */
export function fenceHistoryArgv(node: string): ToolArgv {
  return ['stonith_admin', '--history', checkName('node', node), '--verbose', '--output-as=xml'];
}

/**
 * crm_mon rather than `crm_node -l`: crm_node needs the controller (exit 102 offline, even
 * with CIB_file) and reports membership only, where crm_mon reads the CIB live and offline.
 */
export function nodesArgv(): ToolArgv {
  return ['crm_mon', '--one-shot', '--output-as=xml', '--include=none', '--include=summary', '--include=nodes'];
}

/** corosync's own view of the votes: `Quorum:` is the number of votes quorum takes. */
export function quorumArgv(): ToolArgv {
  return ['corosync-quorumtool', '-s'];
}

// --- exit codes ------------------------------------------------------------------------------

/** Pacemaker's own messages for a daemon (or the CIB file) it cannot reach. */
const UNREACHABLE_MESSAGE =
  /Could not connect to (the )?(CIB|fencer|attrd|controller|launcher|cluster)|Transport endpoint is not connected|Connection to cluster failed/i;

const MAX_MESSAGE = 500;

/** What the tool said: stderr, or the <error> lines a tool writes into its XML on stdout. */
export function toolMessage(stdout: string, stderr: string): string {
  let text = stderr.trim();
  if (text === '') {
    const errors = [...stdout.matchAll(/<error>([^<]*)<\/error>/g)].map((m) => decodeXml(m[1] ?? ''));
    text = errors.join('\n');
  }
  const oneLine = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' | ');
  return oneLine.length > MAX_MESSAGE ? `${oneLine.slice(0, MAX_MESSAGE)}…` : oneLine;
}

/**
 * Maps a tool's exit code (pcmk_rc2exitc in lib/common/results.c) to the error atcad reports,
 * or undefined for success. `message` is what the tool printed (see toolMessage).
 */
export function classifyExit(tool: PcmkTool, code: number, message: string): AtcaError | undefined {
  if (code === 0) return undefined;
  const said = message === '' ? '' : `: ${message}`;
  if (code === 124) return new AtcaError('ATCA_ERR_PCMK_TIMEOUT', `${tool} exited 124${said}`);
  if (code === 102 || UNREACHABLE_MESSAGE.test(message)) {
    return new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', `${tool} exited ${code}${said}`);
  }
  let why = '';
  if (code === 105) {
    why = tool === 'stonith_admin' ? ' (no fence device can fence the target)' : ' (no such node or attribute)';
  } else if (code === 4) {
    why = ' (insufficient privileges)';
  } else if (code === 64) {
    why = ' (usage error: the argv atcad built was rejected)';
  }
  return new AtcaError('ATCA_ERR_PCMK_FAILED', `${tool} exited ${code}${why}${said}`);
}

// --- output parsers --------------------------------------------------------------------------

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    return String.fromCodePoint(e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

function attributes(tagBody: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of tagBody.matchAll(/([A-Za-z_][-\w:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    out.set(m[1] ?? '', decodeXml(m[2] ?? m[3] ?? ''));
  }
  return out;
}

/** The attributes of every <name …> element in `xml` (Pacemaker's API elements are flat). */
function elements(xml: string, name: string): Map<string, string>[] {
  return [...xml.matchAll(new RegExp(`<${name}(\\s[^>]*?)?/?>`, 'g'))].map((m) => attributes(m[1] ?? ''));
}

/** Rejects a <pacemaker-result> whose status is not 0 (the exit code already said so, normally). */
function checkResultStatus(tool: PcmkTool, xml: string): void {
  const status = elements(xml, 'status').at(-1);
  const code = status?.get('code');
  if (code !== undefined && code !== '0') {
    throw classifyExit(tool, Number(code), toolMessage(xml, '') || (status?.get('message') ?? ''));
  }
}

/** "2026-11-25 20:41:27Z" → "2026-11-25T20:41:27Z"; anything unexpected is kept as printed. */
function isoTime(s: string): string {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)Z$/.exec(s);
  return m ? `${m[1]}T${m[2]}Z` : s;
}

function fenceStatus(s: string | undefined): FenceStatus {
  return s === 'success' || s === 'failed' || s === 'pending' ? s : 'unknown';
}

/** Parses `stonith_admin --history NODE --verbose --output-as=xml`. */
export function parseFenceHistoryXml(xml: string): FenceHistoryEntry[] {
  checkResultStatus('stonith_admin', xml);
  if (!/<list\s[^>]*name="fencing history"/.test(xml)) {
    throw new AtcaError('ATCA_ERR_PCMK_FAILED', 'stonith_admin printed no fencing history list');
  }
  return elements(xml, 'fence_event').map((a) => {
    const completed = a.get('completed');
    return {
      action: a.get('action') ?? '',
      target: a.get('target') ?? '',
      status: fenceStatus(a.get('status')),
      delegate: a.get('delegate'),
      origin: a.get('origin'),
      client: a.get('client'),
      exitReason: a.get('exit-reason'),
      completed: completed === undefined ? undefined : isoTime(completed),
    };
  });
}

/**
 * Parses the <nodes> list of `crm_mon --output-as=xml` (crm_simulate's XML has the same list).
 * crm_mon exits 0 even when it could not read the CIB file (it prints an <error> and no
 * <nodes>), so a missing list is an error, not an empty cluster.
 */
export function parseCrmMonNodes(xml: string): NodeInfo[] {
  checkResultStatus('crm_mon', xml);
  const section = /<nodes\s*\/>|<nodes\s*>([\s\S]*?)<\/nodes>/.exec(xml);
  if (!section) {
    const said = toolMessage(xml, '');
    const code = UNREACHABLE_MESSAGE.test(said) ? 'ATCA_ERR_PCMK_UNREACHABLE' : 'ATCA_ERR_PCMK_FAILED';
    throw new AtcaError(code, `crm_mon printed no node list${said ? `: ${said}` : ''}`);
  }
  const body = section[1] ?? '';
  return elements(body, 'node').map((a) => ({
    name: a.get('name') ?? '',
    id: a.get('id'),
    online: a.get('online') === 'true',
    standby: a.get('standby') === 'true',
    unclean: a.get('unclean') === 'true',
    type: a.get('type') ?? 'member',
    ...healthOf(a.get('health')),
  }));
}

function healthOf(v: string | undefined): { health?: HealthValue } {
  return v !== undefined && (HEALTH_VALUES as readonly string[]).includes(v) ? { health: v as HealthValue } : {};
}

/**
 * The membership part of a ClusterView from `crm_mon --include=summary,nodes` XML: quorum from
 * the summary's current_dc (no DC means no quorum atcad can rely on), voting members only
 * (remote and guest nodes do not vote). `quorum` comes from corosync separately.
 */
export function parseClusterView(xml: string): Omit<ClusterView, 'quorum'> {
  const nodes = parseCrmMonNodes(xml);
  const dc = elements(xml, 'current_dc').at(-1);
  if (!dc) throw new AtcaError('ATCA_ERR_PCMK_FAILED', 'crm_mon printed no current_dc: quorum unknown');
  const voters = nodes.filter((n) => n.type === 'member');
  return {
    withQuorum: dc.get('present') === 'true' && dc.get('with_quorum') === 'true',
    votersOnline: voters.filter((n) => n.online && !n.unclean).map((n) => n.name),
    votersTotal: voters.length,
  };
}

/** `corosync-quorumtool -s`: the votes quorum takes ("Quorum: 2"), or undefined. */
export function parseQuorumVotes(text: string): number | undefined {
  const m = /^Quorum:\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

import type { ClusterView } from '../domain/cluster.js';
import {
  type ActionResult,
  type ClusterActuator,
  clearHealthArgv,
  type FenceHistoryEntry,
  fenceArgv,
  type HealthValue,
  healthArgv,
  type NodeInfo,
  type PacemakerConfig,
  resolveArgv,
  standbyArgv,
  type ToolArgv,
  type ToolPaths,
} from './actuator.js';
import { failedBeforeRunning, toolPaths } from './tool-runner.js';

export interface DryRunOptions {
  readonly toolPaths?: Partial<ToolPaths>;
  /** What nodes() answers; default none. */
  readonly nodes?: readonly NodeInfo[];
  /**
   * Where reads go instead (atcad's dry-run mode reads the live cluster's membership and
   * fencing history — reading changes nothing — so that its decisions are those it would take).
   */
  readonly reads?: Pick<ClusterActuator, 'nodes' | 'fenceHistory' | 'cluster'>;
}

/**
 * Runs nothing: records the argv the live actuator would run (same builders, same paths) and
 * reports success with exitCode null. The reads answer from what it was given.
 */
export class DryRunActuator implements ClusterActuator {
  readonly #cfg: PacemakerConfig;
  readonly #paths: ToolPaths;
  readonly #nodes: readonly NodeInfo[];
  readonly #reads: Pick<ClusterActuator, 'nodes' | 'fenceHistory' | 'cluster'> | undefined;
  readonly #recorded: (readonly string[])[] = [];

  constructor(cfg: PacemakerConfig, opts: DryRunOptions = {}) {
    this.#cfg = cfg;
    this.#paths = toolPaths(opts.toolPaths);
    this.#nodes = opts.nodes ?? [];
    this.#reads = opts.reads;
  }

  /** Every argv it would have run, oldest first. */
  get recorded(): readonly (readonly string[])[] {
    return this.#recorded;
  }

  setHealth(node: string, value: HealthValue): Promise<ActionResult> {
    return this.#record(() => healthArgv(this.#cfg.healthAttribute, node, value));
  }

  clearHealth(node: string): Promise<ActionResult> {
    return this.#record(() => clearHealthArgv(this.#cfg.healthAttribute, node));
  }

  setStandby(node: string, on: boolean): Promise<ActionResult> {
    return this.#record(() => standbyArgv(node, on));
  }

  fence(node: string): Promise<ActionResult> {
    return this.#record(() => fenceArgv(node, this.#cfg.fenceTimeoutSec));
  }

  fenceHistory(node: string): Promise<FenceHistoryEntry[]> {
    return this.#reads ? this.#reads.fenceHistory(node) : Promise.resolve([]);
  }

  nodes(): Promise<NodeInfo[]> {
    return this.#reads ? this.#reads.nodes() : Promise.resolve(this.#nodes.map((n) => ({ ...n })));
  }

  /** The live cluster's, when reads go there; otherwise from the nodes it was given (quorate). */
  cluster(): Promise<ClusterView> {
    if (this.#reads) return this.#reads.cluster();
    const voters = this.#nodes.filter((n) => n.type === 'member');
    return Promise.resolve({
      withQuorum: true,
      votersOnline: voters.filter((n) => n.online && !n.unclean).map((n) => n.name),
      votersTotal: voters.length,
      quorum: undefined,
    });
  }

  #record(build: () => ToolArgv): Promise<ActionResult> {
    let command: string[];
    try {
      command = resolveArgv(build(), this.#paths);
    } catch (e) {
      return Promise.resolve(failedBeforeRunning(e));
    }
    this.#recorded.push(Object.freeze(command));
    return Promise.resolve({ ok: true, command, exitCode: null, durationMs: 0, stdout: '', stderr: '' });
  }
}

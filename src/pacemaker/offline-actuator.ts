import { resolve } from 'node:path';
import type { ClusterView } from '../domain/cluster.js';
import { AtcaError } from '../errors.js';
import {
  type ActionResult,
  type ClusterActuator,
  type FenceHistoryEntry,
  type HealthValue,
  type NodeInfo,
  nodesArgv,
  offlineClearHealthArgv,
  offlineHealthArgv,
  type PacemakerConfig,
  parseClusterView,
  parseCrmMonNodes,
  standbyArgv,
  terminateArgv,
} from './actuator.js';
import { type ActuatorDeps, ToolRunner } from './tool-runner.js';

/**
 * Acts on a CIB file (CIB_file) instead of a cluster, so that what atcad would do can be checked
 * with `crm_simulate -x <file> -S`. Only tools that work on a file are used: no attrd, no
 * fencer, no controller.
 *
 * - Health is written as a transient (reboot-lifetime) attribute in the status section, which
 *   needs a <node_state> for the node (crm_attribute exits 105 without one).
 * - fence() cannot fence: it sets `terminate=true`, which the scheduler turns into
 *   "Fence (reboot) <node> 'termination was requested'" — only when stonith-enabled is true.
 * - fenceHistory() is always empty: there is no fencer to remember anything.
 * - Commands run one at a time: crm_attribute rewrites the whole file, and concurrent writers
 *   lose each other's updates (8 in parallel kept 1 when tried on 2.1.5).
 */
export class OfflineActuator implements ClusterActuator {
  readonly #cfg: PacemakerConfig;
  readonly #tools: ToolRunner;

  constructor(cfg: PacemakerConfig, deps: ActuatorDeps = {}) {
    if (cfg.cibFile === undefined)
      throw new AtcaError('ATCA_ERR_CONFIG_INVALID', 'pacemaker mode offline needs cibFile');
    this.#cfg = cfg;
    this.#tools = new ToolRunner({
      ...deps,
      commandTimeoutMs: cfg.commandTimeoutMs,
      cibFile: resolve(cfg.cibFile),
      serialize: true,
    });
  }

  setHealth(node: string, value: HealthValue): Promise<ActionResult> {
    return this.#tools.act(() => offlineHealthArgv(this.#cfg.healthAttribute, node, value));
  }

  clearHealth(node: string): Promise<ActionResult> {
    return this.#tools.act(() => offlineClearHealthArgv(this.#cfg.healthAttribute, node));
  }

  setStandby(node: string, on: boolean): Promise<ActionResult> {
    return this.#tools.act(() => standbyArgv(node, on));
  }

  fence(node: string): Promise<ActionResult> {
    return this.#tools.act(() => terminateArgv(node));
  }

  fenceHistory(_node: string): Promise<FenceHistoryEntry[]> {
    return Promise.resolve([]);
  }

  nodes(): Promise<NodeInfo[]> {
    return this.#tools.query(nodesArgv, parseCrmMonNodes);
  }

  /** From the CIB file: have-quorum and its nodes; no corosync to ask for votes. */
  async cluster(): Promise<ClusterView> {
    return { ...(await this.#tools.query(nodesArgv, parseClusterView)), quorum: undefined };
  }
}

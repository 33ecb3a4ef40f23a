import type { ClusterView } from '../domain/cluster.js';
import {
  type ActionResult,
  type ClusterActuator,
  clearHealthArgv,
  type FenceHistoryEntry,
  fenceArgv,
  fenceHistoryArgv,
  fenceRunnerTimeoutMs,
  type HealthValue,
  healthArgv,
  type NodeInfo,
  nodesArgv,
  type PacemakerConfig,
  parseClusterView,
  parseCrmMonNodes,
  parseFenceHistoryXml,
  parseQuorumVotes,
  quorumArgv,
  standbyArgv,
} from './actuator.js';
import { type ActuatorDeps, ToolRunner } from './tool-runner.js';

/**
 * Acts on the running cluster this node belongs to. Without a running cluster every call
 * fails fast with ATCA_ERR_PCMK_UNREACHABLE (the tools exit 102 in about 50 ms).
 *
 * Note: attrd accepts a transient attribute for any node name, even one the cluster does not
 * know (exit 0 on 2.1.5), so setHealth cannot catch a misspelt node; setStandby can (105).
 */
export class LiveActuator implements ClusterActuator {
  readonly #cfg: PacemakerConfig;
  readonly #tools: ToolRunner;

  constructor(cfg: PacemakerConfig, deps: ActuatorDeps = {}) {
    this.#cfg = cfg;
    this.#tools = new ToolRunner({ ...deps, commandTimeoutMs: cfg.commandTimeoutMs });
  }

  setHealth(node: string, value: HealthValue): Promise<ActionResult> {
    return this.#tools.act(() => healthArgv(this.#cfg.healthAttribute, node, value));
  }

  clearHealth(node: string): Promise<ActionResult> {
    return this.#tools.act(() => clearHealthArgv(this.#cfg.healthAttribute, node));
  }

  setStandby(node: string, on: boolean): Promise<ActionResult> {
    return this.#tools.act(() => standbyArgv(node, on));
  }

  fence(node: string): Promise<ActionResult> {
    const sec = this.#cfg.fenceTimeoutSec;
    return this.#tools.act(() => fenceArgv(node, sec), fenceRunnerTimeoutMs(sec));
  }

  fenceHistory(node: string): Promise<FenceHistoryEntry[]> {
    return this.#tools.query(() => fenceHistoryArgv(node), parseFenceHistoryXml);
  }

  nodes(): Promise<NodeInfo[]> {
    return this.#tools.query(nodesArgv, parseCrmMonNodes);
  }

  /**
   * crm_mon for membership and quorum, corosync-quorumtool for the votes quorum takes (it
   * exits non-zero when the partition is not quorate, and still prints them; if it cannot be
   * read at all, the policy falls back to a majority of the voting members).
   */
  async cluster(): Promise<ClusterView> {
    const [view, votes] = await Promise.all([
      this.#tools.query(nodesArgv, parseClusterView),
      this.#tools.act(quorumArgv).then((r) => parseQuorumVotes(r.stdout)),
    ]);
    return { ...view, quorum: votes };
  }
}

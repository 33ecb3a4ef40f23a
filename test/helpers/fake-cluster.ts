// A stand-in for Pacemaker's tools, for tests of what atcad asks and decides (the engine, the
// policy over random sequences): those need thousands of runs and exact control over each
// tool's answer (a timeout here, an unreadable history there), which no real cluster gives.
// The real tools are exercised in test/integration (pacemaker-actuator-*, pacemaker-fenced,
// atcad-live-cluster, atcad-scenarios).
import type { ClusterView } from '../../src/domain/cluster.js';
import { AtcaError } from '../../src/errors.js';
import type { ActionResult, ClusterActuator, FenceHistoryEntry, NodeInfo } from '../../src/pacemaker/actuator.js';

export type FenceAnswer = 'ok' | 'failed' | 'timeout' | 'unreachable';

export interface FakeCluster extends ClusterActuator {
  readonly calls: string[];
  /** Nodes fenced (every stonith_admin --reboot asked for, whatever it answered). */
  readonly fenced: string[];
  history: FenceHistoryEntry[] | 'unreadable';
  view: ClusterView | 'unreadable';
  fenceAnswer: FenceAnswer;
  healthOk: boolean;
  /** Resolves pending fences, when fenceAnswer was set to 'hold'. */
}

export function fakeCluster(nodes = ['node1', 'node2', 'node3']): FakeCluster {
  const result = (command: string[], ok = true, extra: Partial<ActionResult> = {}): ActionResult => ({
    ok,
    command,
    exitCode: ok ? 0 : 1,
    durationMs: 1,
    stdout: '',
    stderr: '',
    ...extra,
  });
  const f: FakeCluster = {
    calls: [],
    fenced: [],
    history: [],
    view: {
      withQuorum: true,
      votersOnline: [...nodes],
      votersTotal: nodes.length,
      quorum: Math.floor(nodes.length / 2) + 1,
    },
    fenceAnswer: 'ok',
    healthOk: true,
    async setHealth(node, value) {
      f.calls.push(`health ${node} ${value}`);
      return result(['attrd_updater', '-U', value, '-N', node], f.healthOk);
    },
    async clearHealth(node) {
      f.calls.push(`clear ${node}`);
      return result(['attrd_updater', '-D', '-N', node]);
    },
    async setStandby(node, on) {
      f.calls.push(`standby ${node} ${on}`);
      return result(['crm_attribute', '-N', node, '-n', 'standby', '-v', on ? 'on' : 'off']);
    },
    async fence(node) {
      f.calls.push(`fence ${node}`);
      f.fenced.push(node);
      const command = ['stonith_admin', '--reboot', node];
      switch (f.fenceAnswer) {
        case 'ok':
          return result(command);
        case 'failed':
          return result(command, false, { error: new AtcaError('ATCA_ERR_PCMK_FAILED', 'stonith_admin exited 1') });
        case 'timeout':
          return result(command, false, {
            exitCode: null,
            error: new AtcaError('ATCA_ERR_PCMK_TIMEOUT', 'stonith_admin did not finish'),
          });
        case 'unreachable':
          return result(command, false, {
            exitCode: 102,
            error: new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', 'stonith_admin exited 102'),
          });
      }
    },
    async fenceHistory(node) {
      f.calls.push(`history ${node}`);
      if (f.history === 'unreadable') throw new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', 'stonith_admin exited 102');
      return f.history.filter((h) => h.target === node);
    },
    async nodes(): Promise<NodeInfo[]> {
      return nodes.map((name) => ({ name, online: true, standby: false, unclean: false, type: 'member' }));
    },
    async cluster() {
      f.calls.push('cluster');
      if (f.view === 'unreadable') throw new AtcaError('ATCA_ERR_PCMK_UNREACHABLE', 'crm_mon exited 102');
      return f.view;
    },
  };
  return f;
}

import type { ClusterActuator, PacemakerConfig } from './actuator.js';
import { DryRunActuator } from './dry-run-actuator.js';
import { LiveActuator } from './live-actuator.js';
import { OfflineActuator } from './offline-actuator.js';
import type { ActuatorDeps } from './tool-runner.js';

/** The actuator for pacemaker.mode: live acts on the cluster, offline on cibFile, dry-run on nothing. */
export function createActuator(cfg: PacemakerConfig, deps: ActuatorDeps = {}): ClusterActuator {
  switch (cfg.mode) {
    case 'live':
      return new LiveActuator(cfg, deps);
    case 'offline':
      return new OfflineActuator(cfg, deps);
    case 'dry-run':
      return new DryRunActuator(cfg, {
        ...(deps.toolPaths ? { toolPaths: deps.toolPaths } : {}),
        reads: new LiveActuator(cfg, deps),
      });
  }
}

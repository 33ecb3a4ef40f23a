// A small offline cluster for tests: a CIB file with three nodes node1..node3 (online
// members), three Dummy resources preferring node1 and node-health-strategy=migrate-on-red,
// checked with crm_verify and settled with crm_simulate. Pacemaker's tools act on it through
// CIB_file; crm_simulate shows what a cluster would do with it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

export { type ToolRun, tool } from './tool.js';

import { tool } from './tool.js';

/**
 * Three nodes, each with a <node_state> (online members: transient attributes need one), three
 * Dummy resources that prefer node1, node-health-strategy=migrate-on-red. have-quorum="1" so
 * that the scheduler starts anything at all. `stonith` adds a fence_dummy device and turns
 * stonith-enabled on: with it off, the scheduler ignores a termination request (observed).
 */
export function cibXml(stonith: boolean): string {
  const device = stonith ? '\n      <primitive id="fence-dummy" class="stonith" type="fence_dummy"/>' : '';
  const dummies = [1, 2, 3]
    .map((i) => `      <primitive id="dummy${i}" class="ocf" provider="pacemaker" type="Dummy"/>`)
    .join('\n');
  const prefer = [1, 2, 3]
    .map((i) => `      <rsc_location id="loc-dummy${i}" rsc="dummy${i}" node="node1" score="100"/>`)
    .join('\n');
  const states = [1, 2, 3]
    .map(
      (i) => `    <node_state id="${i}" uname="node${i}" in_ccm="true" crmd="online" join="member" expected="member"/>`,
    )
    .join('\n');
  return `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="1">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="${stonith}"/>
        <nvpair id="opt-node-health-strategy" name="node-health-strategy" value="migrate-on-red"/>
      </cluster_property_set>
    </crm_config>
    <nodes>
      <node id="1" uname="node1"/>
      <node id="2" uname="node2"/>
      <node id="3" uname="node3"/>
    </nodes>
    <resources>
${dummies}${device}
    </resources>
    <constraints>
${prefer}
    </constraints>
  </configuration>
  <status>
${states}
  </status>
</cib>
`;
}

/**
 * Writes the CIB, checks it with crm_verify, then lets crm_simulate run the first transition
 * and save the result (-O): the Dummy resources are then running on node1, with the operation
 * history a live cluster would have recorded.
 */
export async function makeCib(dir: string, stonith = false): Promise<string> {
  const initial = join(dir, 'initial.xml');
  const cib = join(dir, 'cib.xml');
  writeFileSync(initial, cibXml(stonith));
  const verify = await tool('crm_verify', ['-x', initial]);
  expect(verify.code, verify.stderr).toBe(0);
  const settle = await tool('crm_simulate', ['-x', initial, '-S', '-O', cib]);
  expect(settle.code, settle.stderr).toBe(0);
  return cib;
}

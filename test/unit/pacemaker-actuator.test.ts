// The pure half of the Pacemaker actuator: the argv it builds, how exit codes become errors and
// how tool output is read. Every fixture was captured from Debian's Pacemaker 2.1.5 on the
// test machine: "no cluster" ones directly, the rest from a throwaway one-node cluster
// (corosync + pacemakerd) in its own namespaces, with fence_dummy devices registered.
import { describe, expect, it } from 'vitest';
import {
  classifyExit,
  clearHealthArgv,
  DEFAULT_TOOL_PATHS,
  fenceArgv,
  fenceHistoryArgv,
  fenceRunnerTimeoutMs,
  type HealthValue,
  healthArgv,
  nodesArgv,
  offlineClearHealthArgv,
  offlineHealthArgv,
  parseCrmMonNodes,
  parseFenceHistoryXml,
  resolveArgv,
  standbyArgv,
  terminateArgv,
  toolMessage,
} from '../../src/pacemaker/actuator.js';
import { catchAtcaError } from './catch-atca-error.js';

// --- fixtures: stonith_admin --history <node> --verbose --output-as=xml ----------------------

/** One success, one earlier failure (of a device that had been registered for other nodes). */
const HISTORY_NODE2 = `<pacemaker-result api-version="2.25" request="stonith_admin --history node2 --verbose --output-as=xml">
  <list name="fencing history" count="2">
    <fence_event action="reboot" target="node2" client="stonith_admin.67" origin="node1" status="success" delegate="node1" completed="2026-11-25 20:41:27Z"/>
    <fence_event action="reboot" target="node2" client="stonith_admin.64" origin="node1" status="failed" completed="2026-11-25 20:41:27Z"/>
  </list>
  <status code="0" message="OK"/>
</pacemaker-result>
`;

/** A fence still running (delay=30 on the device), and a timed-out one before it. */
const HISTORY_PENDING = `<pacemaker-result api-version="2.25" request="stonith_admin --history node5 --verbose --output-as=xml">
  <list name="fencing history" count="2">
    <fence_event action="reboot" target="node5" client="stonith_admin.117" origin="node1" status="pending" extended-status="1"/>
    <fence_event action="reboot" target="node5" client="stonith_admin.89" origin="node1" status="failed" exit-reason="Fence agent did not complete within 3s" delegate="node1" completed="2026-11-25 20:41:48Z"/>
  </list>
  <status code="0" message="OK"/>
</pacemaker-result>
`;

const HISTORY_EMPTY = `<pacemaker-result api-version="2.25" request="stonith_admin --history node1 --output-as=xml">
  <list name="fencing history" count="0"/>
  <status code="0" message="OK"/>
</pacemaker-result>
`;

/** stdout of the same command with no fencer running (exit 102, stderr empty). */
const HISTORY_NO_FENCER = `<pacemaker-result api-version="2.25" request="stonith_admin --history node1 --verbose --output-as=xml">
  <status code="102" message="Not connected">
    <errors>
      <error>Could not connect to fencer: Transport endpoint is not connected</error>
    </errors>
  </status>
</pacemaker-result>
`;

// --- fixtures: crm_mon ----------------------------------------------------------------------

/** crm_mon --one-shot --output-as=xml --include=none --include=nodes, CIB_file with 3 nodes. */
const CRM_MON_OFFLINE = `<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml --include=none --include=nodes">
  <nodes>
    <node name="node1" id="1" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" feature_set="&lt;3.15.1" shutdown="false" expected_up="true" is_dc="true" resources_running="3" type="member"/>
    <node name="node2" id="2" online="true" standby="true" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" feature_set="&lt;3.15.1" shutdown="false" expected_up="true" is_dc="false" resources_running="0" type="member"/>
    <node name="node3" id="3" online="false" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" shutdown="false" expected_up="false" is_dc="false" resources_running="0" type="member"/>
  </nodes>
  <status code="0" message="OK"/>
</pacemaker-result>
`;

/** crm_mon -1 --output-as=xml on the live one-node cluster (the whole document). */
const CRM_MON_LIVE = `<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <pacemakerd sys_from="pacemakerd" state="running" last_updated="2026-11-25 20:41:25Z"/>
  <summary>
    <stack type="corosync"/>
    <current_dc present="true" version="2.1.5-a3f44794f94" name="node1" id="1" with_quorum="true" mixed_version="false"/>
    <last_update time="Wed Nov 25 20:41:26 2026"/>
    <last_change time="Wed Nov 25 20:41:19 2026" user="hacluster" client="crmd" origin="node1"/>
    <nodes_configured number="1"/>
    <resources_configured number="0" disabled="0" blocked="0"/>
    <cluster_options stonith-enabled="false" symmetric-cluster="true" no-quorum-policy="stop" maintenance-mode="false" stop-all-resources="false" stonith-timeout-ms="60000" priority-fencing-delay-ms="0"/>
  </summary>
  <nodes>
    <node name="node1" id="1" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" feature_set="3.16.1" shutdown="false" expected_up="true" is_dc="true" resources_running="0" type="member"/>
  </nodes>
  <node_history/>
  <status code="0" message="OK"/>
</pacemaker-result>
`;

/** The full document lists <node> again under resources and node_history: only <nodes> counts. */
const CRM_MON_WITH_RESOURCES = `<pacemaker-result api-version="2.25" request="crm_mon -1 --output-as=xml">
  <nodes>
    <node name="node1" id="1" online="true" standby="false" standby_onfail="false" maintenance="false" pending="false" unclean="false" health="green" feature_set="&lt;3.15.1" shutdown="false" expected_up="true" is_dc="true" resources_running="3" type="member"/>
  </nodes>
  <resources>
    <resource id="dummy1" resource_agent="ocf:pacemaker:Dummy" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
      <node name="node1" id="1" cached="true"/>
    </resource>
  </resources>
  <node_history>
    <node name="node1">
    </node>
  </node_history>
  <status code="0" message="OK"/>
</pacemaker-result>
`;

/** No cluster: exit 102, the errors in the XML on stdout. */
const CRM_MON_NO_CLUSTER = `<pacemaker-result api-version="2.25" request="crm_mon --one-shot --output-as=xml --include=none --include=nodes">
  <status code="102" message="Not connected">
    <errors>
      <error>error: Could not connect to launcher: Connection refused</error>
      <error>crm_mon: Connection to cluster failed: Connection refused</error>
    </errors>
  </status>
</pacemaker-result>
`;

/** CIB_file naming a file that does not exist: crm_mon still exits 0 and says OK. */
const CRM_MON_NO_FILE = `<pacemaker-result api-version="2.25" request="crm_mon --one-shot --output-as=xml --include=none --include=nodes">
  <status code="0" message="OK">
    <errors>
      <error>Could not connect to the CIB: No such device or address</error>
    </errors>
  </status>
</pacemaker-result>
`;

describe('argv builders', () => {
  it('live health goes through attrd_updater, clearing with -D', () => {
    expect(healthArgv('#health-atca', 'node1', 'red')).toEqual([
      'attrd_updater',
      '-n',
      '#health-atca',
      '-U',
      'red',
      '-N',
      'node1',
    ]);
    expect(clearHealthArgv('#health-atca', 'node1')).toEqual([
      'attrd_updater',
      '-n',
      '#health-atca',
      '-D',
      '-N',
      'node1',
    ]);
  });

  it('offline health is a reboot-lifetime crm_attribute, cleared with -D -l reboot', () => {
    expect(offlineHealthArgv('#health-atca', 'node1', 'yellow')).toEqual([
      'crm_attribute',
      '-N',
      'node1',
      '-n',
      '#health-atca',
      '-v',
      'yellow',
      '-l',
      'reboot',
    ]);
    expect(offlineClearHealthArgv('#health-atca', 'node1')).toEqual([
      'crm_attribute',
      '-N',
      'node1',
      '-n',
      '#health-atca',
      '-D',
      '-l',
      'reboot',
    ]);
  });

  it('standby is permanent (-l forever), on and off', () => {
    expect(standbyArgv('node2', true)).toEqual([
      'crm_attribute',
      '-N',
      'node2',
      '-n',
      'standby',
      '-v',
      'on',
      '-l',
      'forever',
    ]);
    expect(standbyArgv('node2', false)).toEqual([
      'crm_attribute',
      '-N',
      'node2',
      '-n',
      'standby',
      '-v',
      'off',
      '-l',
      'forever',
    ]);
  });

  it('fencing is a reboot with the fencing timeout; the offline stand-in requests termination', () => {
    expect(fenceArgv('node3', 120)).toEqual(['stonith_admin', '--reboot', 'node3', '--timeout', '120']);
    expect(terminateArgv('node3')).toEqual([
      'crm_attribute',
      '-N',
      'node3',
      '-n',
      'terminate',
      '-v',
      'true',
      '-l',
      'reboot',
    ]);
  });

  it('the runner waits a little longer than stonith_admin, so its own exit 124 wins', () => {
    expect(fenceRunnerTimeoutMs(10)).toBe(15_000);
    expect(fenceRunnerTimeoutMs(120)).toBe(132_000);
    for (const s of [10, 60, 120, 600]) expect(fenceRunnerTimeoutMs(s)).toBeGreaterThan(s * 1000);
  });

  it('the reads ask for XML: verbose fencing history, and only the node list of crm_mon', () => {
    expect(fenceHistoryArgv('node2')).toEqual(['stonith_admin', '--history', 'node2', '--verbose', '--output-as=xml']);
    expect(nodesArgv()).toEqual([
      'crm_mon',
      '--one-shot',
      '--output-as=xml',
      '--include=none',
      '--include=summary',
      '--include=nodes',
    ]);
  });

  it('resolves the tool to its path, keeping the arguments', () => {
    expect(resolveArgv(standbyArgv('node1', true), DEFAULT_TOOL_PATHS)).toEqual([
      '/usr/sbin/crm_attribute',
      '-N',
      'node1',
      '-n',
      'standby',
      '-v',
      'on',
      '-l',
      'forever',
    ]);
  });

  // crm_attribute -N -x … takes "-x" as the node name (observed: "Could not map name=-x to a UUID").
  it.each(['', '-x', '--reboot', 'node 1', 'node1\n', 'a\tb', 'x'.repeat(256)])('rejects node name %j', (node) => {
    expect(catchAtcaError(() => standbyArgv(node, true)).code).toBe('ATCA_ERR_BAD_OPTION');
    expect(catchAtcaError(() => fenceArgv(node, 60)).code).toBe('ATCA_ERR_BAD_OPTION');
    expect(catchAtcaError(() => healthArgv('#health-atca', node, 'red')).code).toBe('ATCA_ERR_BAD_OPTION');
  });

  it('accepts ordinary host names, FQDNs included', () => {
    expect(standbyArgv('blade-07.shelf_a.example.com', true)[2]).toBe('blade-07.shelf_a.example.com');
  });

  it('rejects a health value other than green, yellow or red, and a bad fencing timeout', () => {
    expect(catchAtcaError(() => healthArgv('#health-atca', 'node1', 'blue' as HealthValue)).code).toBe(
      'ATCA_ERR_BAD_OPTION',
    );
    expect(catchAtcaError(() => offlineHealthArgv('#health-atca', 'node1', 'RED' as HealthValue)).code).toBe(
      'ATCA_ERR_BAD_OPTION',
    );
    expect(catchAtcaError(() => healthArgv('-D', 'node1', 'red')).code).toBe('ATCA_ERR_BAD_OPTION');
    expect(catchAtcaError(() => fenceArgv('node1', 0)).code).toBe('ATCA_ERR_BAD_OPTION');
    expect(catchAtcaError(() => fenceArgv('node1', 1.5)).code).toBe('ATCA_ERR_BAD_OPTION');
  });
});

describe('classifyExit: exit codes and messages observed on 2.1.5', () => {
  it('0 is success', () => {
    expect(classifyExit('crm_attribute', 0, '')).toBeUndefined();
  });

  it.each([
    ['attrd_updater', 'attrd_updater: Could not update #health-atca=red: Connection refused (111)'],
    ['attrd_updater', 'attrd_updater: Could not connect to attrd: Connection refused'],
    ['crm_attribute', 'crm_attribute: Could not connect to the CIB: Transport endpoint is not connected'],
    ['stonith_admin', "stonith_admin: Couldn't fence node9: Transport endpoint is not connected"],
    ['stonith_admin', 'Could not connect to fencer: Transport endpoint is not connected'],
    ['crm_mon', 'error: Could not connect to launcher: Connection refused | crm_mon: Connection to cluster failed'],
  ] as const)('102 from %s (no cluster) is ATCA_ERR_PCMK_UNREACHABLE', (tool, message) => {
    const e = classifyExit(tool, 102, message);
    expect(e?.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
    expect(e?.message).toContain(message);
  });

  it('a CIB that cannot be reached is unreachable whatever the code (crm_attribute, missing CIB_file: 105)', () => {
    const e = classifyExit(
      'crm_attribute',
      105,
      'crm_attribute: Could not connect to the CIB: No such device or address',
    );
    expect(e?.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
  });

  it("124 is a timeout, with the fencer's reason", () => {
    const e = classifyExit(
      'stonith_admin',
      124,
      "stonith_admin: Couldn't fence node4: Timer expired (Fence agent did not complete within 10s)",
    );
    expect(e?.code).toBe('ATCA_ERR_PCMK_TIMEOUT');
    expect(e?.message).toContain('Fence agent did not complete within 10s');
  });

  it('105 from stonith_admin: no device can fence the target', () => {
    const e = classifyExit('stonith_admin', 105, "stonith_admin: Couldn't fence node2: No such device");
    expect(e?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(e?.detail).toBe(
      "stonith_admin exited 105 (no fence device can fence the target): stonith_admin: Couldn't fence node2: No such device",
    );
  });

  it('105 from crm_attribute: unknown node, or no node_state for a transient attribute', () => {
    expect(classifyExit('crm_attribute', 105, 'crm_attribute: Could not map name=node9 to a UUID')?.detail).toBe(
      'crm_attribute exited 105 (no such node or attribute): crm_attribute: Could not map name=node9 to a UUID',
    );
    const noState = toolMessage(
      '',
      'Error setting #health-atca=red (section=status, set=status-3): No such device or address\ncrm_attribute: Error performing operation: No such device or address\n',
    );
    const e = classifyExit('crm_attribute', 105, noState);
    expect(e?.code).toBe('ATCA_ERR_PCMK_FAILED');
    expect(e?.message).toContain('Error setting #health-atca=red (section=status, set=status-3)');
  });

  it('64 (usage), 4 (permission), 1 and anything else are failures carrying the message', () => {
    expect(
      classifyExit('stonith_admin', 64, 'stonith_admin: Invalid option: -o dummy: Operation not permitted'),
    ).toMatchObject({
      code: 'ATCA_ERR_PCMK_FAILED',
      detail: expect.stringContaining('usage error'),
    });
    expect(classifyExit('crm_attribute', 4, 'Insufficient privileges')?.detail).toContain('insufficient privileges');
    expect(classifyExit('stonith_admin', 1, 'agent said no')).toMatchObject({
      code: 'ATCA_ERR_PCMK_FAILED',
      detail: 'stonith_admin exited 1: agent said no',
    });
    expect(classifyExit('attrd_updater', 2, '')?.detail).toBe('attrd_updater exited 2');
  });

  it("a fence device's own connection trouble is not mistaken for Pacemaker being unreachable", () => {
    const e = classifyExit(
      'stonith_admin',
      1,
      "stonith_admin: Couldn't fence node2: Connection refused by shelf manager",
    );
    expect(e?.code).toBe('ATCA_ERR_PCMK_FAILED');
  });
});

describe('toolMessage', () => {
  it('prefers stderr, joined on one line', () => {
    expect(toolMessage('ignored', 'first\n\n  second  \n')).toBe('first | second');
  });

  it('reads the <error> lines of XML output when stderr is empty', () => {
    expect(toolMessage(HISTORY_NO_FENCER, '')).toBe('Could not connect to fencer: Transport endpoint is not connected');
    expect(toolMessage(CRM_MON_NO_CLUSTER, '')).toBe(
      'error: Could not connect to launcher: Connection refused | crm_mon: Connection to cluster failed: Connection refused',
    );
  });

  it('bounds what it keeps', () => {
    expect(toolMessage('', 'x'.repeat(2000)).length).toBeLessThanOrEqual(501);
  });
});

describe('parseFenceHistoryXml', () => {
  it('reads events newest first, with delegate, origin and the completion time as ISO 8601', () => {
    expect(parseFenceHistoryXml(HISTORY_NODE2)).toEqual([
      {
        action: 'reboot',
        target: 'node2',
        status: 'success',
        delegate: 'node1',
        origin: 'node1',
        client: 'stonith_admin.67',
        completed: '2026-11-25T20:41:27Z',
      },
      {
        action: 'reboot',
        target: 'node2',
        status: 'failed',
        origin: 'node1',
        client: 'stonith_admin.64',
        completed: '2026-11-25T20:41:27Z',
      },
    ]);
  });

  it('reads a pending event (no completion time) and a failure with its exit reason', () => {
    const [pending, failed] = parseFenceHistoryXml(HISTORY_PENDING);
    expect(pending).toMatchObject({ status: 'pending', target: 'node5' });
    expect(pending?.completed).toBeUndefined();
    expect(failed).toMatchObject({
      status: 'failed',
      exitReason: 'Fence agent did not complete within 3s',
      completed: '2026-11-25T20:41:48Z',
    });
  });

  it('an empty history is an empty list', () => {
    expect(parseFenceHistoryXml(HISTORY_EMPTY)).toEqual([]);
  });

  it('a result with a non-zero status is an error, classified like the exit code', () => {
    const e = catchAtcaError(() => parseFenceHistoryXml(HISTORY_NO_FENCER));
    expect(e.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
  });

  it('output without a fencing history list is an error, not "no events"', () => {
    expect(catchAtcaError(() => parseFenceHistoryXml('0 events found\n')).code).toBe('ATCA_ERR_PCMK_FAILED');
  });

  it('an unknown status is kept as unknown rather than read as success', () => {
    const xml = HISTORY_EMPTY.replace(
      '<list name="fencing history" count="0"/>',
      '<list name="fencing history" count="1"><fence_event action="off" target="n" status="weird"/></list>',
    );
    expect(parseFenceHistoryXml(xml)).toEqual([{ action: 'off', target: 'n', status: 'unknown' }]);
  });
});

describe('parseCrmMonNodes', () => {
  it('reads name, id, online, standby, unclean and the health the scheduler sees from an offline CIB', () => {
    const nodes = parseCrmMonNodes(CRM_MON_OFFLINE);
    expect(nodes.map(({ health: _h, ...n }) => n)).toEqual([
      { name: 'node1', id: '1', online: true, standby: false, unclean: false, type: 'member' },
      { name: 'node2', id: '2', online: true, standby: true, unclean: false, type: 'member' },
      { name: 'node3', id: '3', online: false, standby: false, unclean: false, type: 'member' },
    ]);
    expect(nodes[0]?.health).toBe('green');
    // A value that is no health is not taken as one.
    expect(parseCrmMonNodes(CRM_MON_OFFLINE.replace('health="green"', 'health="purple"'))[0]?.health).toBeUndefined();
    expect(parseCrmMonNodes(CRM_MON_OFFLINE.replace('health="green"', 'health="red"'))[0]?.health).toBe('red');
  });

  it('reads the live one-node cluster', () => {
    expect(parseCrmMonNodes(CRM_MON_LIVE)).toMatchObject([
      { name: 'node1', id: '1', online: true, standby: false, unclean: false, type: 'member' },
    ]);
  });

  it('counts only the <nodes> list, not the nodes named under resources or history', () => {
    expect(parseCrmMonNodes(CRM_MON_WITH_RESOURCES).map((n) => n.name)).toEqual(['node1']);
  });

  it('an empty node list is empty', () => {
    expect(parseCrmMonNodes('<pacemaker-result><nodes/><status code="0" message="OK"/></pacemaker-result>')).toEqual(
      [],
    );
  });

  it('no cluster (status 102) is unreachable', () => {
    expect(catchAtcaError(() => parseCrmMonNodes(CRM_MON_NO_CLUSTER)).code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
  });

  it('a missing CIB file (exit 0, status OK, but no <nodes>) is an error, not an empty cluster', () => {
    const e = catchAtcaError(() => parseCrmMonNodes(CRM_MON_NO_FILE));
    expect(e.code).toBe('ATCA_ERR_PCMK_UNREACHABLE');
    expect(e.message).toContain('Could not connect to the CIB');
  });

  it('decodes XML entities in names', () => {
    const xml = '<nodes><node name="a&amp;b&#45;&#x63;" id="9" online="false"/></nodes>';
    expect(parseCrmMonNodes(xml)).toEqual([
      { name: 'a&b-c', id: '9', online: false, standby: false, unclean: false, type: 'member' },
    ]);
  });
});

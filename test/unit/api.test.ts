// atcad's HTTP API: every route through app.inject() and, for the stream and bind address, a
// real socket. The backend is a fake of atcad's internals (a model, alarms, maintenance
// switches) over a real journal (SQLite in a temporary folder): the API's own behaviour is
// under test here; test/integration/operators-view.test.ts runs it in a real atcad against the
// simulated shelf.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AlarmView, ApiBackend, StatusView } from '../../src/api/backend.js';
import * as S from '../../src/api/schemas.js';
import { buildApi } from '../../src/api/server.js';
import { refuseStream } from '../../src/api/stream.js';
import { parseTokens } from '../../src/api/tokens.js';
import { ERRORS } from '../../src/errors.js';
import { Journal } from '../../src/journal/journal.js';
import type { ModelView, SlotView } from '../../src/shelf/model.js';

const TOKEN = 'tok-ops-0123456789abcdef';
const { tokens } = parseTokens(`# operators\nalice ${TOKEN}\nbob tok-bob-0123456789abcdef\n`);

const slot = (n: number, over: Partial<SlotView> = {}): SlotView => ({
  slot: n,
  node: `node${n}`,
  clusterMember: true,
  maintenance: false,
  ipmb: 0x80 + 2 * n,
  hotswap: 'M4',
  health: 'green',
  standby: false,
  reasons: [],
  pending: undefined,
  inFlight: undefined,
  sensors: [
    {
      number: 1,
      name: `Temp Slot${n}`,
      type: 1,
      value: 40,
      unit: '°C',
      status: [],
      thresholds: { UNC: 70, UC: 80, UNR: 90 },
      at: 1000,
      error: undefined,
    },
  ],
  ...over,
});

let dir: string;
let journal: Journal;
let app: FastifyInstance;
let model: ModelView;
const calls: string[] = [];
let alarms: AlarmView[];

function backend(): ApiBackend {
  const status: StatusView = {
    version: '0.1.0',
    startedAt: 1000,
    uptimeSeconds: 5,
    mode: 'dry-run',
    traps: { received: 3, accepted: 2, badAuth: 1, kernelDrops: 0 },
    shelfManagers: [{ shelf: 's1', up: true, peer: '127.0.0.1:623' }],
    polls: [],
    engine: {
      queued: 0,
      dropped: 0,
      steps: 1,
      journalFailures: 0,
      blockedSince: null,
      unsavedResults: 0,
      lastDecisionAt: null,
    },
    journal: {
      open: true,
      path: '/x',
      sizeBytes: 1,
      queuedEvents: 0,
      droppedEvents: 0,
      writeErrors: 0,
      lastWriteAt: null,
      lastError: null,
      failingSince: null,
      lowSpaceSince: null,
    },
  };
  return {
    version: '0.1.0',
    now: () => Date.now(),
    model: () => model,
    status: () => status,
    journal: () => (journal.isOpen ? journal.read : undefined),
    slotOfNode: (node) => (node === 'node2' ? { shelf: 's1', slot: 2 } : undefined),
    alarms: () => alarms,
    setMaintenance: (shelf, n, on, by, reason) => {
      if (shelf !== 's1' || n > 3) return 'no-slot';
      if (n === 3 && !on) return 'configured';
      calls.push(`maintenance ${shelf}/${n} ${on} ${by} ${reason}`);
      return 'accepted';
    },
    pollNow: (shelf, by) => {
      calls.push(`poll ${shelf} ${by}`);
      return shelf === 's1';
    },
    ack: (shelf, n, fault, by, reason) => {
      calls.push(`ack ${shelf}/${n} ${fault} ${by} ${reason}`);
      return true;
    },
    readiness: () => (journal.isOpen ? [] : ['the journal is not open']),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'atcad_up 1\n' }),
    sensorHistory: () => [
      [1000, 40],
      [2000, 41],
    ],
  };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'api-'));
  journal = new Journal(join(dir, 'j.sqlite')).open();
  model = {
    shelves: [
      { name: 's1', shelfManager: { up: true, peer: '127.0.0.1:623' }, slots: [slot(3), slot(1), slot(2)] },
      { name: 's2', shelfManager: { up: undefined, peer: undefined }, slots: [] },
    ],
  };
  alarms = [];
  calls.length = 0;
  app = buildApi({ backend: backend(), tokens, streamIntervalMs: 20, cacheMs: 0 });
  await app.ready();
});

afterEach(async () => {
  await app.close();
  journal.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (url: string) => app.inject({ method: 'GET', url });
const post = (url: string, body: unknown, token?: string) =>
  app.inject({
    method: 'POST',
    url,
    payload: body as Record<string, unknown>,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

function seed(): void {
  for (let i = 1; i <= 5; i++) {
    journal.appendEvent({
      at: i * 100,
      shelf: 's1',
      slot: (i % 3) + 1,
      source: i % 2 ? 'trap' : 'poll',
      kind: 'hotswap',
      understood: true,
      body: { i },
    });
  }
  journal.flush();
  journal.commit(
    [
      {
        at: 150,
        slot: 's1/2',
        kind: 'set-health',
        node: 'node2',
        reason: 'temperature-critical confirmed by a fresh reading',
        evidence: [{ source: 'trap', at: 140, summary: 'Temp UC' }],
        body: { kind: 'set-health', value: 'red' },
        action: { kind: 'health', node: 'node2', value: 'red' },
      },
      {
        at: 160,
        slot: 's1/10',
        kind: 'record',
        reason: 'processor-ierr: slot is in maintenance, no action',
        evidence: [],
        body: { kind: 'record' },
      },
      {
        at: 170,
        slot: 's10/2',
        kind: 'confirm',
        node: 'node9',
        reason: 'read afresh',
        evidence: [],
        body: { kind: 'confirm', fault: 'watchdog-expired' },
      },
    ],
    'os',
  );
}

describe('api: the shelves and a slot', () => {
  it('lists every shelf with its shelf manager and its slots in physical order', async () => {
    const r = await get('/api/v1/shelves');
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.map((s: { name: string }) => s.name)).toEqual(['s1', 's2']);
    expect(body[0].slots.map((s: { slot: number }) => s.slot)).toEqual([1, 2, 3]);
    expect(body[0].shelfManager).toEqual({ up: true, peer: '127.0.0.1:623', managers: [] });
    expect(body[1].shelfManager).toEqual({ up: null, peer: null, managers: [] });
    // Sent as text built once per build: what the schema documents all the same.
    expect(z.array(S.shelf).safeParse(body).success).toBe(true);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
  });

  it('/api/v1/shelves and /metrics are built at most once per cacheMs', async () => {
    let builds = 0;
    const b = backend();
    const cached = buildApi({
      backend: {
        ...b,
        model: () => {
          builds++;
          return model;
        },
      },
      tokens,
      cacheMs: 60_000,
    });
    const first = (await cached.inject({ method: 'GET', url: '/api/v1/shelves' })).body;
    (model.shelves[0] as { shelfManager: unknown }).shelfManager = { up: false, peer: undefined };
    expect((await cached.inject({ method: 'GET', url: '/api/v1/shelves' })).body).toBe(first);
    expect(builds).toBe(1);
    await cached.close();
  });

  it('one slot: IPMC address, sensors with thresholds, reasons with evidence, alarms', async () => {
    (model.shelves[0]!.slots as SlotView[])[1] = slot(1, {
      health: 'red',
      reasons: [
        {
          fault: 'temperature-critical',
          since: 10,
          confirmed: true,
          evidence: [{ source: 'trap', at: 10, summary: 'Temp UC' }],
        },
      ],
      pending: { action: 'fence', fault: 'temperature-critical' },
    });
    alarms = [
      {
        id: 's1:1:temperature-critical',
        shelf: 's1',
        slot: 1,
        node: 'node1',
        fault: 'temperature-critical',
        since: 10,
        confirmed: true,
        acknowledged: null,
      },
    ];
    const r = await get('/api/v1/shelves/s1/slots/1');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      ipmb: '0x82',
      health: 'red',
      reasons: [{ fault: 'temperature-critical', evidence: [{ source: 'trap', summary: 'Temp UC' }] }],
      sensors: [{ name: 'Temp Slot1', value: 40, unit: '°C', thresholds: { UNC: 70, UC: 80, UNR: 90 } }],
      pending: { action: 'fence' },
      alarms: [{ id: 's1:1:temperature-critical' }],
    });
  });

  it('a slot or shelf not in the configuration: 404 with a stable code', async () => {
    for (const url of ['/api/v1/shelves/s1/slots/9', '/api/v1/shelves/nope/slots/1', '/api/v1/nothing']) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(404);
      expect(r.json().code).toBe('ATCA_ERR_API_NOT_FOUND');
    }
  });

  it('bad path parameters: 400 naming the field', async () => {
    const r = await get('/api/v1/shelves/s1/slots/17');
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'ATCA_ERR_API_BAD_REQUEST', fields: [{ field: 'params.slot' }] });
    const bad = await get('/api/v1/shelves/s%20x/slots/1');
    expect(bad.json().fields[0].field).toBe('params.shelf');
  });

  it("a sensor's recent readings", async () => {
    expect((await get('/api/v1/shelves/s1/slots/1/sensors/1/history')).json()).toEqual({
      points: [
        [1000, 40],
        [2000, 41],
      ],
    });
    expect((await get('/api/v1/shelves/s1/slots/1/sensors/9/history')).statusCode).toBe(404);
  });
});

describe('api: the journal, filtered and paged', () => {
  it('events newest first, by shelf, slot, source, node and time, with a cursor', async () => {
    seed();
    const all = (await get('/api/v1/events')).json();
    expect(all.items.map((e: { at: number }) => e.at)).toEqual([500, 400, 300, 200, 100]);
    expect(all.next).toBeNull();
    const p1 = (await get('/api/v1/events?limit=2')).json();
    expect(p1.items.map((e: { at: number }) => e.at)).toEqual([500, 400]);
    const p2 = (await get(`/api/v1/events?limit=2&cursor=${p1.next}`)).json();
    expect(p2.items.map((e: { at: number }) => e.at)).toEqual([300, 200]);
    const p3 = (await get(`/api/v1/events?limit=2&cursor=${p2.next}`)).json();
    expect(p3.items.map((e: { at: number }) => e.at)).toEqual([100]);
    expect(p3.next).toBeNull();
    expect((await get('/api/v1/events?source=poll')).json().items.map((e: { at: number }) => e.at)).toEqual([400, 200]);
    expect((await get('/api/v1/events?slot=2')).json().items.map((e: { at: number }) => e.at)).toEqual([400, 100]);
    expect((await get('/api/v1/events?node=node2')).json().items.map((e: { at: number }) => e.at)).toEqual([400, 100]);
    expect((await get('/api/v1/events?node=nobody')).json().items).toEqual([]);
    expect((await get('/api/v1/events?since=200&until=400')).json().items).toHaveLength(3);
    expect((await get('/api/v1/events?shelf=s2')).json().items).toEqual([]);
  });

  it('decisions with their evidence: by slot (not a prefix of another), node, kind, fault, severity', async () => {
    seed();
    const bySlot = (await get('/api/v1/decisions?shelf=s1&slot=2')).json();
    expect(bySlot.items).toHaveLength(1);
    expect(bySlot.items[0]).toMatchObject({
      shelf: 's1',
      slot: 2,
      node: 'node2',
      evidence: [{ source: 'trap', at: 140, summary: 'Temp UC' }],
    });
    // "s1" is not a prefix match of "s10", and slot 2 not of slot 12.
    expect((await get('/api/v1/decisions?shelf=s1')).json().items.map((d: { slot: number }) => d.slot)).toEqual([
      10, 2,
    ]);
    expect((await get('/api/v1/decisions?slot=2')).json().items).toHaveLength(2);
    expect((await get('/api/v1/decisions?node=node9')).json().items).toHaveLength(1);
    expect((await get('/api/v1/decisions?kind=record')).json().items).toHaveLength(1);
    expect((await get('/api/v1/decisions?fault=temperature-critical')).json().items).toHaveLength(1);
    expect((await get('/api/v1/decisions?fault=processor-ierr')).json().items).toHaveLength(1);
    expect((await get('/api/v1/decisions?fault=watchdog-expired')).json().items).toHaveLength(1);
    expect((await get('/api/v1/decisions?severity=red')).json().items).toHaveLength(1);
    expect((await get('/api/v1/decisions?severity=yellow')).json().items).toHaveLength(0);
  });

  it('actions with their status and value', async () => {
    seed();
    const r = (await get('/api/v1/actions?kind=health&status=started')).json();
    expect(r.items).toMatchObject([{ kind: 'health', status: 'started', value: 'red', node: 'node2', slot: 2 }]);
    expect((await get('/api/v1/actions?status=failed')).json().items).toEqual([]);
  });

  it.each([
    ['/api/v1/events?limit=0', 'querystring.limit'],
    ['/api/v1/events?limit=1001', 'querystring.limit'],
    ['/api/v1/events?cursor=abc', 'querystring.cursor'],
    ['/api/v1/events?since=yesterday', 'querystring.since'],
    ['/api/v1/events?source=carrier-pigeon', 'querystring.source'],
    ['/api/v1/events?colour=red', 'querystring.colour'],
    ['/api/v1/decisions?fault=bad-luck', 'querystring.fault'],
    ['/api/v1/decisions?severity=purple', 'querystring.severity'],
    ['/api/v1/actions?status=maybe', 'querystring.status'],
  ])('bad filter %s: 400 naming %s', async (url, field) => {
    const r = await get(url);
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(body.code).toBe('ATCA_ERR_API_BAD_REQUEST');
    expect(body.fields.map((f: { field: string }) => f.field)).toContain(field);
  });

  it('the journal closed: 503, and /readyz says why', async () => {
    journal.close();
    const r = await get('/api/v1/events');
    expect(r.statusCode).toBe(503);
    expect(r.json().code).toBe('ATCA_ERR_API_UNAVAILABLE');
    const ready = await get('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, problems: ['the journal is not open'] });
    expect((await get('/healthz')).statusCode).toBe(200);
  });
});

describe('api: routes that change something need a token', () => {
  const routes: [string, unknown][] = [
    ['/api/v1/shelves/s1/slots/2/maintenance', { enabled: true, reason: 'swap the RTM' }],
    ['/api/v1/shelves/s1/poll', {}],
    ['/api/v1/alarms/s1:2:temperature-critical/ack', { reason: 'seen, on it' }],
  ];

  it.each(routes)(
    '%s: none or a wrong one is 401 (nothing done); the right one acts, with its name',
    async (url, body) => {
      alarms = [
        {
          id: 's1:2:temperature-critical',
          shelf: 's1',
          slot: 2,
          node: 'node2',
          fault: 'temperature-critical',
          since: 1,
          confirmed: true,
          acknowledged: null,
        },
      ];
      const none = await post(url, body);
      expect(none.statusCode).toBe(401);
      expect(none.json().code).toBe('ATCA_ERR_API_UNAUTHORIZED');
      expect(none.headers['www-authenticate']).toMatch(/Bearer/);
      const wrong = await post(url, body, 'tok-ops-0123456789abcdeX');
      expect(wrong.statusCode).toBe(401);
      // The token given is never echoed.
      expect(wrong.body).not.toContain('tok-ops');
      expect(calls).toEqual([]);
      const right = await post(url, body, TOKEN);
      expect(right.statusCode).toBe(202);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toContain('alice');
    },
  );

  it('maintenance needs its reason and a boolean; unknown fields are refused, naming them', async () => {
    const url = '/api/v1/shelves/s1/slots/2/maintenance';
    const cases: [unknown, string][] = [
      [{ enabled: true }, 'body.reason'],
      [{ enabled: true, reason: '   ' }, 'body.reason'],
      [{ enabled: 'yes', reason: 'x' }, 'body.enabled'],
      [{ enabled: true, reason: 'x', force: true }, 'body.force'],
    ];
    for (const [body, field] of cases) {
      const r = await post(url, body, TOKEN);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().fields.map((f: { field: string }) => f.field)).toContain(field);
    }
    const notJson = await app.inject({
      method: 'POST',
      url,
      payload: '{"enabled": tru',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().code).toBe('ATCA_ERR_API_BAD_REQUEST');
    expect(calls).toEqual([]);
  });

  it('ending a maintenance the configuration holds is a 409, and nothing is asked', async () => {
    const floor = await post('/api/v1/shelves/s1/slots/3/maintenance', { enabled: false, reason: 'x' }, TOKEN);
    expect(floor.statusCode).toBe(409);
    expect(floor.json().code).toBe('ATCA_ERR_API_CONFLICT');
    expect(calls).toEqual([]);
  });

  it('a slot, shelf or alarm that does not exist: 404 (authenticated)', async () => {
    expect(
      (await post('/api/v1/shelves/s1/slots/9/maintenance', { enabled: true, reason: 'x' }, TOKEN)).statusCode,
    ).toBe(404);
    expect((await post('/api/v1/shelves/nope/poll', {}, TOKEN)).statusCode).toBe(404);
    expect((await post('/api/v1/alarms/s1:1:none/ack', { reason: 'x' }, TOKEN)).statusCode).toBe(404);
  });

  it('wrong tokens are limited per address (the 11th in a minute is 429); a valid token still works', async () => {
    const url = '/api/v1/shelves/s1/poll';
    for (let i = 0; i < 10; i++) expect((await post(url, {}, `wrong-token-${i}-0123456789`)).statusCode).toBe(401);
    const limited = await post(url, {}, 'wrong-token-again-0123456789');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('ATCA_ERR_API_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // The operator sharing the address is not locked out; no token at all is a 401, not a guess.
    expect((await post(url, {}, TOKEN)).statusCode).toBe(202);
    expect((await post(url, {})).statusCode).toBe(401);
    // Reads need no token and are not limited.
    expect((await get('/api/v1/shelves')).statusCode).toBe(200);
  });

  it('with no tokens configured the API is read-only, and says so', async () => {
    const ro = buildApi({ backend: backend(), tokens: [] });
    const r = await ro.inject({ method: 'POST', url: '/api/v1/shelves/s1/poll', payload: {} });
    expect(r.statusCode).toBe(401);
    expect(r.json().message).toMatch(/read-only/);
    await ro.close();
  });
});

describe('api: status, metrics, OpenAPI', () => {
  it('status and metrics', async () => {
    expect((await get('/api/v1/status')).json()).toMatchObject({ version: '0.1.0', mode: 'dry-run' });
    const m = await get('/metrics');
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.body).toBe('atcad_up 1\n');
  });

  it('the OpenAPI document is valid and documents every route the API serves', async () => {
    const doc = (await get('/api/v1/openapi.json')).json();
    await SwaggerParser.validate(structuredClone(doc));
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const served = app.printRoutes({ commonPrefix: false }).split('\n').filter(Boolean);
    expect(served.length).toBeGreaterThan(0);
    for (const r of [
      'GET /readyz',
      'GET /api/v1/shelves',
      'GET /api/v1/shelves/:shelf/slots/:slot',
      'GET /api/v1/shelves/:shelf/slots/:slot/sensors/:sensor/history',
      'GET /api/v1/events',
      'GET /api/v1/decisions',
      'GET /api/v1/actions',
      'GET /api/v1/alarms',
      'GET /api/v1/status',
      'GET /api/v1/stream',
      'POST /api/v1/shelves/:shelf/slots/:slot/maintenance',
      'POST /api/v1/shelves/:shelf/poll',
      'POST /api/v1/alarms/:id/ack',
    ])
      expect(documented).toContain(r);
    // Every documented route answers (not the 404 handler).
    for (const d of documented.filter((x) => x.startsWith('GET') && !x.includes(':') && !x.endsWith('/stream'))) {
      const r = await get(d.slice(4));
      expect(r.json().code, d).not.toBe('ATCA_ERR_API_NOT_FOUND');
    }
    // Each error code the API answers with is in the catalogue.
    for (const c of ['ATCA_ERR_API_BAD_REQUEST', 'ATCA_ERR_API_UNAUTHORIZED', 'ATCA_ERR_API_NOT_FOUND'])
      expect(ERRORS).toHaveProperty(c);
  });
});

describe('api: the live stream over a real socket', () => {
  async function listen(): Promise<number> {
    await app.listen({ host: '127.0.0.1', port: 0 });
    return (app.server.address() as AddressInfo).port;
  }

  /** Reads the stream until `enough` says so; resolves with the text read. */
  function readStream(port: number, headers: Record<string, string>, enough: (t: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/v1/stream', headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (enough(text)) {
            req.destroy();
            resolve(text);
          }
        });
        // The server ended it: what came so far.
        res.on('close', () => resolve(text));
      });
      req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(e)));
      req.setTimeout(5000, () => reject(new Error('stream: nothing in 5 s')));
      req.end();
    });
  }

  it('sends journaled rows as they land, slot changes, and resumes from Last-Event-ID', async () => {
    const port = await listen();
    const first = readStream(port, {}, (t) => t.includes('event: decision') && t.includes('event: slot'));
    await new Promise((r) => setTimeout(r, 100));
    seed();
    (model.shelves[0]!.slots as SlotView[])[1] = slot(1, { health: 'yellow' });
    const text = await first;
    expect(text).toMatch(/^retry: 2000\nid: e0\.d0\.a0\n/);
    expect(text).toContain('"reason":"temperature-critical confirmed by a fresh reading"');
    expect(text).toMatch(/event: slot\ndata: \{"shelf":"s1","slot":1,[^\n]*"health":"yellow"/);
    const ids = [...text.matchAll(/^id: (e\d+\.d\d+\.a\d+)$/gm)].map((m) => m[1]);
    const last = ids.at(-1)!;
    expect(last).toBe('e5.d3.a1');
    // Rows journaled while the client was away are sent on reconnect, and nothing before them.
    journal.appendEvent({ at: 900, shelf: 's1', slot: 1, source: 'poll', kind: 'sensor', understood: true, body: {} });
    journal.flush();
    const resumed = await readStream(port, { 'last-event-id': last }, (t) => t.includes('event: event'));
    expect(resumed).toContain('"at":900');
    expect(resumed).not.toContain('"at":500');
    // An action's outcome is sent when it lands.
    const actionId = journal.read.actions(1)[0]!.id;
    const outcome = readStream(port, { 'last-event-id': 'e6.d3.a0' }, (t) => t.includes('"status":"succeeded"'));
    await new Promise((r) => setTimeout(r, 100));
    journal.completeAction(actionId, { status: 'succeeded', at: 1000, exitCode: 0 }, 'os');
    expect(await outcome).toContain('"status":"succeeded"');
  });

  it('an outcome that lands while the client is away is sent when it resumes', async () => {
    const port = await listen();
    seed();
    const head = `e5.d3.a${journal.read.actions(1)[0]!.id}`;
    journal.completeAction(journal.read.actions(1)[0]!.id, { status: 'succeeded', at: 1000, exitCode: 0 }, 'os');
    const resumed = await readStream(port, { 'last-event-id': head }, (t) => t.includes('"status":"succeeded"'));
    expect(resumed).toMatch(/event: action\ndata: \{[^\n]*"status":"succeeded"/);
  });

  it('a fence going from started to uncertain reaches every client that saw it started, resumed or not', async () => {
    const port = await listen();
    seed();
    const id = journal.read.actions(1)[0]!.id;
    // One client connected now (the action is started), one that will resume from before it.
    const live = readStream(port, {}, (t) => t.includes('"status":"uncertain"'));
    await new Promise((r) => setTimeout(r, 100));
    journal.completeAction(id, { status: 'uncertain', at: 1000, note: 'timed out' }, 'os');
    expect(await live).toMatch(/event: action\n(id: [^\n]*\n)?data: \{[^\n]*"status":"uncertain"/);
    const resumed = await readStream(port, { 'last-event-id': `e5.d3.a${id}` }, (t) =>
      t.includes('"status":"uncertain"'),
    );
    expect(resumed).toContain('"status":"uncertain"');
  });

  it('stopping the API with streams open does not wait for them', async () => {
    const port = await listen();
    const open = readStream(port, {}, () => false).catch(() => 'closed');
    await new Promise((r) => setTimeout(r, 100));
    const closed = await Promise.race([
      app.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000)),
    ]);
    expect(closed).toBe('closed');
    await open;
  });

  it('streams: 200 in all, 10 per address, loopback (every local user, tunnel and proxy) bound by the total only', async () => {
    expect(refuseStream(200, 0, '10.0.0.1')).toMatch(/200 streams are open/);
    expect(refuseStream(20, 10, '10.0.0.1')).toMatch(/10 streams are open from 10.0.0.1/);
    expect(refuseStream(20, 9, '10.0.0.1')).toBeUndefined();
    for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(refuseStream(20, 15, ip)).toBeUndefined();
    // Over a real socket from loopback: an eleventh is served.
    const port = await listen();
    const streams = Array.from({ length: 11 }, () => readStream(port, {}, (t) => t.includes(': connected')));
    expect((await Promise.all(streams)).every((t) => t.includes(': connected'))).toBe(true);
  });

  it('a Last-Event-ID it never sent is a 400; the journal closed is a 503', async () => {
    const bad = await app.inject({ method: 'GET', url: '/api/v1/stream', headers: { 'last-event-id': 'zzz' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().fields[0].field).toBe('headers.last-event-id');
    journal.close();
    expect((await get('/api/v1/stream')).statusCode).toBe(503);
  });
});

describe('api tokens', () => {
  it('parses name/token lines; refuses short, duplicate and malformed lines without printing a token', () => {
    const r = parseTokens('alice xq7\nbob tok-0123456789abcdef\nbob tok-fedcba9876543210\nnot a line here\n');
    expect(r.tokens.map((t) => t.name)).toEqual(['bob']);
    expect(r.problems).toHaveLength(3);
    expect(r.problems.join(' ')).not.toMatch(/xq7|tok-/);
    expect(parseTokens('# nothing\n\n').problems).toEqual(['no token in the file']);
  });
});

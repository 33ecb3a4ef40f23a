import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AtcaError, ERRORS, type ErrorCode } from '../errors.js';
import type { ActionRow, DecisionRecord, EventRow, JournalFilter } from '../journal/read-model.js';
import type { SlotView } from '../shelf/model.js';
import type { ApiBackend } from './backend.js';
import { dashboardRoutes } from './dashboard.js';
import { FreshCache } from './fresh-cache.js';
import { parseCursorId } from './journal-tail.js';
import * as S from './schemas.js';
import { EventStream, refuseStream } from './stream.js';
import { AuthFailures, bearerOf, type TokenEntry, tokenName } from './tokens.js';
import { nullish } from './values.js';

export interface ApiOptions {
  readonly backend: ApiBackend;
  readonly tokens: readonly TokenEntry[];
  readonly https?: { readonly cert: string; readonly key: string } | undefined;
  /** How often the live stream reads the journal's tail. */
  readonly streamIntervalMs?: number;
  /** How stale /api/v1/shelves and /metrics may be (ms; default 250). */
  readonly cacheMs?: number;
  /** Where request errors go (never with a token or a body). */
  readonly log?: (msg: string) => void;
}

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  ATCA_ERR_API_BAD_REQUEST: 400,
  ATCA_ERR_API_UNAUTHORIZED: 401,
  ATCA_ERR_API_NOT_FOUND: 404,
  ATCA_ERR_API_CONFLICT: 409,
  ATCA_ERR_API_RATE_LIMITED: 429,
  ATCA_ERR_API_UNAVAILABLE: 503,
};

function send(reply: FastifyReply, code: ErrorCode, detail = '', fields?: { field: string; problem: string }[]) {
  const e = new AtcaError(code, detail);
  return reply
    .code(HTTP_STATUS[code] ?? 500)
    .type('application/json')
    .send({ code, message: e.message, ...(fields ? { fields } : {}) });
}

const ERROR_RESPONSES = {
  400: S.errorBody,
  401: S.errorBody,
  404: S.errorBody,
  429: S.errorBody,
  503: S.errorBody,
};

/** "shelf/slot" (decisions' and actions' key) as its two parts. */
function splitKey(key: string): { shelf: string; slot: number } {
  const i = key.lastIndexOf('/');
  return { shelf: key.slice(0, i), slot: Number(key.slice(i + 1)) };
}

function eventOut(r: EventRow) {
  return { ...r, shelf: nullish(r.shelf), slot: nullish(r.slot) };
}
function decisionOut(r: DecisionRecord) {
  return { ...r, ...splitKey(r.slot), node: nullish(r.node), evidence: r.evidence as S.Evidence[] };
}
function actionOut(r: ActionRow) {
  return { ...r, ...splitKey(r.slot), command: r.command ? [...r.command] : null };
}

function summary(shelf: string, v: SlotView) {
  return {
    shelf,
    slot: v.slot,
    node: v.node,
    clusterMember: nullish(v.clusterMember),
    maintenance: v.maintenance,
    hotswap: v.hotswap,
    health: v.health,
    standby: v.standby,
    reasons: v.reasons.map((r) => r.fault),
  };
}

/**
 * atcad's HTTP API (docs/api.md): fastify with zod schemas as the one source of validation,
 * types and the OpenAPI document. Built without I/O: the caller listens. Reads are open to
 * whoever can reach the address (127.0.0.1 by default); every route that changes something
 * needs a bearer token, and failed authentications are limited per client address.
 */
export function buildApi(o: ApiOptions): FastifyInstance {
  const { backend } = o;
  const app = Fastify({
    logger: false,
    // Bodies are small: a maintenance reason.
    bodyLimit: 16 * 1024,
    // Keep-alive connections are closed at stop too, not waited for.
    forceCloseConnections: true,
    ...(o.https ? { https: { cert: o.https.cert, key: o.https.key } } : {}),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const failures = new AuthFailures();
  // The summary is serialised here, once per build (a string is sent as it is): the schema
  // documents it, and a test checks the cached text against it.
  const shelvesCache = new FreshCache(
    () =>
      JSON.stringify(
        backend.model().shelves.map((s) => ({
          name: s.name,
          shelfManager: {
            up: nullish(s.shelfManager.up),
            peer: nullish(s.shelfManager.peer),
            managers: (s.shelfManager.managers ?? []).map((m) => ({
              name: m.name,
              state: m.state as 'answering' | 'answered' | 'failed' | 'not tried',
              at: nullish(m.at),
              error: nullish(m.error),
            })),
          },
          slots: [...s.slots].sort((a, b) => a.slot - b.slot).map((v) => summary(s.name, v)),
        })),
      ),
    o.cacheMs ?? 250,
  );
  const metricsCache = new FreshCache(() => backend.metrics(), o.cacheMs ?? 250);
  const stream = new EventStream(backend, o.streamIntervalMs);
  // Before the server closes: it waits for every connection, and an event stream never ends
  // by itself (a stop must not hang on an open dashboard).
  app.addHook('preClose', async () => stream.close());

  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'atcad',
        version: backend.version,
        description:
          "atcad's view of its ATCA shelves: slots, sensors, health and its reasons, and the journal of every event, decision and action.",
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token of api.tokens' } },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'request';
      const fields = err.validation.map((v) => {
        const path = v.instancePath.replace(/^\//, '').replace(/\//g, '.');
        const keys = (v.params as { keys?: string[] } | undefined)?.keys;
        const field = keys?.length
          ? `${where}${path ? `.${path}` : ''}.${keys.join(',')}`
          : `${where}${path ? `.${path}` : ''}`;
        return { field, problem: v.message ?? 'not valid' };
      });
      return send(reply, 'ATCA_ERR_API_BAD_REQUEST', fields.map((f) => `${f.field}: ${f.problem}`).join('; '), fields);
    }
    if (err.statusCode === 400 || err.statusCode === 413 || err.statusCode === 415) {
      // Unparsable JSON, a body too large, a wrong content type: fastify's own wording, no body echoed.
      return send(reply, 'ATCA_ERR_API_BAD_REQUEST', err.message, [{ field: 'body', problem: err.message }]);
    }
    o.log?.(`api: ${req.method} ${req.routeOptions.url ?? req.url}: ${err.message}`);
    return reply.code(500).send({ code: 'ATCA_ERR_INTERNAL', message: ERRORS.ATCA_ERR_INTERNAL.message });
  });
  app.setNotFoundHandler((req, reply) =>
    send(reply, 'ATCA_ERR_API_NOT_FOUND', `${req.method} ${req.url.split('?')[0]} is not a route of this API`),
  );

  /** The caller's token name, or a reply sent (401, 429) and undefined. */
  /**
   * A valid token always works: one address's failures (every local user shares 127.0.0.1)
   * must not lock an operator out. Wrong tokens are counted per address, and past the limit
   * they are answered 429 so that a client guessing is slowed; a request with no token at
   * all is not a guess. Tokens are long (MIN_TOKEN_LENGTH and up): guessing is not the threat
   * the limit answers, a noisy client is.
   */
  function who(req: FastifyRequest, reply: FastifyReply): string | undefined {
    const now = backend.now();
    const addr = req.ip;
    const token = bearerOf(req.headers.authorization);
    const name = token === undefined ? undefined : tokenName(o.tokens, token);
    if (name !== undefined) return name;
    const wait = token === undefined ? 0 : failures.blockedFor(addr, now);
    if (wait > 0) {
      reply.header('retry-after', String(Math.ceil(wait / 1000)));
      send(reply, 'ATCA_ERR_API_RATE_LIMITED', `from ${addr}`);
      return undefined;
    }
    if (token !== undefined) failures.fail(addr, now);
    reply.header('www-authenticate', 'Bearer realm="atcad"');
    send(
      reply,
      'ATCA_ERR_API_UNAUTHORIZED',
      o.tokens.length === 0
        ? 'this atcad has no api.tokens: the API is read-only'
        : token === undefined
          ? 'no bearer token (Authorization: Bearer …)'
          : 'the token is not one of api.tokens',
    );
    return undefined;
  }

  function journalOr503(reply: FastifyReply) {
    const j = backend.journal();
    if (!j) send(reply, 'ATCA_ERR_API_UNAVAILABLE', 'the journal is not open');
    return j;
  }

  function filterOf(q: {
    shelf?: string | undefined;
    slot?: number | undefined;
    since?: number | undefined;
    until?: number | undefined;
    limit: number;
    cursor?: string | undefined;
  }): JournalFilter {
    return {
      shelf: q.shelf,
      slot: q.slot,
      since: q.since,
      until: q.until,
      limit: q.limit,
      before: q.cursor === undefined ? undefined : Number(q.cursor),
    };
  }

  const pageOf = <T extends { id: number }>(rows: T[], limit: number) => ({
    next: rows.length === limit ? String(rows.at(-1)!.id) : null,
  });

  app.after(() => {
    const r = app.withTypeProvider<ZodTypeProvider>();

    r.get('/healthz', { schema: { hide: true } }, async () => ({ alive: true }));
    r.get(
      '/readyz',
      {
        schema: { summary: 'ready: journal open, a shelf manager answered', response: { 200: S.ready, 503: S.ready } },
      },
      async (_req, reply) => {
        const problems = backend.readiness();
        return reply.code(problems.length ? 503 : 200).send({ ready: problems.length === 0, problems });
      },
    );

    r.get(
      '/api/v1/shelves',
      {
        schema: {
          summary: 'every shelf, its shelf managers, its slots in physical order',
          response: { 200: z.array(S.shelf) },
        },
      },
      // Already JSON (fastify sends a string as it is): the type provider expects the object.
      async (_req, reply) => reply.type('application/json; charset=utf-8').send((await shelvesCache.get()) as never),
    );

    r.get(
      '/api/v1/shelves/:shelf/slots/:slot',
      {
        schema: {
          summary: 'one slot: IPMC, hot-swap state, sensors, health with its reasons and evidence',
          params: S.slotParams,
          response: { 200: S.slotDetail, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const { shelf, slot } = req.params;
        const s = backend.model().shelves.find((x) => x.name === shelf);
        const v = s?.slots.find((x) => x.slot === slot);
        if (!s || !v)
          return send(reply, 'ATCA_ERR_API_NOT_FOUND', `no slot ${slot} on shelf ${shelf} in the configuration`);
        return {
          ...summary(shelf, v),
          ipmb: v.ipmb === undefined ? null : `0x${v.ipmb.toString(16).padStart(2, '0')}`,
          reasons: v.reasons.map((x) => ({ ...x, evidence: [...x.evidence] })),
          pending: nullish(v.pending),
          inFlight: nullish(v.inFlight),
          sensors: v.sensors.map((x) => ({
            ...x,
            value: nullish(x.value),
            unit: nullish(x.unit),
            status: [...x.status],
            thresholds: { ...x.thresholds },
            at: nullish(x.at),
            error: nullish(x.error),
          })),
          alarms: backend.alarms().filter((a) => a.shelf === shelf && a.slot === slot),
        };
      },
    );

    r.get(
      '/api/v1/shelves/:shelf/slots/:slot/sensors/:sensor/history',
      {
        schema: {
          summary: "a sensor's recent readings, oldest first (an in-memory ring)",
          params: S.sensorParams,
          response: { 200: S.sensorHistory, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const { shelf, slot, sensor } = req.params;
        const v = backend
          .model()
          .shelves.find((x) => x.name === shelf)
          ?.slots.find((x) => x.slot === slot);
        if (!v?.sensors.some((x) => x.number === sensor))
          return send(reply, 'ATCA_ERR_API_NOT_FOUND', `no sensor ${sensor} on ${shelf} slot ${slot}`);
        return { points: backend.sensorHistory(shelf, slot, sensor) };
      },
    );

    r.get(
      '/api/v1/events',
      {
        schema: {
          summary: 'journaled events, newest first',
          querystring: S.eventsQuery,
          response: { 200: S.eventsPage, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const j = journalOr503(reply);
        if (!j) return reply;
        const q = req.query;
        let f = { ...filterOf(q), kind: q.kind, source: q.source };
        if (q.node !== undefined) {
          const at = backend.slotOfNode(q.node);
          if (!at) return { items: [], next: null };
          if ((q.shelf !== undefined && q.shelf !== at.shelf) || (q.slot !== undefined && q.slot !== at.slot))
            return { items: [], next: null };
          f = { ...f, shelf: at.shelf, slot: at.slot };
        }
        const rows = j.events(f);
        return { items: rows.map(eventOut), ...pageOf(rows, q.limit) };
      },
    );

    r.get(
      '/api/v1/decisions',
      {
        schema: {
          summary: 'decisions with their evidence, newest first',
          querystring: S.decisionsQuery,
          response: { 200: S.decisionsPage, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const j = journalOr503(reply);
        if (!j) return reply;
        const q = req.query;
        // A node's decisions are its slot's: blocked fences, records and maintenance name the
        // slot, not the node.
        const at = q.node === undefined ? undefined : backend.slotOfNode(q.node);
        if (at && ((q.shelf !== undefined && q.shelf !== at.shelf) || (q.slot !== undefined && q.slot !== at.slot)))
          return { items: [], next: null };
        const rows = j.decisions({
          ...filterOf(q),
          ...(at ? { shelf: at.shelf, slot: at.slot } : { node: q.node }),
          kind: q.severity !== undefined ? 'set-health' : q.kind,
          fault: q.fault,
          value: q.severity,
        });
        if (q.severity !== undefined && q.kind !== undefined && q.kind !== 'set-health')
          return { items: [], next: null };
        return { items: rows.map(decisionOut), ...pageOf(rows, q.limit) };
      },
    );

    r.get(
      '/api/v1/actions',
      {
        schema: {
          summary: 'actions (health, standby, fence) with their command and outcome, newest first',
          querystring: S.actionsQuery,
          response: { 200: S.actionsPage, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const j = journalOr503(reply);
        if (!j) return reply;
        const q = req.query;
        const rows = j.actions({ ...filterOf(q), node: q.node, kind: q.kind, status: q.status });
        return { items: rows.map(actionOut), ...pageOf(rows, q.limit) };
      },
    );

    r.get(
      '/api/v1/alarms',
      { schema: { summary: 'active faults, acknowledged or not', response: { 200: z.array(S.alarm) } } },
      async () => backend.alarms(),
    );

    r.get(
      '/api/v1/status',
      { schema: { summary: 'atcad itself: traps, polls, journal, mode', response: { 200: S.status } } },
      async () => backend.status(),
    );

    r.get(
      '/api/v1/stream',
      {
        schema: {
          summary:
            'Server-Sent Events: event, decision, action (journal rows; the id resumes with Last-Event-ID) and slot (model changes)',
          querystring: z.object({ from: z.string().max(64).optional() }).strict(),
          response: { 400: S.errorBody, 503: S.errorBody },
        },
      },
      async (req, reply) => {
        const head = stream.head();
        if (!head) return send(reply, 'ATCA_ERR_API_UNAVAILABLE', 'the journal is not open');
        const refused = refuseStream(stream.size, stream.countOf(req.ip), req.ip);
        if (refused) return send(reply, 'ATCA_ERR_API_UNAVAILABLE', refused);
        const last = req.headers['last-event-id'];
        const given = typeof last === 'string' ? last : req.query.from;
        const from = given === undefined ? head : parseCursorId(given);
        if (!from)
          return send(reply, 'ATCA_ERR_API_BAD_REQUEST', 'Last-Event-ID is not an id this stream sent', [
            { field: 'headers.last-event-id', problem: 'expected e<n>.d<n>.a<n>' },
          ]);
        reply.hijack();
        stream.add(reply.raw, from, req.ip, given !== undefined);
      },
    );

    const secured = { security: [{ bearer: [] }] };

    r.post(
      '/api/v1/shelves/:shelf/slots/:slot/maintenance',
      {
        schema: {
          summary: "switch a slot's maintenance (faults recorded, nothing done); journaled with who and why",
          ...secured,
          params: S.slotParams,
          body: S.maintenanceBody,
          response: { 202: S.accepted, 409: S.errorBody, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const by = who(req, reply);
        if (by === undefined) return reply;
        const { shelf, slot } = req.params;
        const r = backend.setMaintenance(shelf, slot, req.body.enabled, by, req.body.reason);
        if (r === 'no-slot')
          return send(reply, 'ATCA_ERR_API_NOT_FOUND', `no slot ${slot} on shelf ${shelf} in the configuration`);
        if (r === 'configured')
          return send(
            reply,
            'ATCA_ERR_API_CONFLICT',
            `slot ${slot} of ${shelf} is in maintenance in atcad's configuration: only the configuration ends it`,
          );
        return reply.code(202).send({
          accepted: true,
          note: 'decided in order with everything else, then journaled as a maintenance decision with your name and reason (GET /api/v1/decisions?kind=maintenance); a switch to what the slot already is changes nothing and is not journaled',
        });
      },
    );

    r.post(
      '/api/v1/shelves/:shelf/poll',
      {
        schema: {
          summary: "re-read a shelf's slots and sensors now; journaled with who",
          ...secured,
          params: S.shelfParams,
          body: S.pollBody,
          response: { 202: S.accepted, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const by = who(req, reply);
        if (by === undefined) return reply;
        if (!backend.pollNow(req.params.shelf, by, req.body?.reason))
          return send(reply, 'ATCA_ERR_API_NOT_FOUND', `no shelf ${req.params.shelf} in the configuration`);
        return reply.code(202).send({
          accepted: true,
          note: 'journaled as an operator event with your name; the shelf is read again as soon as its turn comes',
        });
      },
    );

    r.post(
      '/api/v1/alarms/:id/ack',
      {
        schema: {
          summary: 'acknowledge an active alarm (it stays active until it clears); journaled with who and why',
          ...secured,
          params: S.alarmParams,
          body: S.reasonBody,
          response: { 202: S.accepted, ...ERROR_RESPONSES },
        },
      },
      async (req, reply) => {
        const by = who(req, reply);
        if (by === undefined) return reply;
        const a = backend.alarms().find((x) => x.id === req.params.id);
        if (!a || !backend.ack(a.shelf, a.slot, a.fault, by, req.body.reason))
          return send(reply, 'ATCA_ERR_API_NOT_FOUND', `no active alarm ${req.params.id}`);
        return reply.code(202).send({
          accepted: true,
          note: 'decided in order, then journaled as an ack decision with your name and reason',
        });
      },
    );

    r.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
      const m = await metricsCache.get();
      return reply.type(m.contentType).send(m.body);
    });

    r.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    dashboardRoutes(app);
  });
  return app;
}

import { z } from 'zod';
import { FAULT_CLASSES } from '../domain/faults.js';
import { ACTION_STATUSES } from '../journal/schema.js';

/**
 * The API's shapes, in zod: the one source of request validation, response serialisation, the
 * handlers' types and the OpenAPI document. Names are the domain's (shelf, slot, hot-swap,
 * health), never the journal's columns.
 */

const HEALTH = ['green', 'yellow', 'red'] as const;
const shelfName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a shelf name: letters, digits, ".", "_" and "-"');
const slotNumber = z.coerce.number().int().min(1).max(16);
const millis = z.coerce.number().int().min(0);

export const errorBody = z
  .object({
    code: z.string().describe('a stable code of the error catalogue (docs/errors.md)'),
    message: z.string(),
    /** For a bad request: each field and what is wrong with it. */
    fields: z.array(z.object({ field: z.string(), problem: z.string() })).optional(),
  })
  .meta({ id: 'Error' });

export const evidence = z
  .object({
    source: z.string().describe('trap, poll, sel, confirm, cluster, timer, action, operator, restart'),
    at: z.number().describe('ms since the epoch'),
    summary: z.string(),
  })
  .meta({ id: 'Evidence' });

export const sensor = z
  .object({
    number: z.number(),
    name: z.string(),
    type: z.number().describe('IPMI sensor type code'),
    value: z.number().nullable().describe('in its unit; null: not read, or no linear conversion'),
    unit: z.string().nullable(),
    status: z.array(z.string()).describe('thresholds crossed (LNC…UNR) or discrete states asserted'),
    thresholds: z.record(z.string(), z.number()),
    at: z.number().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'Sensor' });

export const reason = z
  .object({
    fault: z.enum(FAULT_CLASSES),
    since: z.number(),
    confirmed: z.boolean().describe("shown by atcad's own reading; false: a claim (trap, SEL) not yet confirmed"),
    evidence: z.array(evidence),
  })
  .meta({ id: 'Reason' });

const slotCommon = {
  shelf: z.string(),
  slot: z.number(),
  node: z.string(),
  clusterMember: z.boolean().nullable().describe('whether the cluster knows the node; null: not read yet'),
  maintenance: z.boolean(),
  hotswap: z.string().describe('M0–M7, or why it is not known (unknown is never off)'),
  health: z.enum(HEALTH),
  standby: z.boolean(),
};

export const slotSummary = z
  .object({ ...slotCommon, reasons: z.array(z.enum(FAULT_CLASSES)) })
  .meta({ id: 'SlotSummary' });

export const slotDetail = z
  .object({
    ...slotCommon,
    ipmb: z.string().nullable().describe('the IPMC address (IPMB-0), e.g. 0x82; null: not found yet'),
    reasons: z.array(reason),
    pending: z
      .object({ action: z.enum(['verify', 'standby', 'fence']), fault: z.enum(FAULT_CLASSES) })
      .nullable()
      .describe('an action waiting for a fresh reading'),
    inFlight: z.enum(['standby', 'fence']).nullable(),
    sensors: z.array(sensor),
    alarms: z.array(z.lazy(() => alarm)),
  })
  .meta({ id: 'SlotDetail' });

export const shelf = z
  .object({
    name: z.string(),
    shelfManager: z.object({
      up: z.boolean().nullable().describe('null: not asked yet'),
      peer: z.string().nullable().describe('the shelf manager answering now, host:port'),
      managers: z
        .array(
          z.object({
            name: z.string().describe('host:port'),
            state: z
              .enum(['answering', 'answered', 'failed', 'not tried'])
              .describe('atcad talks to one at a time: the other shows its last state, not a probe'),
            at: z.number().nullable(),
            error: z.string().nullable(),
          }),
        )
        .describe('each configured shelf manager, in order'),
    }),
    slots: z.array(slotSummary),
  })
  .meta({ id: 'Shelf' });

export const alarm = z
  .object({
    id: z.string().describe('shelf:slot:fault'),
    shelf: z.string(),
    slot: z.number(),
    node: z.string(),
    fault: z.enum(FAULT_CLASSES),
    since: z.number(),
    confirmed: z.boolean(),
    acknowledged: z.object({ by: z.string(), at: z.number(), reason: z.string() }).nullable(),
  })
  .meta({ id: 'Alarm' });

/** Filters common to the journal's lists; each narrows. */
const listQuery = {
  shelf: shelfName.optional(),
  slot: slotNumber.optional(),
  since: millis.optional().describe('ms since the epoch, inclusive'),
  until: millis.optional().describe('ms since the epoch, inclusive'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, 'the `next` of a previous page')
    .optional()
    .describe('the `next` of the previous page: rows older than it'),
};

export const eventsQuery = z
  .object({
    ...listQuery,
    node: z.string().min(1).optional().describe("the node's slot (from the configuration)"),
    kind: z.string().min(1).max(64).optional(),
    source: z.enum(['trap', 'poll', 'sel']).optional(),
  })
  .strict();

export const decisionsQuery = z
  .object({
    ...listQuery,
    node: z.string().min(1).optional(),
    kind: z
      .enum(['record', 'episode-end', 'set-health', 'set-standby', 'fence', 'confirm', 'blocked', 'maintenance', 'ack'])
      .optional(),
    fault: z.enum(FAULT_CLASSES).optional(),
    severity: z.enum(HEALTH).optional().describe('health decisions setting this value'),
  })
  .strict();

export const actionsQuery = z
  .object({
    ...listQuery,
    node: z.string().min(1).optional(),
    kind: z.enum(['health', 'standby', 'fence']).optional(),
    status: z.enum(ACTION_STATUSES).optional(),
  })
  .strict();

const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next: z.string().nullable().describe('cursor of the next (older) page') });

export const eventRow = z
  .object({
    id: z.number(),
    at: z.number(),
    shelf: z.string().nullable(),
    slot: z.number().nullable(),
    source: z.string(),
    kind: z.string(),
    understood: z.boolean(),
    body: z.unknown(),
  })
  .meta({ id: 'Event' });

export const decisionRow = z
  .object({
    id: z.number(),
    at: z.number(),
    shelf: z.string(),
    slot: z.number(),
    kind: z.string(),
    node: z.string().nullable(),
    reason: z.string(),
    evidence: z.array(evidence),
    body: z.unknown(),
  })
  .meta({ id: 'Decision' });

export const actionRow = z
  .object({
    id: z.number(),
    decisionId: z.number().nullable(),
    shelf: z.string(),
    slot: z.number(),
    node: z.string().nullable(),
    kind: z.enum(['health', 'standby', 'fence']),
    status: z.enum(ACTION_STATUSES),
    value: z.string().nullable(),
    startedAt: z.number(),
    endedAt: z.number().nullable(),
    command: z.array(z.string()).nullable(),
    exitCode: z.number().nullable(),
    durationMs: z.number().nullable(),
    stdout: z.string().nullable(),
    stderr: z.string().nullable(),
    note: z.string().nullable(),
  })
  .meta({ id: 'Action' });

export const eventsPage = page(eventRow);
export const decisionsPage = page(decisionRow);
export const actionsPage = page(actionRow);

export const slotParams = z.object({ shelf: shelfName, slot: slotNumber }).strict();
export const sensorParams = z
  .object({ shelf: shelfName, slot: slotNumber, sensor: z.coerce.number().int().min(0).max(255) })
  .strict();
export const sensorHistory = z.object({ points: z.array(z.tuple([z.number(), z.number()])) });
export const shelfParams = z.object({ shelf: shelfName }).strict();
export const alarmParams = z.object({ id: z.string().min(1).max(200) }).strict();

const why = z.string().trim().min(1, 'say why: it is journaled with your name').max(500);
export const maintenanceBody = z.object({ enabled: z.boolean(), reason: why }).strict();
export const reasonBody = z.object({ reason: why }).strict();
export const pollBody = z.object({ reason: why.optional() }).strict().optional();

export const accepted = z.object({ accepted: z.literal(true), note: z.string() }).meta({ id: 'Accepted' });

export const status = z
  .object({
    version: z.string(),
    startedAt: z.number(),
    uptimeSeconds: z.number(),
    mode: z.enum(['live', 'dry-run', 'offline']),
    traps: z
      .record(z.string(), z.number())
      .nullable()
      .describe('counters by outcome, kernel drops among them; null: the receiver is off'),
    shelfManagers: z.array(z.object({ shelf: z.string(), up: z.boolean().nullable(), peer: z.string().nullable() })),
    polls: z.array(
      z.object({
        shelf: z.string(),
        cycle: z.string(),
        lastSeconds: z.number().nullable(),
        lastAt: z.number().nullable(),
        ok: z.boolean().nullable(),
      }),
    ),
    engine: z.object({
      queued: z.number(),
      dropped: z.number(),
      steps: z.number(),
      journalFailures: z.number(),
      blockedSince: z.number().nullable(),
      unsavedResults: z.number(),
      lastDecisionAt: z.number().nullable(),
    }),
    journal: z.object({
      open: z.boolean(),
      path: z.string(),
      sizeBytes: z.number().nullable(),
      queuedEvents: z.number(),
      droppedEvents: z.number(),
      writeErrors: z.number(),
      lastWriteAt: z.number().nullable(),
      lastError: z.string().nullable(),
      failingSince: z.number().nullable(),
      lowSpaceSince: z.number().nullable(),
    }),
  })
  .meta({ id: 'Status' });

export const ready = z.object({ ready: z.boolean(), problems: z.array(z.string()) });
export type Evidence = z.infer<typeof evidence>;

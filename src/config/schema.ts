import { z } from 'zod';
import { ACTION_LADDER, FAULT_CLASSES } from '../domain/faults.js';

/**
 * atcad's configuration: one YAML file, checked strictly (unknown keys are errors), with
 * documented defaults. docs/configuration.md documents every key; examples/atcad.yaml is a
 * commented example that a test loads.
 */

const host = z.string().min(1);
const port = z.number().int().min(1).max(65535);

/** A secret is read from a file or an environment variable, never written inline. */
export const secretRef = z
  .object({
    file: z.string().min(1).optional(),
    env: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.file === undefined) !== (s.env === undefined), { message: 'give exactly one of file or env' });

const slotSchema = z
  .object({
    node: z.string().min(1),
    maintenance: z.boolean().default(false),
  })
  .strict();

const shelfSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "_" and "-" only'),
    shelfManagers: z
      .array(z.object({ host, port: port.default(623) }).strict())
      .min(1)
      .max(2),
    ipmi: z
      .object({
        username: z.string().min(1),
        password: secretRef,
        lanplus: z.boolean().default(true),
        cipher: z.string().regex(/^\d+$/).optional(),
        privlvl: z.enum(['callback', 'user', 'operator', 'administrator']).default('administrator'),
        ipmitoolPath: z.string().default('/usr/bin/ipmitool'),
        retransmitSec: z.number().int().min(1).max(30).default(1),
      })
      .strict(),
    /** Source addresses of this shelf's traps (its shelf managers' addresses). */
    trapSources: z.array(host).default([]),
    hotswapSensor: z.number().int().min(0).max(255).default(0),
    slots: z.record(z.string().regex(/^\d+$/, 'slot numbers are physical slot numbers'), slotSchema),
  })
  .strict();

const v3UserSchema = z
  .object({
    name: z.string().min(1),
    authProtocol: z.enum(['sha', 'md5']).default('sha'),
    authKey: secretRef,
    privProtocol: z.enum(['aes', 'des']).default('aes'),
    privKey: secretRef,
  })
  .strict();

export const configSchema = z
  .object({
    shelves: z.array(shelfSchema).min(1),
    traps: z
      .object({
        enabled: z.boolean().default(true),
        address: host.default('0.0.0.0'),
        port: port.default(162),
        communities: z.array(secretRef).default([]),
        v3Users: z.array(v3UserSchema).default([]),
      })
      .strict()
      .prefault({}),
    polling: z
      .object({
        hotswapIntervalMs: z.number().int().min(100).default(2000),
        sensorIntervalMs: z.number().int().min(500).default(10000),
        selIntervalMs: z.number().int().min(500).default(5000),
        requestTimeoutMs: z.number().int().min(100).default(3000),
        concurrency: z.number().int().min(1).max(16).default(2),
        backoffMaxMs: z.number().int().min(1000).default(60000),
      })
      .strict()
      .prefault({}),
    policy: z
      .object({
        rules: z
          .partialRecord(z.enum(FAULT_CLASSES), z.enum(ACTION_LADDER))
          .default({})
          // A silent shelf manager says nothing about any blade, and no standby decision or
          // fence can be confirmed (or carried out) through it.
          .refine((r) => r['shmc-unreachable'] !== 'standby' && r['shmc-unreachable'] !== 'fence', {
            message:
              'shmc-unreachable can be at most health-red: nothing can be confirmed through a silent shelf manager',
            path: ['shmc-unreachable'],
          }),
        /** A fault must still hold this long (confirmed by a fresh reading) before standby or fence. */
        sustainMs: z.number().int().min(0).default(1000),
        /** Repeats of the same fault within this window are one fault. */
        debounceMs: z.number().int().min(0).default(500),
        /** Health returns to green after the slot has been clear this long. */
        recoveryMs: z.number().int().min(0).default(60000),
        releaseStandbyOnRecovery: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    pacemaker: z
      .object({
        mode: z.enum(['live', 'dry-run', 'offline']).default('dry-run'),
        /** For mode offline: the CIB file the tools act on (CIB_file). */
        cibFile: z.string().optional(),
        healthAttribute: z
          .string()
          .regex(/^#health/, 'Pacemaker only counts attributes named #health*')
          .default('#health-atca'),
        commandTimeoutMs: z.number().int().min(1000).default(15000),
        fenceTimeoutSec: z.number().int().min(10).default(120),
      })
      .strict()
      .prefault({})
      .refine((p) => p.mode !== 'offline' || p.cibFile !== undefined, {
        message: 'mode offline needs cibFile',
        path: ['cibFile'],
      }),
    journal: z
      .object({
        path: z.string().default('/var/lib/atcad/journal.sqlite'),
        retentionDays: z.number().int().min(1).default(90),
      })
      .strict()
      .prefault({}),
    safety: z
      .object({
        maxFences: z.number().int().min(0).default(1),
        fenceWindowSec: z.number().int().min(1).default(900),
        /** Never fence if the nodes left online would be fewer than this (default: a majority of configured nodes). */
        minNodesAfterFence: z.number().int().min(0).optional(),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        address: host.default('127.0.0.1'),
        port: port.default(8162),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AtcadConfigInput = z.input<typeof configSchema>;
export type AtcadConfig = z.output<typeof configSchema>;
export type ShelfConfig = AtcadConfig['shelves'][number];
export type SecretRef = z.infer<typeof secretRef>;

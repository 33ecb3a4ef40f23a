import { isIPv4, isIPv6, SocketAddress } from 'node:net';
import { isAbsolute } from 'node:path';
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

/**
 * Physical slot numbers of front boards. PICMG 3.0 shelves hold at most 16 front-board slots
 * (16 in an ETSI 600 mm shelf, 14 in a 19-inch one; the backplane's logical slots and the
 * front-board hardware addresses 41h–50h give 16 at most), numbered from 1. The fence agent's
 * `list` asks the same sites 1–16 (src/ipmi/atca-device.ts, MAX_SITE).
 */
export const MAX_FRONT_BOARD_SLOT = 16;

/** A slot key: a physical slot number 1–16 written plainly (YAML keys are strings: "01" ≠ "1"). */
const slotKey = z.string().superRefine((k, ctx) => {
  const bad = (message: string) => ctx.addIssue({ code: 'custom', message });
  if (!/^\d+$/.test(k)) bad(`slot keys are physical slot numbers (1–${MAX_FRONT_BOARD_SLOT}), not '${k}'`);
  else if (/^0\d/.test(k))
    bad(
      `write slot ${Number(k)} as "${Number(k)}", without leading zeros ("${k}" and "${Number(k)}" would name one slot twice)`,
    );
  else if (Number(k) === 0) bad('physical slot numbers start at 1');
  else if (Number(k) > MAX_FRONT_BOARD_SLOT)
    bad(`slot ${k} is beyond the front-board slots of a PICMG 3.0 shelf (1–${MAX_FRONT_BOARD_SLOT})`);
});

/**
 * An IP address literal in the form the trap receiver compares with a datagram's source
 * (libuv's inet_ntop form: IPv6 lowercase and compressed; an IPv4-mapped IPv6 address as the
 * IPv4 address, since the receiver reports v4 peers that way), or undefined if it is not one.
 */
export function canonicalIp(a: string): string | undefined {
  if (isIPv4(a)) return a;
  if (!isIPv6(a) || a.includes('%')) return undefined;
  const c = new SocketAddress({ address: a, family: 'ipv6' }).address;
  return c.startsWith('::ffff:') && isIPv4(c.slice(7)) ? c.slice(7) : c;
}

const trapSource = z.string().transform((a, ctx) => {
  const c = canonicalIp(a);
  if (c !== undefined) return c;
  ctx.addIssue({
    code: 'custom',
    message: a.includes('%')
      ? `'${a}' has a zone index, which traps cannot be matched by: use an address without %zone`
      : `'${a}' is not an IPv4 or IPv6 address: traps are matched by their source address, so a host name cannot be used`,
  });
  return z.NEVER;
});

/** An address to listen on: a literal (the trap socket binds it; a name would be looked up only to fail at start). */
const listenAddress = z.string().transform((a, ctx) => {
  const c = canonicalIp(a);
  if (c !== undefined && !a.includes('%')) return c;
  ctx.addIssue({ code: 'custom', message: `'${a}' is not an IPv4 or IPv6 address to listen on` });
  return z.NEVER;
});

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
        ipmitoolPath: z
          .string()
          .refine(isAbsolute, 'must be an absolute path (atcad does not search PATH for the program it runs)')
          .default('/usr/bin/ipmitool'),
        retransmitSec: z.number().int().min(1).max(30).default(1),
      })
      .strict(),
    /** Source addresses of this shelf's traps (its shelf managers' addresses), IP literals. */
    trapSources: z.array(trapSource).default([]),
    hotswapSensor: z.number().int().min(0).max(255).default(0),
    slots: z.record(slotKey, slotSchema),
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
        address: listenAddress.default('0.0.0.0'),
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
          })
          // A commanded deactivation is never a fault to fence for (docs/atcad.md "Deactivations").
          .refine((r) => r.deactivating !== 'fence', {
            message: 'deactivating can be at most standby: a commanded deactivation never leads to a fence',
            path: ['deactivating'],
          }),
        /**
         * A fault must still hold this long before the fresh reading that confirms it (0: read at
         * once — the reading itself is the evidence; a fixed wait only adds to failover time).
         */
        sustainMs: z.number().int().min(0).default(0),
        /** Repeats of the same fault within this window are one fault. */
        debounceMs: z.number().int().min(0).default(500),
        /** Health returns to green after the slot has been clear this long. */
        recoveryMs: z.number().int().min(0).default(60000),
        releaseStandbyOnRecovery: z.boolean().default(false),
        /**
         * A node whose blade is verified off may stay an online cluster member this long (corosync
         * has yet to lose it) before atcad reports the slot-to-node mapping as suspect.
         */
        deadMemberGraceMs: z.number().int().min(1000).default(30000),
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
        /** The cluster's membership is read this often: a node that (re)joins gets its health again. */
        membershipIntervalMs: z.number().int().min(200).default(1000),
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
        /** At most this many events are kept (the oldest go first): a trap storm must not fill the disk. */
        maxEvents: z.number().int().min(10_000).default(1_000_000),
        /**
         * Events are journaled only while the filesystem has this much free (MiB): the rest is
         * kept for decisions, action outcomes and the WAL's checkpoint, which a full disk would
         * otherwise refuse (events held back are dropped oldest first, counted). 0: no reserve.
         */
        minFreeMiB: z.number().int().min(0).default(64),
      })
      .strict()
      .prefault({}),
    safety: z
      .object({
        maxFences: z.number().int().min(0).default(1),
        fenceWindowSec: z.number().int().min(1).default(900),
        /** Never fence if fewer voting cluster members than this would stay online, counting fences in flight (default: the cluster's quorum). */
        minNodesAfterFence: z.number().int().min(0).optional(),
      })
      .strict()
      .prefault({}),
    api: z
      .object({
        enabled: z.boolean().default(true),
        /** Where the API, /metrics and the dashboard listen: loopback unless said otherwise. */
        address: listenAddress.default('127.0.0.1'),
        /** 0: any free port (atcad logs which). */
        port: z.number().int().min(0).max(65535).default(8162),
        /** A file of `name token` lines: the bearer tokens of the routes that change something (none: read-only). */
        tokens: secretRef.optional(),
        tls: z
          .object({
            cert: z.string().refine(isAbsolute, 'must be an absolute path'),
            key: secretRef,
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AtcadConfigInput = z.input<typeof configSchema>;
export type AtcadConfig = z.output<typeof configSchema>;
export type ShelfConfig = AtcadConfig['shelves'][number];
export type SecretRef = z.infer<typeof secretRef>;

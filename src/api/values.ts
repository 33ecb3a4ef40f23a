/** Small conversions the API and its backend share. */

/** undefined as JSON's null: the API's schemas say null where the model says undefined. */
export const nullish = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

/** A loopback address (IPv4 127/8, IPv6 ::1, or IPv4-mapped 127/8): this host only. */
export const isLoopback = (ip: string): boolean =>
  ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');

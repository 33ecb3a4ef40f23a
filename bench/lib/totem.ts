// corosync totem settings given to the three-node benches as "key=number,key=number".

export type Totem = Record<string, string | number>;

/** "token=500,consensus=600" → { token: '500', consensus: '600' }; `what` names the source in errors. */
export function parseTotem(s: string, what: string): Totem {
  return Object.fromEntries(
    s.split(',').map((kv) => {
      const [k, v] = kv.split('=');
      if (!k || !v || !/^[a-z_]+$/.test(k) || !/^\d+$/.test(v)) throw new Error(`${what}: not key=number: ${kv}`);
      return [k, v] as const;
    }),
  );
}

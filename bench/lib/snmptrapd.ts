// The classic set-up atcad replaces: snmptrapd with `traphandle default <script>`, the script
// turning a PET into `attrd_updater -n '#health-atca' -U <value> -N <node>`. The script is
// written the way a careful admin would (shell built-ins only, one exec of attrd_updater),
// so the comparison is with the best of that approach, not a slow script.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TrapdSetup {
  /** argv of snmptrapd in the foreground, logging to stdout. */
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly script: string;
}

export interface TrapdRule {
  /** Specific-trap number (the last arc of snmpTrapOID.0). */
  readonly specific: number;
  readonly value: 'red' | 'yellow' | 'green';
}

/**
 * Writes snmptrapd.conf and the handler into `dir`. `nodes` maps an IPMB address (PET byte 27)
 * to a node; `rules` maps a specific trap to a health value; anything else exits at once.
 */
export function writeSnmptrapd(
  dir: string,
  community: string,
  port: number,
  nodes: Readonly<Record<number, string>>,
  rules: readonly TrapdRule[],
): TrapdSetup {
  mkdirSync(join(dir, 'persist'), { recursive: true });
  const script = join(dir, 'pet-to-health.sh');
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  writeFileSync(
    script,
    `#!/bin/sh
# snmptrapd traphandle: a PET (IPMI Platform Event Trap) to Pacemaker's #health-atca.
# stdin: host, transport address, then one "OID value" per varbind (-On: numeric OIDs); the
# PET's hex string runs over several lines.
read -r host
read -r transport
oid= pet= inpet=
while IFS= read -r line; do
  case $line in
    '.1.3.6.1.6.3.1.1.4.1.0 '*) oid=\${line#* } ;;
    '.1.3.6.1.4.1.3183.1.1.1 '*) pet=\${line#*\\"}; inpet=1 ;;
    *) [ -n "$inpet" ] && pet="$pet $line" ;;
  esac
done
case $oid in
${rules.map((r) => `  *.3183.1.1.0.${r.specific}) value=${r.value} ;;`).join('\n')}
  *) exit 0 ;;
esac
set -f
set -- $pet
shift 27
# PET byte 27: the IPMB address of the blade's IPMC.
case $1 in
${Object.entries(nodes)
  .map(([ipmb, node]) => `  ${hex(Number(ipmb))}) node=${node} ;;`)
  .join('\n')}
  *) exit 0 ;;
esac
exec /usr/sbin/attrd_updater -n '#health-atca' -U "$value" -N "$node"
`,
  );
  chmodSync(script, 0o755);
  const conf = join(dir, 'snmptrapd.conf');
  writeFileSync(conf, `authCommunity log,execute,net ${community}\ntraphandle default ${script}\n`);
  return {
    argv: ['snmptrapd', '-f', '-Lo', '-C', '-c', conf, '-m', '', '-On', `udp:127.0.0.1:${port}`],
    env: { HOME: dir, SNMP_PERSISTENT_DIR: join(dir, 'persist'), SNMPCONFPATH: dir },
    script,
  };
}

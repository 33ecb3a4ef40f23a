import type { ConfigIssue } from './issues.js';
import type { AtcadConfig } from './schema.js';

/**
 * Checks across objects, on a configuration the schema accepted: what no single key can say
 * wrong on its own. Every issue found is returned (none means valid).
 */
export function crossChecks(cfg: AtcadConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];

  const names = new Map<string, number>();
  cfg.shelves.forEach((s, i) => {
    const first = names.get(s.name);
    if (first !== undefined)
      issues.push({
        path: `shelves.${i}.name`,
        message: `duplicate shelf name '${s.name}' (also shelves.${first}.name)`,
      });
    else names.set(s.name, i);
  });

  // A trap is attributed to a shelf by its source address alone: one address, one shelf.
  const sources = new Map<string, { shelf: string; path: string; index: number }>();
  for (const [i, s] of cfg.shelves.entries()) {
    for (const [j, a] of s.trapSources.entries()) {
      const path = `shelves.${i}.trapSources.${j}`;
      const other = sources.get(a);
      if (other === undefined) sources.set(a, { shelf: s.name, path, index: i });
      else if (other.index === i)
        issues.push({ path, message: `trap source ${a} is listed twice (also ${other.path})` });
      else
        issues.push({
          path,
          message: `trap source ${a} is already claimed by shelf '${other.shelf}' (${other.path}): a trap is attributed to one shelf by its source address`,
        });
    }
  }

  const nodes = new Map<string, string>();
  for (const [i, s] of cfg.shelves.entries()) {
    for (const [slot, v] of Object.entries(s.slots)) {
      const where = `${s.name}/${slot}`;
      const other = nodes.get(v.node);
      if (other)
        issues.push({
          path: `shelves.${i}.slots.${slot}.node`,
          message: `node '${v.node}' is already mapped to ${other}`,
        });
      else nodes.set(v.node, where);
    }
  }

  // The trap receiver tells SNMPv3 users apart by name.
  const users = new Map<string, number>();
  cfg.traps.v3Users.forEach((u, i) => {
    const first = users.get(u.name);
    if (first !== undefined)
      issues.push({
        path: `traps.v3Users.${i}.name`,
        message: `SNMPv3 user '${u.name}' is listed twice (also traps.v3Users.${first}.name)`,
      });
    else users.set(u.name, i);
  });

  return issues;
}

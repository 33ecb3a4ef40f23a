import { ACTIONS, getoptText, OPTIONS, type OptionDef } from './options.js';

export const AGENT_NAME = 'fence_atca';
export const AGENT_SHORTDESC = 'Fence agent for AdvancedTCA blades through the shelf manager';
export const AGENT_LONGDESC =
  'fence_atca powers AdvancedTCA (PICMG 3.0) blades off and on through the shelf manager. ' +
  'It resolves the physical slot to the blade IPMC address with Get Address Info, bridges PICMG ' +
  'commands to the IPMC (Set FRU Activation, Set FRU Activation Policy, Set Power Level, FRU Control) ' +
  'and verifies every result on the FRU Hot Swap sensor: M4 is on, M1 (or M0) is off, and any other ' +
  'state, an unreachable IPMC or a timeout is an error, never off. A graceful deactivation that stalls ' +
  'is escalated to payload power removal after graceful_timeout seconds. When the first shelf manager ' +
  'does not answer, the second (ip2) is used. The password reaches ipmitool only through its environment.';
const VENDOR_URL = 'https://www.picmg.org/openstandards/advancedtca/';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function parameterXml(o: OptionDef, name: string, flag: string): string {
  const lines = [`\t<parameter name="${name}" unique="0" required="${o.required ? 1 : 0}"${flag}>`];
  lines.push(`\t\t<getopt mixed="${esc(getoptText(o))}" />`);
  const dflt = o.default !== undefined ? ` default="${esc(o.default)}"` : '';
  if (o.type === 'select') {
    lines.push(`\t\t<content type="select"${dflt}  >`);
    for (const c of o.choices!) lines.push(`\t\t\t<option value="${esc(c)}" />`);
    lines.push('\t\t</content>');
  } else {
    lines.push(`\t\t<content type="${o.type}"${dflt}  />`);
  }
  lines.push(`\t\t<shortdesc lang="en">${esc(o.shortdesc)}</shortdesc>`);
  lines.push('\t</parameter>');
  return lines.join('\n');
}

/** Entries in fencing.py's order: device options by name, then logging, separators, timing, paths. */
function orderedEntries(): string[] {
  const entries: { key: string; group: number; seq: number; xml: string }[] = [];
  for (const o of OPTIONS) {
    const seq = o.seq ?? 0;
    entries.push({
      key: o.name,
      group: o.group,
      seq,
      xml: parameterXml(o, o.name, o.oldName ? ` obsoletes="${o.oldName}"` : ''),
    });
    if (o.oldName) {
      // Outside the device group the old name sits just before the new one, as `debug` does.
      entries.push({
        key: o.group === 1 ? o.oldName : `${o.name}\u0000`,
        group: o.group,
        seq: o.group === 1 ? 0 : seq - 0.5,
        xml: parameterXml(o, o.oldName, ' deprecated="1"'),
      });
    }
  }
  entries.sort((a, b) => a.group - b.group || a.seq - b.seq || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return entries.map((e) => e.xml);
}

export function metadataXml(): string {
  return [
    '<?xml version="1.0" ?>',
    `<resource-agent name="${AGENT_NAME}" shortdesc="${esc(AGENT_SHORTDESC)}" >`,
    `<longdesc>${esc(AGENT_LONGDESC)}</longdesc>`,
    `<vendor-url>${VENDOR_URL}</vendor-url>`,
    '<parameters>',
    ...orderedEntries(),
    '</parameters>',
    '<actions>',
    // No automatic unfencing: `on` is advertised with automatic="0", as fencing.py does.
    ...ACTIONS.map((a) => (a === 'on' ? '\t<action name="on" automatic="0"/>' : `\t<action name="${a}" />`)),
    '</actions>',
    '</resource-agent>',
    '',
  ].join('\n');
}

export function usageText(): string {
  const lines = [`Usage:\n\t${AGENT_NAME} [options]\nOptions:`];
  for (const o of OPTIONS) lines.push(`   ${getoptText(o).padEnd(40)} ${o.shortdesc}`);
  lines.push('', 'With no options, name=value lines are read from standard input (fence-agents API).');
  return lines.join('\n');
}

/** How many characters of a value a peer chose may reach a log line. */
export const LOG_VALUE_CHARS = 128;

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * A value a peer chose (a trap OID, an enterprise, a decoder's detail quoting either), made fit
 * for a log line: at most `max` characters, then `…(N chars)` saying how long it was; control
 * characters (a newline forging a second line) become `?`. Cheap for short values: most are.
 */
export function clip(s: string, max = LOG_VALUE_CHARS): string {
  let out = s.length > max ? s.slice(0, max) : s;
  // Do not leave half a surrogate pair at the cut.
  const last = out.charCodeAt(out.length - 1);
  if (out.length < s.length && last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
  if (CONTROL.test(out)) out = out.replace(CONTROLS, '?');
  return out.length < s.length ? `${out}…(${s.length} chars)` : out;
}

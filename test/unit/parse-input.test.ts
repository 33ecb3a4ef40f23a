// The two ways options reach the agent: the fence-agents stdin protocol (what Pacemaker sends)
// and GNU getopt-style command-line arguments.
import { describe, expect, it } from 'vitest';
import { parseArgv, parseStdin } from '../../src/fence/parse-input.js';
import { catchAtcaError } from './catch-atca-error.js';

const stdinValues = (text: string) => Object.fromEntries(parseStdin(text).values);
const argvValues = (...argv: string[]) => Object.fromEntries(parseArgv(argv).values);

describe('parseStdin', () => {
  it('reads name=value lines into canonical names', () => {
    const r = parseStdin('action=off\nip=10.0.0.1\nplug=3\n');
    expect(Object.fromEntries(r.values)).toEqual({ action: 'off', ip: '10.0.0.1', plug: '3' });
    expect(r.warnings).toEqual([]);
  });

  it('reads nothing from empty input', () => {
    expect(parseStdin('')).toEqual({ values: new Map(), warnings: [] });
  });

  it('skips blank lines and # comment lines, indented or not', () => {
    expect(stdinValues('\n   \n# plug=9\n   # ip=1.1.1.1\naction=on\n\n')).toEqual({ action: 'on' });
  });

  it('trims the line, the name and the value; tolerates CRLF and a missing final newline', () => {
    expect(stdinValues('  ip = 10.0.0.1  \r\nplug=3\r\nusername=admin')).toEqual({
      ip: '10.0.0.1',
      plug: '3',
      username: 'admin',
    });
  });

  it("splits at the first '=' only", () => {
    expect(stdinValues('password=a=b==')).toEqual({ password: 'a=b==' });
  });

  it.each([
    ['"with spaces "', 'with spaces '],
    ['"quoted"', 'quoted'],
    ['""', ''],
    ['"unbalanced', '"unbalanced'],
    ['unbalanced"', 'unbalanced"'],
    ['"', '"'],
    ['in"ner"', 'in"ner"'],
    ["'single'", "'single'"],
  ])('value %s becomes %j (only a surrounding pair of double quotes is removed)', (raw, value) => {
    expect(stdinValues(`password=${raw}`)).toEqual({ password: value });
  });

  it('the last value wins, whether given by the new or the old name', () => {
    expect(stdinValues('plug=1\nplug=2')).toEqual({ plug: '2' });
    expect(stdinValues('port=1\nplug=2')).toEqual({ plug: '2' });
    expect(stdinValues('plug=2\nport=1')).toEqual({ plug: '1' });
  });

  it.each([
    ['ipaddr', 'ip'],
    ['login', 'username'],
    ['passwd', 'password'],
    ['passwd_script', 'password_script'],
    ['port', 'plug'],
    ['debug', 'debug_file'],
  ])('maps the old name %s to %s', (old, canonical) => {
    const r = parseStdin(`${old}=x`);
    expect(Object.fromEntries(r.values)).toEqual({ [canonical]: 'x' });
    expect(r.warnings).toEqual([]);
  });

  it.each([
    ['plug-separator', 'plug_separator'],
    ['power-timeout', 'power_timeout'],
    ['passwd-script', 'password_script'],
    ['ipmitool-path', 'ipmitool_path'],
  ])("accepts '-' for '_' in %s", (name, canonical) => {
    expect(stdinValues(`${name}=x`)).toEqual({ [canonical]: 'x' });
  });

  it('takes nodename (Pacemaker sends it) out of the options silently, keeping it aside', () => {
    const r = parseStdin('nodename=node1\naction=off\n');
    expect(Object.fromEntries(r.values)).toEqual({ action: 'off' });
    expect(r.warnings).toEqual([]);
    expect(r.nodename).toBe('node1');
    expect(parseStdin('action=off\n').nodename).toBeUndefined();
  });

  it('warns about an unknown option by name and ignores it', () => {
    const r = parseStdin('bogus=1\naction=off\n');
    expect(Object.fromEntries(r.values)).toEqual({ action: 'off' });
    expect(r.warnings).toEqual(["Parse error: Ignoring unknown option 'bogus'"]);
  });

  it.each([
    ['a misspelt password name', 'pasword=Secr3t!'],
    ['a quoted value', 'pwd="Secr3t!"'],
    ['a value with an =', 'secret=Secr3t!=x'],
    ['an upper-case name', 'PASSWORD=Secr3t!'],
  ])('never echoes the value of an unknown option (%s)', (_what, line) => {
    const r = parseStdin(`${line}\n`);
    expect(r.values.size).toBe(0);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings.join('\n')).not.toContain('Secr3t');
  });

  it.each([
    ['a word', 'hunter2'],
    ['a name-like word with dashes', 'Correct-Horse-Battery'],
    ['a word with symbols', 'Secr3t!pw'],
  ])(
    'a line without "=" that is no known option (%s, a pasted secret?) is named by its line, not echoed',
    (_w, line) => {
      const r = parseStdin(`action=off
${line}
verbose
`);
      expect(Object.fromEntries(r.values)).toEqual({ action: 'off', verbose: '1' });
      expect(r.warnings).toEqual(['Parse error: Ignoring line 2, which is not name=value']);
      expect(r.warnings.join('\n')).not.toContain(line);
    },
  );

  it('warns once per unknown line, in order', () => {
    expect(parseStdin('a=1\nb=2\na=3').warnings).toEqual([
      "Parse error: Ignoring unknown option 'a'",
      "Parse error: Ignoring unknown option 'b'",
      "Parse error: Ignoring unknown option 'a'",
    ]);
  });

  it.each([
    ['a name alone', 'verbose', '1'],
    ['an empty value', 'lanplus=', '1'],
    ['an empty quoted value', 'quiet=""', '1'],
    ['0', 'lanplus=0', '0'],
    ['a word', 'verbose=yes', 'yes'],
  ])('a boolean given with %s reads as %j', (_what, line, value) => {
    const [name] = line.split('=');
    expect(stdinValues(line)).toEqual({ [name!]: value });
  });

  it('a non-boolean given without a value stays empty', () => {
    expect(stdinValues('cipher=\nip')).toEqual({ cipher: '', ip: '' });
  });
});

describe('parseArgv', () => {
  it('reads nothing from no arguments, and never warns', () => {
    expect(parseArgv([])).toEqual({ values: new Map(), warnings: [] });
    expect(parseArgv(['-o', 'off']).warnings).toEqual([]);
  });

  it.each([[['-o', 'off']], [['-ooff']], [['--action=off']], [['--action', 'off']]])(
    'reads the action from %j',
    (argv) => {
      expect(argvValues(...argv)).toEqual({ action: 'off' });
    },
  );

  it.each([
    ['a', 'ip', '10.0.0.1'],
    ['u', 'ipport', '6230'],
    ['l', 'username', 'admin'],
    ['p', 'password', 'pw'],
    ['S', 'password_script', '/bin/pw'],
    ['n', 'plug', '3'],
    ['C', 'cipher', '17'],
    ['L', 'privlvl', 'operator'],
    ['m', 'method', 'cycle'],
    ['D', 'debug_file', '/tmp/d.log'],
  ])('-%s sets %s, separated or attached', (short, name, value) => {
    expect(argvValues(`-${short}`, value)).toEqual({ [name]: value });
    expect(argvValues(`-${short}${value}`)).toEqual({ [name]: value });
  });

  it.each([
    ['v', 'verbose'],
    ['q', 'quiet'],
    ['P', 'lanplus'],
    ['V', 'version'],
    ['h', 'help'],
  ])('-%s sets the boolean %s', (short, name) => {
    expect(argvValues(`-${short}`)).toEqual({ [name]: '1' });
  });

  it('bundles short booleans (-vP)', () => {
    expect(argvValues('-vP')).toEqual({ verbose: '1', lanplus: '1' });
  });

  it('bundles short booleans ending in an option that takes a value, attached or separate', () => {
    expect(argvValues('-qvooff')).toEqual({ quiet: '1', verbose: '1', action: 'off' });
    expect(argvValues('-qvo', 'off')).toEqual({ quiet: '1', verbose: '1', action: 'off' });
  });

  it('the value of a short option swallows the rest of its argument, letters included', () => {
    expect(argvValues('-pvP')).toEqual({ password: 'vP' });
  });

  it('long booleans take an optional inline value', () => {
    expect(argvValues('--verbose', '--lanplus=0')).toEqual({ verbose: '1', lanplus: '0' });
  });

  it.each([
    ['--ipaddr', 'ip'],
    ['--login', 'username'],
    ['--passwd', 'password'],
    ['--passwd-script', 'password_script'],
    ['--port', 'plug'],
    ['--debug', 'debug_file'],
  ])('accepts the old long name %s for %s', (flag, name) => {
    expect(argvValues(`${flag}=x`)).toEqual({ [name]: 'x' });
  });

  it("accepts long names spelt with '-' or '_'", () => {
    expect(argvValues('--power-timeout', '5', '--plug_separator=;', '--ipmitool-path=/x')).toEqual({
      power_timeout: '5',
      plug_separator: ';',
      ipmitool_path: '/x',
    });
  });

  it("splits --name=value at the first '='", () => {
    expect(argvValues('--password=a=b')).toEqual({ password: 'a=b' });
  });

  it("takes a separate value even when it starts with '-'", () => {
    expect(argvValues('-p', '-secret', '--username', '--admin')).toEqual({ password: '-secret', username: '--admin' });
  });

  it('the last value wins', () => {
    expect(argvValues('-n', '1', '--plug=2')).toEqual({ plug: '2' });
  });

  it.each([
    [['-x'], '-x'],
    [['-vx'], '-x'],
    [['--bogus'], '--bogus'],
    [['--nodename=node1'], '--nodename'],
  ])('%j is an unknown option, named as %s', (argv, named) => {
    const e = catchAtcaError(() => parseArgv(argv));
    expect(e.code).toBe('ATCA_ERR_UNKNOWN_OPTION');
    expect(e.detail).toBe(named);
  });

  it('an unknown long option is named without its value', () => {
    const e = catchAtcaError(() => parseArgv(['--pasword=Secr3t!']));
    expect(e.code).toBe('ATCA_ERR_UNKNOWN_OPTION');
    expect(e.message).not.toContain('Secr3t');
  });

  it.each([
    [['Secr3t!'], 1],
    [['-o', 'off', 'Secr3t!'], 3],
    [['-'], 1],
  ])('a positional argument in %j is refused by position, without echoing it', (argv, position) => {
    const e = catchAtcaError(() => parseArgv(argv));
    expect(e.code).toBe('ATCA_ERR_UNKNOWN_OPTION');
    expect(e.detail).toContain(`position ${position}`);
    expect(e.message).not.toContain('Secr3t');
  });

  it('a long boolean does not take the next argument as its value', () => {
    const e = catchAtcaError(() => parseArgv(['--verbose', 'yes']));
    expect(e.code).toBe('ATCA_ERR_UNKNOWN_OPTION');
    expect(e.detail).toContain('position 2');
  });

  it.each([
    [['-o'], '-o'],
    [['--action'], '--action'],
    [['-v', '-n'], '-n'],
  ])('%j with no value to take is a bad option', (argv, flag) => {
    const e = catchAtcaError(() => parseArgv(argv));
    expect(e.code).toBe('ATCA_ERR_BAD_OPTION');
    expect(e.detail).toBe(`option ${flag} requires a value`);
  });
});

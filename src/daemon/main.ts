// atcad's entry point: `atcad --check-config FILE` or `atcad --config FILE`.
import { ConfigError, loadCheckedConfig } from '../config/load.js';
import { AtcaError } from '../errors.js';
import { buildApp } from './app.js';
import { checkConfigCommand } from './check-config.js';
import { createDaemonLogger } from './logger.js';

const USAGE = 'usage: atcad --config FILE [--verbose] | atcad --check-config FILE';

/** Flags and whether each takes a value. */
const FLAGS: Readonly<Record<string, boolean>> = {
  '--config': true,
  '--check-config': true,
  '--verbose': false,
  '--help': false,
  '-h': false,
};

interface Args {
  readonly config?: string;
  readonly check?: string;
  readonly verbose: boolean;
  readonly help: boolean;
}

/**
 * Strict: every word is a known flag or the value of one that takes a value; anything else is
 * a usage error, never a start (`atcad --config F --check-config` must check F, not run live).
 */
function parse(argv: readonly string[]): Args | string {
  const seen = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!(a in FLAGS)) return `unknown ${a.startsWith('-') ? 'option' : 'argument'} ${a}`;
    if (seen.has(a)) return `${a} given twice`;
    if (FLAGS[a]) {
      const v = argv[i + 1];
      if (v !== undefined && !v.startsWith('-')) {
        seen.set(a, v);
        i++;
      } else if (a === '--check-config') seen.set(a, true);
      else return `${a} needs a FILE`;
    } else seen.set(a, true);
  }
  const config = seen.get('--config');
  const checkFlag = seen.get('--check-config');
  const check = checkFlag === true ? (typeof config === 'string' ? config : undefined) : checkFlag;
  if (checkFlag !== undefined && check === undefined) return '--check-config needs a FILE';
  const help = seen.has('--help') || seen.has('-h');
  if (help && seen.size > 1) return '--help goes alone';
  return {
    ...(typeof config === 'string' ? { config } : {}),
    ...(check === undefined ? {} : { check }),
    verbose: seen.has('--verbose'),
    help,
  };
}

async function main(argv: string[]): Promise<number> {
  const args = parse(argv);
  if (typeof args === 'string') {
    process.stderr.write(`atcad: ${args}\n${USAGE}\n`);
    return 64;
  }
  const check = args.check;
  if (check)
    return checkConfigCommand(
      check,
      (s) => process.stdout.write(`${s}\n`),
      (s) => process.stderr.write(`${s}\n`),
    );
  const file = args.config;
  if (!file || args.help) {
    process.stdout.write(`${USAGE}\n`);
    return args.help ? 0 : 64;
  }
  const log = createDaemonLogger({ verbose: args.verbose });
  let app: ReturnType<typeof buildApp>;
  try {
    // Every problem of the file and of the files it names at once, before anything starts.
    app = buildApp(loadCheckedConfig(file), { log });
    await app.start();
  } catch (e) {
    if (e instanceof ConfigError || e instanceof AtcaError) {
      process.stderr.write(`atcad: ${e.message} [${e.code}]\n`);
      return 1;
    }
    throw e;
  }
  log.warn(`atcad running with ${file}`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await app.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`atcad: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);

// atcad's entry point: `atcad --check-config FILE` or `atcad --config FILE`.
import { ConfigError, loadCheckedConfig } from '../config/load.js';
import { AtcaError } from '../errors.js';
import { buildApp } from './app.js';
import { checkConfigCommand } from './check-config.js';
import { createDaemonLogger } from './logger.js';

const USAGE = 'usage: atcad --config FILE [--verbose] | atcad --check-config FILE';

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  const v = i >= 0 ? argv[i + 1] : undefined;
  return v?.startsWith('--') ? undefined : v;
}

const KNOWN = new Set(['--config', '--check-config', '--verbose', '--help', '-h']);

async function main(argv: string[]): Promise<number> {
  // Anything not understood is an error, never a start: `atcad --config F --check-config` must
  // check F, not run a live daemon with it.
  const unknown = argv.filter((a, i) => a.startsWith('-') && !KNOWN.has(a) && !KNOWN.has(argv[i - 1] ?? ''));
  if (unknown.length > 0) {
    process.stderr.write(`atcad: unknown option ${unknown.join(' ')}\n${USAGE}\n`);
    return 64;
  }
  const check = argv.includes('--check-config') ? (arg(argv, '--check-config') ?? arg(argv, '--config')) : undefined;
  if (argv.includes('--check-config') && !check) {
    process.stderr.write(`atcad: --check-config needs a FILE\n${USAGE}\n`);
    return 64;
  }
  if (check)
    return checkConfigCommand(
      check,
      (s) => process.stdout.write(`${s}\n`),
      (s) => process.stderr.write(`${s}\n`),
    );
  const file = arg(argv, '--config');
  if (!file) {
    process.stdout.write(`${USAGE}\n`);
    return argv.includes('--help') || argv.includes('-h') ? 0 : 64;
  }
  const log = createDaemonLogger({ verbose: argv.includes('--verbose') });
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

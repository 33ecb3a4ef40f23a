// atcad's entry point. This release implements `--check-config`; running the daemon lands
// with the rest of the atcad issue (see docs/configuration.md).
import { checkConfigCommand } from './check-config.js';

const USAGE = 'usage: atcad --check-config FILE';

function main(argv: string[]): number {
  const i = argv.indexOf('--check-config');
  if (i >= 0 && argv[i + 1]) {
    return checkConfigCommand(
      argv[i + 1]!,
      (s) => process.stdout.write(`${s}\n`),
      (s) => process.stderr.write(`${s}\n`),
    );
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n(running the daemon is not implemented in this release)\n`);
  return 64;
}

process.exitCode = main(process.argv.slice(2));

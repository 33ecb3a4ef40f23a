// atcactl's entry point (the build bundles it into dist/atcactl.mjs).
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`atcactl: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);

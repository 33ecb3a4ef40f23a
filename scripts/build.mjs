// Bundles the agent into one executable file and the simulator launcher into dist/.
import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
};

await build({
  ...common,
  entryPoints: ['fence-agents/fence_atca.ts'],
  outfile: 'fence-agents/fence_atca',
  banner: { js: '#!/usr/bin/env node' },
  minify: true,
});
chmodSync('fence-agents/fence_atca', 0o755);

await build({
  ...common,
  entryPoints: ['src/sim/main.ts'],
  outfile: 'dist/sim-main.mjs',
  sourcemap: true,
  external: ['better-sqlite3'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

await build({ ...common, entryPoints: ['bench/fence-bench.ts'], outfile: 'dist/fence-bench.mjs' });

await build({
  ...common,
  entryPoints: ['bench/trap-bench.ts'],
  outfile: 'dist/trap-bench.mjs',
  external: ['better-sqlite3'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

await build({
  ...common,
  entryPoints: ['bench/trap-fuzz.ts'],
  outfile: 'dist/trap-fuzz.mjs',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

await build({
  ...common,
  entryPoints: ['src/daemon/main.ts'],
  outfile: 'dist/atcad.mjs',
  external: ['better-sqlite3'],
  // CommonJS dependencies (yaml) require() Node built-ins; give the ESM bundle a require.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
chmodSync('dist/atcad.mjs', 0o755);

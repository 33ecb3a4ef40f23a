// Bundles the agent into one executable file and the simulator launcher into dist/.
import { chmodSync, cpSync } from 'node:fs';
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
  // execa's CommonJS dependency (cross-spawn) require()s Node built-ins: give the ESM bundle a require.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
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

// The end-to-end benchmarks (bench/e2e-health.ts, bench/pipeline.ts) and their trap sender,
// a process of its own; better-sqlite3 reads atcad's journal (read-only).
for (const [entry, out] of [
  ['bench/e2e-health.ts', 'dist/e2e-health.mjs'],
  ['bench/pipeline.ts', 'dist/pipeline.mjs'],
  ['bench/lib/sender-main.ts', 'dist/bench-sender.mjs'],
  ['bench/three-node.ts', 'dist/three-node.mjs'],
  ['bench/three-node-stress.ts', 'dist/three-node-stress.mjs'],
  ['bench/api.ts', 'dist/bench-api.mjs'],
]) {
  await build({
    ...common,
    entryPoints: [entry],
    outfile: out,
    external: ['better-sqlite3'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
}

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

// The dashboard's static files, found beside the bundle (src/api/dashboard.ts).
cpSync('src/api/dashboard', 'dist/dashboard', { recursive: true });

await build({
  ...common,
  entryPoints: ['src/ctl/cli.ts'],
  outfile: 'dist/atcactl.mjs',
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
});
chmodSync('dist/atcactl.mjs', 0o755);

import { execFileSync } from 'node:child_process';

/** Builds the bundled agent once, so that tests run what Pacemaker would run. */
export default function setup(): void {
  execFileSync('node', ['scripts/build.mjs'], { stdio: 'inherit' });
}

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The web dashboard: static files (src/api/dashboard/, copied beside dist/atcad.mjs by the
 * build) and uPlot from node_modules, read on first request and kept. No build step, no
 * network: the page talks only to this atcad.
 */
const FILES: Readonly<Record<string, { readonly file: () => string; readonly type: string }>> = {
  '/': { file: () => own('index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: () => own('dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: () => own('dashboard.css'), type: 'text/css; charset=utf-8' },
  '/vendor/uPlot.iife.min.js': { file: () => vendor('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript' },
  '/vendor/uPlot.min.css': { file: () => vendor('uplot/dist/uPlot.min.css'), type: 'text/css' },
};

function own(name: string): string {
  return fileURLToPath(new URL(`./dashboard/${name}`, import.meta.url));
}

function vendor(spec: string): string {
  return createRequire(import.meta.url).resolve(spec);
}

const cache = new Map<string, Buffer>();

export function dashboardRoutes(app: FastifyInstance): void {
  for (const [url, f] of Object.entries(FILES)) {
    app.get(url, { schema: { hide: true } }, async (_req, reply) => {
      let body = cache.get(url);
      if (!body) {
        body = readFileSync(f.file());
        cache.set(url, body);
      }
      return reply
        .type(f.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header(
          'content-security-policy',
          "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
        )
        .send(body);
    });
  }
}

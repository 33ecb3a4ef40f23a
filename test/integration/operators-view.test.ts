// The operators' view of a real atcad on the simulated shelf (ipmi_sim), over real sockets: the
// API, atcactl (the built CLI) running and stopped, a real Prometheus scraping it, promtool on
// its metrics and alerting rules, TLS with an openssl certificate, and the dashboard in Debian's
// Chromium driven by playwright-core. Screenshots land in test-artifacts/.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/sim/ports.js';
import { boardSensors } from '../../src/sim/shelf-spec.js';
import { temperaturePet, temperatureSpecific, UPPER_CRITICAL_HIGH } from '../../src/sim/trap-datagram.js';
import { type AtcadUnderTest, startAtcad } from '../helpers/atcad.js';
import { TEST_SHELF } from '../helpers/shelf.js';
import { until } from '../helpers/wait.js';

const REPO = new URL('../..', import.meta.url).pathname;
const ATCACTL = join(REPO, 'dist/atcactl.mjs');
const ARTIFACTS = join(REPO, 'test-artifacts');
const TOKEN = 'ops-token-0123456789abcdefXYZ';

let a: AtcadUnderTest;
let dir: string;
let base: string;
let tokenFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ops-view-'));
  tokenFile = join(dir, 'tokens');
  writeFileSync(tokenFile, `# operators\nops ${TOKEN}\n`, { mode: 0o600 });
  a = await startAtcad({
    spec: { ...TEST_SHELF, shelfManagers: 1 },
    sections: `api: { port: 0, tokens: { file: ${tokenFile} } }\npolling: { hotswapIntervalMs: 500, sensorIntervalMs: 1000, selIntervalMs: 1000 }`,
  });
  const addr = a.app.apiAddress!;
  base = `http://${addr.address}:${addr.port}`;
  await until('slot 1 and its sensors read', () => {
    const s1 = a.app.model().shelves[0]?.slots[0];
    return s1?.hotswap === 'M4' && s1.sensors.some((x) => x.value !== undefined && x.unit === '°C');
  });
}, 60_000);

afterAll(async () => {
  await a?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const json = async (path: string, init?: RequestInit) => {
  const r = await fetch(`${base}${path}`, init);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> & unknown[] };
};

/** Runs the built atcactl — asynchronously: atcad answers from this very process. */
function ctl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [ATCACTL, ...args], { env: { PATH: process.env.PATH } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    p.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const t = setTimeout(() => p.kill(), 20_000);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

async function overTemperature(): Promise<number> {
  const sensor = boardSensors(TEST_SHELF.boards.find((b) => b.slot === 1)!).temperature;
  await a.shelf.setTemperature(1, 85);
  const t = Date.now();
  await a.trap(
    temperatureSpecific(UPPER_CRITICAL_HIGH, false),
    temperaturePet(a.shelf.ipmbOfSlot(1), sensor, UPPER_CRITICAL_HIGH, true, 85),
  );
  return t;
}

describe('the API of a running atcad', () => {
  it('listens on loopback, serves the shelf as the shelf manager reports it, and is ready', async () => {
    expect(a.app.apiAddress?.address).toBe('127.0.0.1');
    const shelves = await json('/api/v1/shelves');
    expect(shelves.status).toBe(200);
    expect(shelves.body[0]).toMatchObject({
      name: 's1',
      shelfManager: { up: true, managers: [{ name: expect.stringMatching(/^127\.0\.0\.1:\d+$/), state: 'answering' }] },
    });
    const s = await json('/api/v1/shelves/s1/slots/1');
    expect(s.body).toMatchObject({ hotswap: 'M4', ipmb: '0x82', health: 'green' });
    expect((s.body.sensors as { thresholds: object }[]).some((x) => Object.keys(x.thresholds).length > 0)).toBe(true);
    expect((await json('/readyz')).body).toEqual({ ready: true, problems: [] });
    const st = await json('/api/v1/status');
    expect(st.body).toMatchObject({ mode: 'offline', journal: { open: true } });
    expect(JSON.stringify(st.body)).not.toContain(TOKEN);
  });

  it('a maintenance switch with the token is journaled with its name and reason, and shows in the model', async () => {
    const r = await fetch(`${base}/api/v1/shelves/s1/slots/3/maintenance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ enabled: true, reason: 'replacing the RTM' }),
    });
    expect(r.status).toBe(202);
    await until('slot 3 in maintenance', () => a.app.model().shelves[0]?.slots.find((x) => x.slot === 3)?.maintenance);
    const d = await json('/api/v1/decisions?kind=maintenance&slot=3');
    const items = d.body.items as { evidence: { summary: string }[] }[];
    expect(items[0]?.evidence[0]?.summary).toBe('maintenance on by ops: replacing the RTM');
    await fetch(`${base}/api/v1/shelves/s1/slots/3/maintenance`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ enabled: false, reason: 'done' }),
    });
    await until('slot 3 back', () => a.app.model().shelves[0]?.slots.find((x) => x.slot === 3)?.maintenance === false);
  });
});

describe('atcactl against it', () => {
  it('status: a plain table when piped, JSON with --json', async () => {
    const plain = await ctl(['--url', base, 'status']);
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^s1 {2}shelf manager up \(127\.0\.0\.1:\d+ answering\)/);
    expect(plain.stdout).toMatch(/\n1 +node1 +M4 +green/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no colour when piped
    expect(plain.stdout).not.toMatch(/\x1b\[/);
    const j = await ctl(['--url', base, '--json', 'status']);
    expect(JSON.parse(j.stdout)[0].slots[0]).toMatchObject({ slot: 1, node: 'node1', hotswap: 'M4' });
  });

  it('slot, decisions, events, and maintenance with a token file', async () => {
    const s = await ctl(['--url', base, 'slot', 's1', '1']);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/s1 slot 1: node1, hot-swap M4/);
    expect(s.stdout).toMatch(/Temp Slot1/);
    expect(
      JSON.parse((await ctl(['--url', base, '--json', 'decisions', '--limit', '5'])).stdout).items.length,
    ).toBeGreaterThan(0);
    expect((await ctl(['--url', base, 'events', '--limit', '3'])).status).toBe(0);
    const m = await ctl(['--url', base, '--token-file', tokenFile, 'maintenance', 'on', 's1', '2', '--reason', 'test']);
    expect(m.status, m.stderr).toBe(0);
    const off = await ctl([
      '--url',
      base,
      '--token-file',
      tokenFile,
      'maintenance',
      'off',
      's1',
      '2',
      '--reason',
      'test',
    ]);
    expect(off.status, off.stderr).toBe(0);
  });

  it('distinct exit codes and clear errors: no slot 9, wrong token, no token file, atcad not running', async () => {
    const missing = await ctl(['--url', base, 'slot', 's1', '9']);
    expect(missing.status).toBe(5);
    expect(missing.stderr).toMatch(/no slot 9 on shelf s1/);
    const wrongFile = join(dir, 'wrong');
    writeFileSync(wrongFile, 'not-the-token-0123456789\n', { mode: 0o600 });
    const wrong = await ctl(['--url', base, '--token-file', wrongFile, 'poll', 's1']);
    expect(wrong.status).toBe(4);
    expect(wrong.stderr).toMatch(/not one of api.tokens/);
    expect(wrong.stderr).not.toContain('not-the-token');
    expect((await ctl(['--url', base, 'poll', 's1'])).status).toBe(2);
    const bad = await ctl([
      '--url',
      base,
      'maintenance',
      'sideways',
      's1',
      '2',
      '--reason',
      'x',
      '--token-file',
      tokenFile,
    ]);
    expect(bad.status).toBe(2);
    const closed = await freePort();
    const down = await ctl(['--url', `http://127.0.0.1:${closed}`, 'status']);
    expect(down.status).toBe(3);
    expect(down.stderr).toContain(`atcad does not answer at http://127.0.0.1:${closed}: ECONNREFUSED`);
  });

  it('events --follow prints events as they are journaled', async () => {
    const p = spawn(process.execPath, [ATCACTL, '--url', base, 'events', '--follow', '--limit', '1']);
    let out = '';
    p.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      // Following once it has printed its first page (the stream is open before the page).
      await until('atcactl printed its first page', () => out.length > 0, 20_000);
      await fetch(`${base}/api/v1/shelves/s1/poll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: '{"reason":"follow test"}',
      });
      await until('the poll event followed', () => /operator poll/.test(out), 10_000);
    } finally {
      p.kill();
    }
  });
});

describe('Prometheus and promtool', () => {
  it('the metrics pass promtool check metrics and carry the shelf', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    expect(text).toMatch(/^atca_slot_hotswap_state\{shelf="s1",slot="1",node="node1"\} 4$/m);
    expect(text).toMatch(/^atca_temperature_celsius\{shelf="s1",slot="1",node="node1",sensor="[^"]+",id="\d+"\} \d+/m);
    expect(text).toMatch(/^atca_shelf_manager_up\{shelf="s1"\} 1$/m);
    expect(text).toMatch(/^atca_shelf_manager_answering\{shelf="s1",manager="127\.0\.0\.1:\d+"\} 1$/m);
    expect(text).toMatch(/^atcad_traps_received_total\{outcome="accepted"\} \d+$/m);
  });

  it('the alerting rules pass promtool check rules and their own unit tests', () => {
    const rules = join(REPO, 'docs/prometheus');
    const check = spawnSync('promtool', ['check', 'rules', 'atcad-alerts.yml'], { cwd: rules, encoding: 'utf8' });
    expect(check.status, check.stdout + check.stderr).toBe(0);
    const test = spawnSync('promtool', ['test', 'rules', 'atcad-alerts.test.yml'], { cwd: rules, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
  });

  it('a real Prometheus scrapes atcad and sees its slots', async () => {
    const port = await freePort();
    const pdir = join(dir, 'prom');
    mkdirSync(pdir);
    const target = base.replace('http://', '');
    writeFileSync(
      join(pdir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\nrule_files: [${join(REPO, 'docs/prometheus/atcad-alerts.yml')}]\nscrape_configs:\n  - job_name: atcad\n    static_configs: [{ targets: ['${target}'] }]\n`,
    );
    const prom = spawn(
      'prometheus',
      [
        `--config.file=${join(pdir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(pdir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const q = async (expr: string) => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`).catch(
          () => undefined,
        );
        if (!r?.ok) return undefined;
        const body = (await r.json()) as {
          data: { result: { metric: Record<string, string>; value: [number, string] }[] };
        };
        return body.data.result;
      };
      const up = await until(
        'Prometheus scraped atcad',
        async () => (await q('up{job="atcad"} == 1'))?.[0],
        30_000,
        250,
      );
      expect(up.metric.instance).toBe(target);
      const hs = await until('hot-swap states in Prometheus', async () => {
        const r = await q('atca_slot_hotswap_state{job="atcad"}');
        return r && r.length > 0 ? r : undefined;
      });
      expect(hs.find((x) => x.metric.slot === '1')?.value[1]).toBe('4');
      // Every query of the shipped Grafana dashboard is valid PromQL, and the health panel
      // gives one value per slot.
      const dash = JSON.parse(readFileSync(join(REPO, 'docs/prometheus/grafana-dashboard.json'), 'utf8')) as {
        panels: { title: string; targets: { expr: string }[] }[];
      };
      for (const p of dash.panels)
        for (const t of p.targets) expect(await q(t.expr), `${p.title}: ${t.expr}`).toBeDefined();
      const healthPanel = await q(dash.panels[0]!.targets[0]!.expr);
      expect(healthPanel?.map((x) => x.value[1]).sort()).toEqual(['1', '1', '1']);
      const rules = await fetch(`http://127.0.0.1:${port}/api/v1/rules`).then(
        (r) => r.json() as Promise<{ data: { groups: { rules: unknown[] }[] } }>,
      );
      expect(rules.data.groups[0]?.rules).toHaveLength(7);
    } finally {
      prom.kill('SIGTERM');
      await new Promise((r) => prom.once('exit', r));
    }
  }, 60_000);
});

describe('the dashboard in Chromium', () => {
  it('draws the shelf, shows a fault live without reload, opens a slot, switches maintenance', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/`);
      await page.waitForSelector('[data-slot="s1/1"].green');
      await page.waitForSelector('#live.on');
      expect(await page.locator('button.slot').count()).toBe(3);
      expect(await page.locator('.slot.empty').count()).toBe(11);
      expect(await page.locator('.shmc').first().textContent()).toMatch(/ShMC 127\.0\.0\.1:\d+: answering/);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1-shelf.png') });

      // A fault on the shelf: the page shows it through the event stream, without a reload.
      const t = await overTemperature();
      await page.waitForSelector('[data-slot="s1/1"].red', { timeout: 10_000 });
      console.log(`dashboard: trap sent → slot 1 red on the page: ${Date.now() - t} ms`);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-2-red.png') });

      // A click: the slot's sensors, its reasons with evidence, the chart.
      await page.click('[data-slot="s1/1"]');
      await page.waitForSelector('#detail:not([hidden]) #d-sensors tbody tr');
      expect(await page.locator('#d-sensors').textContent()).toMatch(/Temp Slot1/);
      expect(await page.locator('#d-reasons').textContent()).toMatch(/temperature-critical/);
      await page.waitForSelector('#d-chart canvas');
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-3-slot.png') });

      // Maintenance with the token: it takes effect, and the card shows it.
      await page.fill('#token', TOKEN);
      await page.dispatchEvent('#token', 'change');
      await page.fill('#m-reason', 'swap the blade');
      await page.click('#m-toggle');
      // What atcad answered, if it refused (the message is on the page).
      await page.waitForSelector('#m-msg:not(:empty)');
      expect(await page.locator('#m-msg').textContent()).toMatch(/asked/);
      await page.waitForSelector('[data-slot="s1/1"].maintenance', { timeout: 10_000 });
      expect(a.app.model().shelves[0]?.slots[0]?.maintenance).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'dashboard-4-maintenance.png') });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
      await a.shelf.setTemperature(1, 40);
    }
  }, 60_000);
});

describe('TLS and refused configurations', () => {
  it('serves over TLS with the configured certificate; a key readable by others is refused', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    chmodSync(key, 0o600);
    const t = await startAtcad({ sections: `api: { port: 0, tls: { cert: ${cert}, key: { file: ${key} } } }` });
    try {
      const addr = t.app.apiAddress!;
      expect(addr.tls).toBe(true);
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port: addr.port, path: '/api/v1/shelves', ca: readFileSync(cert) },
          (res) => {
            let s = '';
            res.on('data', (c) => {
              s += c;
            });
            res.on('end', () => resolve(s));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(JSON.parse(body)[0].name).toBe('s1');
    } finally {
      await t.stop();
    }
    chmodSync(key, 0o644);
    await expect(
      startAtcad({ sections: `api: { port: 0, tls: { cert: ${cert}, key: { file: ${key} } } }` }),
    ).rejects.toThrow(/api.tls.key: .*mode 0644/);
  }, 60_000);

  it('a token file readable by others, or a port in use, stops atcad from starting, saying why', async () => {
    const loose = join(dir, 'loose-tokens');
    writeFileSync(loose, `ops ${TOKEN}\n`, { mode: 0o644 });
    chmodSync(loose, 0o644);
    await expect(startAtcad({ sections: `api: { port: 0, tokens: { file: ${loose} } }` })).rejects.toThrow(
      /api.tokens: .*mode 0644/,
    );
    const port = Number(new URL(base).port);
    await expect(startAtcad({ sections: `api: { port: ${port} }` })).rejects.toThrow(
      /ATCA_ERR_API_CONFIG|cannot listen on 127.0.0.1:\d+: .*EADDRINUSE/,
    );
  }, 60_000);
});

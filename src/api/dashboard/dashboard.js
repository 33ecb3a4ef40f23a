// atcad's dashboard: plain browser JavaScript, no build step, talks only to this atcad.

(() => {
  const $ = (s) => document.querySelector(s);
  const el = (tag, props = {}, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  };
  const time = (ms) => el('time', { datetime: new Date(ms).toISOString() }, new Date(ms).toLocaleTimeString());
  const slots = new Map(); // "shelf/slot" → last view
  let open; // { shelf, slot } of the detail panel
  let chart;
  const history = new Map(); // sensor key → [[t], [v]]

  const tokenInput = $('#token');
  tokenInput.value = sessionStorage.getItem('atcad-token') ?? '';
  tokenInput.addEventListener('change', () => sessionStorage.setItem('atcad-token', tokenInput.value));

  async function get(path) {
    const r = await fetch(path, { headers: { accept: 'application/json' } });
    const body = await r.json();
    if (!r.ok) throw new Error(`${body.code}: ${body.message}`);
    return body;
  }

  function drawShelves(shelves) {
    const root = $('#shelves');
    root.replaceChildren();
    for (const s of shelves) {
      // Each shelf manager marked as atcad last saw it: the one answering, the other's last state.
      const managers = (s.shelfManager.managers ?? []).map((m) =>
        el(
          'span',
          {
            class: `shmc ${m.state === 'failed' ? 'down' : m.state === 'not tried' ? 'unknown' : 'up'}`,
            title: m.error ?? m.state,
          },
          `ShMC ${m.name}: ${m.state}`,
        ),
      );
      const row = el('div', { class: 'slots' });
      // Every front-board position of the shelf, as the hardware shows them: slots atcad does
      // not watch are drawn empty.
      const last = Math.max(14, ...s.slots.map((v) => v.slot));
      for (let n = 1; n <= last; n++) {
        const v = s.slots.find((x) => x.slot === n);
        if (v) {
          slots.set(`${s.name}/${v.slot}`, v);
          row.append(slotCard(v));
        } else
          row.append(
            el(
              'div',
              { class: 'slot empty', title: `slot ${n}: not watched by atcad` },
              el('span', { class: 'n' }, String(n)),
            ),
          );
      }
      root.append(el('div', { class: 'shelf', 'data-shelf': s.name }, el('h2', {}, s.name, ...managers), row));
    }
  }

  function slotCard(v) {
    const known = /^M[0-7]$/.test(v.hotswap);
    const cls = ['slot', v.health, v.maintenance ? 'maintenance' : '', known ? '' : 'unknown'].join(' ');
    const title = `slot ${v.slot}: ${v.node}, ${v.hotswap}, health ${v.health}${v.maintenance ? ', maintenance' : ''}${v.reasons.length ? ` — ${v.reasons.join(', ')}` : ''}`;
    const b = el(
      'button',
      {
        class: cls,
        type: 'button',
        title,
        'data-slot': `${v.shelf}/${v.slot}`,
        onclick: () => openSlot(v.shelf, v.slot),
      },
      el('span', { class: 'n' }, String(v.slot)),
      el('span', { class: 'node' }, v.node),
      el('span', { class: 'hs' }, v.hotswap),
    );
    if (open && open.shelf === v.shelf && open.slot === v.slot) b.classList.add('selected');
    return b;
  }

  /** A slot's view changed (the stream's `slot` event): redraw its card, and the detail if open. */
  function slotChanged(v) {
    const summary = { ...v, reasons: v.reasons.map((r) => r.fault ?? r) };
    slots.set(`${v.shelf}/${v.slot}`, summary);
    const card = document.querySelector(`[data-slot="${CSS.escape(`${v.shelf}/${v.slot}`)}"]`);
    if (card) card.replaceWith(slotCard(summary));
    if (open && open.shelf === v.shelf && open.slot === v.slot) void openSlot(v.shelf, v.slot, true);
  }

  async function openSlot(shelf, slot, refresh = false) {
    open = { shelf, slot };
    for (const c of document.querySelectorAll('.slot.selected')) c.classList.remove('selected');
    document.querySelector(`[data-slot="${CSS.escape(`${shelf}/${slot}`)}"]`)?.classList.add('selected');
    const d = await get(`/api/v1/shelves/${encodeURIComponent(shelf)}/slots/${slot}`);
    if (!open || open.shelf !== shelf || open.slot !== slot) return;
    $('#detail').hidden = false;
    $('#d-title').textContent = `${shelf} slot ${slot} — ${d.node}`;
    $('#d-state').textContent =
      `hot-swap ${d.hotswap} · health ${d.health} · IPMC ${d.ipmb ?? 'not found'}${d.standby ? ' · standby' : ''}${d.pending ? ` · waiting: ${d.pending.action} (${d.pending.fault})` : ''}${d.inFlight ? ` · ${d.inFlight} in progress` : ''}`;
    drawMaintenance(d);
    $('#d-reasons').replaceChildren(
      ...(d.reasons.length === 0
        ? [el('li', {}, 'nothing wrong')]
        : d.reasons.map((r) =>
            el(
              'li',
              {},
              el('span', { class: 'kind' }, r.fault),
              r.confirmed ? 'confirmed' : 'claimed, not confirmed yet',
              ' since ',
              time(r.since),
              ...r.evidence.map((e) => el('div', { class: 'ev' }, time(e.at), ` ${e.source}: ${e.summary}`)),
            ),
          )),
    );
    $('#d-sensors tbody').replaceChildren(
      ...d.sensors.map((s) =>
        el(
          'tr',
          {},
          el('td', {}, s.name),
          el(
            'td',
            {},
            s.error ? el('span', { class: 'err' }, s.error) : s.value === null ? '–' : `${s.value} ${s.unit ?? ''}`,
          ),
          el('td', {}, s.status.join(', ') || 'ok'),
          el(
            'td',
            {},
            Object.entries(s.thresholds)
              .map(([k, v]) => `${k} ${v}`)
              .join(' · '),
          ),
        ),
      ),
    );
    drawChart(shelf, slot, d.sensors);
    if (!refresh || $('#d-history').childElementCount === 0) {
      const h = await get(`/api/v1/decisions?shelf=${encodeURIComponent(shelf)}&slot=${slot}&limit=30`);
      $('#d-history').replaceChildren(...h.items.map(decisionItem));
    }
  }

  /**
   * The maintenance switch of the open slot. Built once per slot and then only updated: the
   * slot's view changes often (each sensor reading), and rebuilding would wipe a reason being
   * typed.
   */
  let maint; // { key, d, state, button, reason, msg }
  function drawMaintenance(d) {
    const key = `${d.shelf}/${d.slot}`;
    if (maint && maint.key === key) {
      maint.d = d;
      maint.state.textContent = `maintenance: ${d.maintenance ? 'on' : 'off'} `;
      maint.button.textContent = d.maintenance ? 'End maintenance' : 'Start maintenance';
      return;
    }
    const state = el('span', {}, `maintenance: ${d.maintenance ? 'on' : 'off'} `);
    const reason = el('input', { type: 'text', placeholder: 'why (journaled)', size: '24', id: 'm-reason' });
    const msg = el('span', { id: 'm-msg' });
    const button = el(
      'button',
      {
        type: 'button',
        id: 'm-toggle',
        onclick: async () => {
          const cur = maint.d;
          const r = await fetch(`/api/v1/shelves/${encodeURIComponent(cur.shelf)}/slots/${cur.slot}/maintenance`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenInput.value}` },
            body: JSON.stringify({ enabled: !cur.maintenance, reason: reason.value }),
          });
          const body = await r.json();
          msg.textContent = r.ok ? ' asked; it shows when applied' : ` ${body.message}`;
          msg.className = r.ok ? '' : 'err';
        },
      },
      d.maintenance ? 'End maintenance' : 'Start maintenance',
    );
    maint = { key, d, state, button, reason, msg };
    $('#d-maint').replaceChildren(el('p', {}, state, button, ' ', reason, msg));
  }

  /** Recent readings of the slot's sensors with a unit: from atcad's ring, then live. */
  async function drawChart(shelf, slot, sensors) {
    const box = $('#d-chart');
    const analog = sensors.filter((s) => s.unit);
    if (analog.length === 0 || typeof uPlot === 'undefined') {
      chart?.destroy();
      box.replaceChildren();
      chart = undefined;
      return;
    }
    const series = await Promise.all(
      analog.map((s) => get(`/api/v1/shelves/${encodeURIComponent(shelf)}/slots/${slot}/sensors/${s.number}/history`)),
    );
    const ts = [...new Set(series.flatMap((h) => h.points.map((p) => p[0])))].sort((a, b) => a - b);
    const data = [ts.map((t) => t / 1000)];
    for (const h of series) {
      const byT = new Map(h.points.map((p) => [p[0], p[1]]));
      data.push(ts.map((t) => byT.get(t) ?? null));
    }
    const opts = {
      width: 380,
      height: 160,
      series: [
        {},
        ...analog.map((s, i) => ({
          label: `${s.name} (${s.unit})`,
          stroke: ['#cc2f2f', '#2e6fd9', '#2e9d4a', '#d9a400'][i % 4],
          spanGaps: true,
        })),
      ],
      axes: [{}, {}],
    };
    chart?.destroy();
    box.replaceChildren();
    chart = new uPlot(opts, data, box);
    history.set(`${shelf}/${slot}`, data);
  }

  function decisionItem(d) {
    return el(
      'li',
      {},
      time(d.at),
      el('span', { class: 'kind' }, d.kind),
      `${d.shelf}/${d.slot}${d.node ? ` (${d.node})` : ''}: ${d.reason}`,
    );
  }

  function addDecision(d) {
    const list = $('#decisions');
    list.prepend(decisionItem(d));
    while (list.childElementCount > 200) list.lastElementChild.remove();
    if (open && open.shelf === d.shelf && open.slot === d.slot) $('#d-history').prepend(decisionItem(d));
  }

  function connect() {
    const es = new EventSource('/api/v1/stream');
    const live = $('#live');
    // At every (re)connection the page is read again: what changed while it was not connected
    // (a blip, atcad restarting) must not be missing from it.
    es.onopen = () => {
      live.textContent = 'live';
      live.className = 'tag on';
      refresh().catch((e) => {
        $('#shelves').replaceChildren(el('p', { class: 'err' }, `cannot read atcad: ${e.message}`));
      });
    };
    es.onerror = () => {
      live.textContent = 'reconnecting…';
      live.className = 'tag off';
      // The browser gives up after an answer that is not the stream (a 503 while atcad starts,
      // every stream taken): start again a little later.
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        setTimeout(connect, 3000);
      }
    };
    es.addEventListener('slot', (e) => slotChanged(JSON.parse(e.data)));
    es.addEventListener('decision', (e) => {
      const d = JSON.parse(e.data);
      const i = d.slot.lastIndexOf('/');
      addDecision({ ...d, shelf: d.slot.slice(0, i), slot: Number(d.slot.slice(i + 1)) });
    });
  }

  $('#close').addEventListener('click', () => {
    open = undefined;
    $('#detail').hidden = true;
    for (const c of document.querySelectorAll('.slot.selected')) c.classList.remove('selected');
  });

  async function refresh() {
    const [shelves, st, decisions] = await Promise.all([
      get('/api/v1/shelves'),
      get('/api/v1/status'),
      get('/api/v1/decisions?limit=50'),
    ]);
    $('#mode').textContent = `${st.mode} · ${st.version}`;
    drawShelves(shelves);
    $('#decisions').replaceChildren(...decisions.items.map(decisionItem));
    if (open) await openSlot(open.shelf, open.slot, true);
  }

  // The stream first: each (re)connection reads the page afresh.
  connect();
})();

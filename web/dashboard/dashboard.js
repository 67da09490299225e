// leadgate operations dashboard (served at /dashboard/assets/dashboard.js).
//
// Fetches /dashboard/data (docs/dashboard.md) for the selected environment and range every 15 s
// and renders it. Runs under Content-Security-Policy: default-src 'self' — no inline code, no
// eval, no style attributes (element.style through the CSSOM is allowed). Charts: uPlot, served
// from /dashboard/assets/uPlot.iife.min.js (pinned in tools/openapi/package-lock.json).
//
// Testability: every displayed summary number carries data-metric="<summary key>"; table rows carry
// data-key plus data-route / data-partner + data-call / data-slo, and their cells data-field;
// <body> carries data-state (loading | ok | error) and, after each successful render,
// data-view="<environment>|<range>" and an increasing data-render-count.
'use strict';

(function () {
  const REFRESH_MS = 15000;
  const FETCH_TIMEOUT_MS = 12000;
  const DASH = '\u2014'; // "—": no value (rate without denominator, latency without requests)
  const ENVIRONMENTS = ['all', 'orbit', 'homfinity'];
  const RANGES = ['hour', 'day', 'week'];

  // ------------------------------------------------------------------ formatting
  // counts: integers with thousands separators ("1,234"); rates: percent with 1 decimal
  // ("97.5%"); ms: 1 decimal ("12.3 ms"); bytes: MB (2^20 bytes) with 1 decimal ("30.0 MB").

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const fixed1 = (v) => v.toFixed(1);
  const fmt = {
    count: (v) => (isNum(v) ? Math.round(v).toLocaleString('en-US') : DASH),
    decimal: (v) => (isNum(v) ? fixed1(v) : DASH),
    rate: (v) => (isNum(v) ? fixed1(v * 100) + '%' : DASH),
    percent: (v) => (isNum(v) ? fixed1(v) + '%' : DASH),
    ms: (v) => (isNum(v) ? fixed1(v) + ' ms' : DASH),
    mb: (v) => (isNum(v) ? fixed1(v / 1048576) + ' MB' : DASH),
    duration: (v) => {
      if (!isNum(v)) return DASH;
      const a = Math.abs(v);
      if (a < 60) return fixed1(v) + ' s';
      if (a < 3600) return fixed1(v / 60) + ' min';
      if (a < 86400) return fixed1(v / 3600) + ' h';
      return fixed1(v / 86400) + ' d';
    },
    seconds: (v) => (isNum(v) ? String(v) + ' s' : DASH),
    // Objectives need more than one decimal (99.95%): up to 2, trailing zeros dropped.
    objective: (v) => (isNum(v) ? (v * 100).toFixed(2).replace(/\.?0+$/, '') + '%' : DASH),
    up: (v) => (v === true ? 'up' : v === false ? 'down' : DASH),
  };

  const METRIC_FORMAT = {
    requests: 'count', requests_per_minute: 'decimal', errors_4xx: 'count', errors_5xx: 'count',
    error_rate: 'rate', success_rate: 'rate', p50_ms: 'ms', p95_ms: 'ms', p99_ms: 'ms',
    db_up: 'up', db_operations: 'count', db_p50_ms: 'ms', db_p95_ms: 'ms', db_p99_ms: 'ms',
    otp_sent: 'count', otp_verified: 'count', otp_success_rate: 'rate',
    leads_created: 'count', leads_completed: 'count', lead_conversion_rate: 'rate',
    avg_lead_processing_seconds: 'duration',
    whatsapp_inbound: 'count', whatsapp_answered: 'count', assistant_accuracy: 'rate',
    whatsapp_sent: 'count', whatsapp_delivered: 'count', whatsapp_read: 'count',
    whatsapp_failed: 'count', delivery_rate: 'rate',
    cpu_percent: 'percent', rss_bytes: 'mb',
    outbox_pending: 'count', outbox_dead: 'count', inbox_failed: 'count',
    database_size_bytes: 'mb', database_growth_bytes: 'mb',
    whatsapp_provider_availability: 'rate',
  };

  function formatMetric(key, value) {
    const kind = METRIC_FORMAT[key];
    if (kind) return fmt[kind](value);
    if (typeof value === 'boolean') return value ? 'yes' : 'no';
    if (!isNum(value)) return DASH;
    return Number.isInteger(value) ? fmt.count(value) : fmt.decimal(value);
  }

  const pad2 = (n) => String(n).padStart(2, '0');
  const clock = (d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  const dayClock = (d) =>
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;

  // ------------------------------------------------------------------ DOM helpers

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    if (attrs) {
      for (const [name, value] of Object.entries(attrs)) {
        if (value === undefined || value === null) continue;
        if (name === 'class') node.className = value;
        else node.setAttribute(name, value);
      }
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function cell(field, text, classes) {
    const td = el('td', { 'data-field': field, class: classes || undefined }, text);
    if (text === DASH) td.classList.add('is-null');
    return td;
  }

  // ------------------------------------------------------------------ state

  const state = {
    environment: 'all',
    range: 'hour',
    timer: null,
    inflight: null,
    lastSuccess: null,
    renderCount: 0,
    charts: {},
  };

  function readQuery() {
    const q = new URLSearchParams(window.location.search);
    if (ENVIRONMENTS.includes(q.get('environment'))) state.environment = q.get('environment');
    if (RANGES.includes(q.get('range'))) state.range = q.get('range');
  }

  function writeQuery() {
    const q = new URLSearchParams();
    if (state.environment !== 'all') q.set('environment', state.environment);
    if (state.range !== 'hour') q.set('range', state.range);
    const search = q.toString();
    const url = window.location.pathname + (search ? '?' + search : '') + window.location.hash;
    window.history.replaceState(null, '', url);
  }

  // ------------------------------------------------------------------ loading

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(load, REFRESH_MS);
  }

  async function describeFailure(res) {
    let detail = '';
    try {
      const type = res.headers.get('content-type') || '';
      if (type.includes('json')) {
        const body = await res.json();
        detail = [body.title, body.detail].filter(Boolean).join(': ');
      }
    } catch (_) {
      /* the status alone will do */
    }
    return `HTTP ${res.status}${detail ? ' \u2013 ' + detail : ''}`;
  }

  async function load() {
    if (state.inflight) state.inflight.abort();
    clearTimeout(state.timer);
    const ctl = new AbortController();
    state.inflight = ctl;
    let timedOut = false;
    const killer = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, FETCH_TIMEOUT_MS);
    const environment = state.environment;
    const range = state.range;
    document.body.dataset.state = 'loading';
    try {
      const url = `/dashboard/data?range=${encodeURIComponent(range)}&environment=${encodeURIComponent(environment)}`;
      const res = await fetch(url, {
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { Accept: 'application/json' },
        signal: ctl.signal,
      });
      if (res.status === 401) {
        window.location.assign('/dashboard/login');
        return;
      }
      if (!res.ok) throw new Error(await describeFailure(res));
      const data = await res.json();
      if (ctl !== state.inflight) return; // superseded by a newer request
      render(data, environment, range);
      state.lastSuccess = new Date();
      $('#updated').textContent = 'updated ' + clock(state.lastSuccess);
      hideBanner();
      document.body.dataset.state = 'ok';
      document.body.dataset.view = `${environment}|${range}`;
      state.renderCount += 1;
      document.body.dataset.renderCount = String(state.renderCount);
    } catch (err) {
      if (ctl !== state.inflight) return;
      if (err && err.name === 'AbortError' && !timedOut) return;
      const reason = timedOut ? 'the request timed out' : (err && err.message) || String(err);
      showBanner(reason);
      document.body.dataset.state = 'error';
    } finally {
      clearTimeout(killer);
      if (ctl === state.inflight) {
        state.inflight = null;
        schedule();
      }
    }
  }

  function showBanner(reason) {
    const banner = $('#error-banner');
    const since = state.lastSuccess
      ? `The numbers shown are from ${clock(state.lastSuccess)}.`
      : 'No data has been loaded yet.';
    banner.textContent = `Could not load the dashboard data (${reason}) at ${clock(new Date())}. ${since} Retrying every 15 s.`;
    banner.hidden = false;
    if (!state.lastSuccess) $('#updated').textContent = 'not loaded';
  }

  function hideBanner() {
    const banner = $('#error-banner');
    banner.hidden = true;
    banner.textContent = '';
  }

  // ------------------------------------------------------------------ rendering

  function render(data, environment, range) {
    const summary = data.summary || {};
    renderMetrics(summary);
    renderHeader(data);
    renderEndpoints(data.endpoints || []);
    renderErrorTypes(data.error_types || []);
    renderPartners(data.partners || []);
    renderSlos(data.slos || []);
    renderCharts(data);
    document.title = `leadgate · ${environment === 'all' ? 'all environments' : environment} · ${range}`;
  }

  function renderMetrics(summary) {
    for (const node of $$('[data-metric]')) {
      const key = node.dataset.metric;
      const value = summary[key];
      const text = formatMetric(key, value);
      node.textContent = text;
      node.classList.toggle('is-null', text === DASH);
      if (node.hasAttribute('data-bad-if-positive')) {
        node.classList.toggle('is-bad', isNum(value) && value > 0);
      }
      if (key === 'db_up') {
        node.classList.toggle('db-up', value === true);
        node.classList.toggle('db-down', value === false);
      }
    }
  }

  function renderHeader(data) {
    const instances = Array.isArray(data.instances) ? data.instances : [];
    $('#instances').textContent = instances.length
      ? `${instances.length} instance${instances.length === 1 ? '' : 's'}: ${instances.join(', ')}`
      : 'no instance has reported in this window';
    if (isNum(data.from) && isNum(data.to)) {
      $('#window').textContent =
        `${dayClock(new Date(data.from * 1000))} \u2013 ${dayClock(new Date(data.to * 1000))} (${stepLabel(data.step_seconds)} buckets)`;
    }
    const per = 'per ' + stepLabel(data.step_seconds);
    for (const node of $$('.per-step')) node.textContent = `(${per})`;
  }

  function stepLabel(step) {
    if (step === 60) return 'minute';
    if (step === 3600) return 'hour';
    if (isNum(step) && step % 60 === 0) return `${step / 60} minutes`;
    return isNum(step) ? `${step} s` : 'bucket';
  }

  function fillTable(name, rows, emptyText, columns) {
    const tbody = $(`[data-table="${name}"] tbody`);
    const fragment = document.createDocumentFragment();
    if (rows.length === 0) {
      const tr = el('tr', { class: 'empty-row' });
      tr.appendChild(el('td', { colspan: String(columns) }, emptyText));
      fragment.appendChild(tr);
    }
    for (const row of rows) fragment.appendChild(row);
    tbody.replaceChildren(fragment);
  }

  function renderEndpoints(endpoints) {
    const sorted = [...endpoints].sort((a, b) => (b.requests || 0) - (a.requests || 0) ||
      String(a.route).localeCompare(String(b.route)));
    const rows = sorted.map((e) => {
      const tr = el('tr', { 'data-key': e.route, 'data-route': e.route });
      tr.append(
        cell('route', e.route, 'route'),
        cell('requests', fmt.count(e.requests), 'num'),
        cell('errors_4xx', fmt.count(e.errors_4xx), 'num'),
        cell('errors_5xx', fmt.count(e.errors_5xx), 'num' + (e.errors_5xx > 0 ? ' is-bad' : '')),
        cell('success_rate', fmt.rate(e.success_rate), 'num'),
        cell('p50_ms', fmt.ms(e.p50_ms), 'num'),
        cell('p95_ms', fmt.ms(e.p95_ms), 'num'),
        cell('p99_ms', fmt.ms(e.p99_ms), 'num'),
      );
      return tr;
    });
    fillTable('endpoints', rows, 'No requests in this window.', 8);
  }

  function renderErrorTypes(errorTypes) {
    const sorted = [...errorTypes].sort((a, b) => (b.count || 0) - (a.count || 0) ||
      String(a.route).localeCompare(String(b.route)) || (a.status || 0) - (b.status || 0));
    const rows = sorted.map((e) => {
      const tr = el('tr', {
        'data-key': `${e.route}|${e.status}|${e.code}`,
        'data-route': e.route,
        'data-status': String(e.status),
        'data-code': e.code,
      });
      tr.append(
        cell('route', e.route, 'route'),
        cell('status', String(e.status), 'num' + (e.status >= 500 ? ' is-bad' : '')),
        cell('code', e.code || DASH, 'code'),
        cell('count', fmt.count(e.count), 'num'),
      );
      return tr;
    });
    fillTable('error_types', rows, 'No errors in this window.', 4);
  }

  function renderPartners(partners) {
    const sorted = [...partners].sort((a, b) => String(a.partner).localeCompare(String(b.partner)) ||
      String(a.call).localeCompare(String(b.call)));
    const rows = sorted.map((p) => {
      const tr = el('tr', {
        'data-key': `${p.partner}|${p.call}`,
        'data-partner': p.partner,
        'data-call': p.call,
      });
      tr.append(
        cell('partner', p.partner),
        cell('call', p.call, 'code'),
        cell('calls', fmt.count(p.calls), 'num'),
        cell('failures', fmt.count(p.failures), 'num' + (p.failures > 0 ? ' is-bad' : '')),
        cell('error_rate', fmt.rate(p.error_rate), 'num'),
        cell('retries', fmt.count(p.retries), 'num'),
        cell('p50_ms', fmt.ms(p.p50_ms), 'num'),
        cell('p95_ms', fmt.ms(p.p95_ms), 'num'),
      );
      return tr;
    });
    fillTable('partners', rows, 'No partner calls in this window.', 8);
  }

  function renderSlos(slos) {
    const grid = $('[data-table="slos"]');
    const template = $('#slo-card');
    const fragment = document.createDocumentFragment();
    for (const slo of slos) {
      const card = template.content.firstElementChild.cloneNode(true);
      card.dataset.key = slo.name;
      card.dataset.slo = slo.name;
      card.classList.toggle('breached', slo.met === false);
      $('.slo-name', card).textContent = slo.name;
      $('.slo-routes', card).textContent = (slo.routes || []).join(', ');
      const set = (field, text) => {
        const node = $(`[data-field="${field}"]`, card);
        node.textContent = text;
      };
      set('met', slo.met === false ? 'breached' : slo.met === true ? 'met' : DASH);
      set('threshold_seconds', fmt.seconds(slo.threshold_seconds));
      set('objective', fmt.objective(slo.objective));
      set('attainment', fmt.rate(slo.attainment));
      set('good', fmt.count(slo.good));
      set('total', fmt.count(slo.total));
      set('error_budget_remaining', fmt.rate(slo.error_budget_remaining));
      const fill = $('.bar-fill', card);
      const budget = isNum(slo.error_budget_remaining)
        ? Math.max(0, Math.min(1, slo.error_budget_remaining)) : 0;
      fill.style.width = (budget * 100).toFixed(1) + '%'; // CSSOM: allowed by the CSP
      fill.classList.toggle('low', budget > 0 && budget < 0.25);
      fill.classList.toggle('empty', budget === 0);
      fragment.appendChild(card);
    }
    if (slos.length === 0) fragment.appendChild(el('p', { class: 'note' }, 'No SLOs defined.'));
    grid.replaceChildren(fragment);
  }

  // ------------------------------------------------------------------ charts (uPlot)

  const COLORS = {
    blue: '#3e6a8a', red: '#b23b3b', green: '#2f7d57', amber: '#a86a12',
    grey: '#7b8794', purple: '#6b5b95', teal: '#2c7a7b',
  };
  const FILLS = { blue: 'rgba(62,106,138,0.12)', green: 'rgba(47,125,87,0.10)' };

  const MB = (v) => (isNum(v) ? v / 1048576 : null);

  // id -> list of series: [label, series key, colour, optional transform, optional fill]
  const CHARTS = {
    'chart-requests': [['requests / min', 'requests', 'blue', null, 'blue'],
                       ['errors / min', 'errors', 'red']],
    'chart-latency': [['p50', 'p50_ms', 'green'], ['p95', 'p95_ms', 'amber'], ['p99', 'p99_ms', 'red']],
    'chart-db': [['db p95', 'db_p95_ms', 'purple']],
    'chart-otp': [['sent', 'otp_sent', 'blue'], ['verified', 'otp_verified', 'green']],
    'chart-leads': [['created', 'leads_created', 'blue'], ['completed', 'leads_completed', 'green']],
    'chart-assistant': [['inbound', 'whatsapp_inbound', 'blue'], ['answered', 'whatsapp_answered', 'green']],
    'chart-cpu': [['CPU %', 'cpu_percent', 'teal', null, 'blue']],
    'chart-rss': [['RSS MB', 'rss_bytes', 'purple', MB]],
    'chart-outbox': [['pending', 'outbox_pending', 'amber'], ['dead', 'outbox_dead', 'red']],
    'chart-dbsize': [['size MB', 'database_size_bytes', 'grey', MB, 'green']],
  };

  function chartWidth(node) {
    return Math.max(240, Math.floor(node.clientWidth || node.parentNode.clientWidth || 400));
  }

  function axisValue(v) {
    if (!isNum(v)) return '';
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
    if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
    if (a >= 100 || Number.isInteger(v)) return v.toFixed(0);
    return v.toFixed(a < 1 ? 2 : 1);
  }

  // Tick labels with as many decimals as the tick spacing needs (5.02, 5.04 … not 5.0, 5.0).
  function tickValues(u, splits, axisIdx, space, incr) {
    if (!isNum(incr) || incr <= 0 || incr >= 1) return splits.map(axisValue);
    const decimals = Math.min(4, Math.max(0, Math.ceil(-Math.log10(incr) - 1e-9)));
    return splits.map((v) => (isNum(v) ? v.toFixed(decimals) : ''));
  }

  // Lines need two neighbours: values with none (a single busy minute) are drawn as points.
  function sparsePoints(u, seriesIdx) {
    const values = u.data[seriesIdx] || [];
    for (let i = 0; i < values.length; i += 1) {
      if (values[i] === null || values[i] === undefined) continue;
      const before = i > 0 ? values[i - 1] : null;
      const after = i + 1 < values.length ? values[i + 1] : null;
      if ((before === null || before === undefined) && (after === null || after === undefined)) return true;
    }
    return false;
  }

  // Sizes grow slowly: their charts zoom on the values instead of starting at zero.
  const FLOATING_Y = new Set(['chart-rss', 'chart-dbsize']);

  function yRange(floating) {
    return (u, min, max) => {
      if (!isNum(min) || !isNum(max)) return [0, 1];
      if (!floating) return [0, max > 0 ? max * 1.1 : 1];
      const pad = Math.max((max - min) * 0.1, Math.abs(max) * 0.002, 0.1);
      return [Math.max(0, min - pad), max + pad];
    };
  }

  function makeOptions(node, defs, floating) {
    const axisStyle = {
      stroke: '#616e7c',
      grid: { stroke: '#eef1f4', width: 1 },
      ticks: { stroke: '#dfe3e8', width: 1 },
      font: '11px system-ui, sans-serif',
    };
    return {
      width: chartWidth(node),
      height: 200,
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { x: { time: true }, y: { range: yRange(floating) } },
      axes: [axisStyle, { ...axisStyle, size: 50, values: tickValues }],
      series: [
        {},
        ...defs.map(([label, , color, , fill]) => ({
          label,
          stroke: COLORS[color],
          width: 1.5,
          fill: fill ? FILLS[fill] : undefined,
          spanGaps: false,
          points: { show: sparsePoints, size: 5 },
          value: (u, v) => (isNum(v) ? axisValue(Math.round(v * 100) / 100) : DASH),
        })),
      ],
    };
  }

  function renderCharts(data) {
    const times = Array.isArray(data.times) ? data.times : [];
    const series = data.series || {};
    const haveUplot = typeof window.uPlot === 'function';
    for (const [id, defs] of Object.entries(CHARTS)) {
      const node = document.getElementById(id);
      if (!node) continue;
      if (!haveUplot) {
        node.replaceChildren(el('div', { class: 'chart-empty' }, 'charts unavailable (uPlot did not load)'));
        continue;
      }
      const columns = [times];
      for (const [, key, , transform] of defs) {
        const values = Array.isArray(series[key]) ? series[key] : [];
        const column = times.map((_, i) => {
          const v = values[i];
          if (!isNum(v)) return null;
          return transform ? transform(v) : v;
        });
        columns.push(column);
      }
      const existing = state.charts[id];
      if (existing) {
        existing.setData(columns);
      } else {
        node.replaceChildren();
        state.charts[id] = new window.uPlot(makeOptions(node, defs, FLOATING_Y.has(id)), columns, node);
      }
    }
  }

  function resizeCharts() {
    for (const [id, chart] of Object.entries(state.charts)) {
      const node = document.getElementById(id);
      if (node) chart.setSize({ width: chartWidth(node), height: 200 });
    }
  }

  // ------------------------------------------------------------------ start

  function start() {
    readQuery();
    const envSelect = $('#environment');
    const rangeSelect = $('#range');
    envSelect.value = state.environment;
    rangeSelect.value = state.range;
    envSelect.addEventListener('change', () => {
      state.environment = envSelect.value;
      writeQuery();
      load();
    });
    rangeSelect.addEventListener('change', () => {
      state.range = rangeSelect.value;
      writeQuery();
      load();
    });
    $('#refresh').addEventListener('click', () => load());
    $('#controls').addEventListener('submit', (event) => event.preventDefault());
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(resizeCharts, 150);
    });
    document.addEventListener('visibilitychange', () => {
      // A tab that comes back after a while shows fresh numbers at once.
      if (!document.hidden && state.lastSuccess && Date.now() - state.lastSuccess.getTime() > REFRESH_MS) {
        load();
      }
    });
    load();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

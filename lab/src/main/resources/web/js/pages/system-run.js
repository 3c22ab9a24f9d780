// One page that starts a bounded run of a system (crawl, etl) and follows it live; js/pages/crawl.js and
// js/pages/etl.js describe their system to it (counters, progress bar, chart quantity, summary rows, extra
// actions). The form is built from the bounds the server sends (GET /api/systems/{key}); the server checks every
// value again. Progress comes over server-sent events (watchSystemRun), the chart is redrawn at most once a second,
// and the summary table is filled from the `done` event. The page's signal stops following, the timer and the
// requests; the run itself goes on (coming back to the page follows it again). Every datum goes in as text.
//
// Stable selectors: section[data-system-run=KEY], [data-param=NAME], button[data-action=start|cancel|crash],
// .system-progress (progress[data-progress], dd[data-counter=NAME]), .system-chart, .system-notice,
// .system-error, .system-summary table (tr[data-row=NAME]), [data-status] on the section once a run has ended.

import { ApiError, cancelSystemRun, getSystem, startSystemRun, watchSystemRun } from '../api.js';
import { formatNumber, h } from '../dom.js';
import { fillCharts } from '../viz.js';

const CHART_EVERY_MS = 1000;

/** Links css/systems.css once (the shell does not). */
function linkStylesheet() {
  const href = new URL('../../css/systems.css', import.meta.url).href;
  if (![...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === href)) {
    document.head.append(h('link', { rel: 'stylesheet', href }));
  }
}

function field(param) {
  const id = `sys-param-${param.name}`;
  const control = param.kind === 'choice'
    ? h('select', { id, name: param.name, dataset: { param: param.name } },
      param.choices.map((c) => h('option', { value: c, selected: c === param.default }, c)))
    : h('input', { id, name: param.name, type: 'number', inputmode: param.kind === 'int' ? 'numeric' : 'decimal',
      min: String(param.min), max: String(param.max), step: param.kind === 'int' ? '1' : 'any',
      value: String(param.default), required: true, dataset: { param: param.name } });
  const bounds = param.kind === 'choice' ? param.choices.join(' · ') : `${param.min} … ${param.max}`;
  return h('div', { class: 'param' },
    h('label', { for: id }, param.name),
    control,
    h('p', { class: 'hint' }, `${param.description} (${bounds})`));
}

function summaryTable(rows) {
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': 'Summary of the run' },
    h('table', {},
      h('tbody', {}, rows.map(([name, label, value]) => h('tr', { dataset: { row: name } },
        h('th', { scope: 'row' }, label), h('td', { class: 'num' }, value))))));
}

/**
 * Fills el with the run page of system (from GET /api/systems). spec: {intro, counters: [[name, label, fn(p)]],
 * bar(p) → {value, max, text} | null, chart: {name, yLabel, quantity(p) → number | null}, summary(s, state) →
 * [[name, label, text]], notice(state) → text, actions: [{action, label, extra, hint}]}.
 */
export async function systemRunPage(el, system, signal, spec) {
  linkStylesheet();
  let detail;
  try {
    detail = await getSystem(system.key, signal);
  } catch (e) {
    if (!signal.aborted) {
      el.replaceChildren(h('p', { class: 'error system-error', role: 'alert' }, e.message));
    }
    return;
  }
  if (signal.aborted) {
    return;
  }
  const form = h('form', { class: 'params', novalidate: true }, detail.params.map(field));
  const start = h('button', { type: 'submit', class: 'primary', dataset: { action: 'start' } }, 'Start');
  const extras = (spec.actions ?? []).map((a) => h('button', { type: 'button', dataset: { action: a.action },
    title: a.hint ?? null }, a.label));
  const cancel = h('button', { type: 'button', hidden: true, dataset: { action: 'cancel' } }, 'Cancel');
  const error = h('p', { class: 'error system-error', role: 'alert', hidden: true });
  const notice = h('p', { class: 'notice system-notice', role: 'status', 'aria-live': 'polite' });
  const bar = h('progress', { max: '1', value: '0', dataset: { progress: system.key }, 'aria-label': 'Progress' });
  const barText = h('p', { class: 'progress-text' });
  const counters = new Map(spec.counters.map(([name]) => [name, h('dd', { dataset: { counter: name } }, '—')]));
  const chart = h('div', { class: 'charts system-chart' });
  const progress = h('div', { class: 'system-progress', hidden: true },
    h('div', { class: 'system-bar' }, bar, barText),
    h('dl', { class: 'system-counters' }, spec.counters.map(([name, label]) => h('div', {},
      h('dt', {}, label), counters.get(name)))),
    chart);
  const summary = h('div', { class: 'system-summary', hidden: true });
  const section = h('section', { class: 'system-run', dataset: { systemRun: system.key },
    'aria-label': `Run the ${system.key} system` },
    spec.intro ?? null,
    form,
    h('div', { class: 'system-actions' }, start, extras, cancel,
      h('span', { class: 'hint' }, `Each run stops after ${detail.timeoutSeconds} s at most.`)),
    error, notice, progress, summary);
  el.replaceChildren(section);

  let current = null;
  let stopWatching = () => {};
  let points = [];
  let last = null;
  let chartTimer = 0;
  let chartDirty = false;
  signal.addEventListener('abort', () => {
    stopWatching();
    clearTimeout(chartTimer);
  }, { once: true });

  const drawChart = () => {
    chartTimer = 0;
    if (!chartDirty || signal.aborted) {
      return;
    }
    chartDirty = false;
    fillCharts(chart, [{ chart: spec.chart.name, name: spec.chart.name, xLabel: 'seconds since start',
      yLabel: spec.chart.yLabel, points }], [], signal);
  };
  const busy = (running) => {
    start.disabled = running;
    extras.forEach((b) => { b.disabled = running; });
    cancel.hidden = !running;
    cancel.disabled = false;
  };
  const onProgress = (p) => {
    progress.hidden = false;
    for (const [name, , fn] of spec.counters) {
      counters.get(name).textContent = fn(p);
    }
    const b = spec.bar(p);
    if (b) {
      bar.max = b.max;
      bar.value = b.value;
      barText.textContent = b.text;
    } else {
      bar.removeAttribute('value');
      barText.textContent = p.phase ?? '';
    }
    const q = spec.chart.quantity(p);
    const now = performance.now();
    if (q !== null && last && q >= last.q && now > last.t) {
      points.push({ x: (now - current.startedAt) / 1000, y: (q - last.q) / ((now - last.t) / 1000) });
      chartDirty = true;
      chartTimer ||= setTimeout(drawChart, CHART_EVERY_MS);
    }
    last = q === null ? null : { q, t: now };
  };
  const onDone = (state) => {
    if (state.progress) {
      onProgress(state.progress); // the last report, which the stream may have skipped for the done event
    }
    busy(false);
    current = null;
    section.dataset.status = state.status;
    notice.textContent = spec.notice(state);
    chartDirty = true;
    drawChart();
    if (state.summary) {
      summary.replaceChildren(h('h2', {}, 'Summary'), summaryTable(spec.summary(state.summary, state)));
      summary.hidden = false;
    }
    if (state.error) {
      error.textContent = state.error;
      error.hidden = false;
    }
  };
  const follow = (run) => {
    current = { id: run.id, startedAt: performance.now() };
    points = [];
    last = null;
    busy(true);
    delete section.dataset.status;
    summary.hidden = true;
    chart.replaceChildren();
    notice.textContent = `Run ${run.id} started.`;
    stopWatching = watchSystemRun(system.key, run.id, {
      onProgress,
      onDone,
      onLost: (message) => {
        busy(false);
        current = null;
        error.textContent = message;
        error.hidden = false;
      },
    });
  };
  const launch = async (extra) => {
    error.hidden = true;
    const params = {};
    for (const control of form.querySelectorAll('[data-param]')) {
      params[control.dataset.param] = control.value.trim();
      control.removeAttribute('aria-invalid');
    }
    try {
      follow(await startSystemRun(system.key, params, extra));
    } catch (e) {
      busy(false);
      error.textContent = e instanceof ApiError ? `Refused: ${e.message}` : String(e);
      error.hidden = false;
      const bad = e instanceof ApiError && /^parameter (\w+)/.exec(e.message);
      const control = bad && form.querySelector(`[data-param="${bad[1]}"]`);
      if (control) {
        control.setAttribute('aria-invalid', 'true');
        control.focus();
      }
    }
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    launch({});
  });
  start.addEventListener('click', (e) => {
    e.preventDefault();
    launch({});
  });
  (spec.actions ?? []).forEach((a, i) => extras[i].addEventListener('click', () => launch(a.extra)));
  cancel.addEventListener('click', async () => {
    if (!current) {
      return;
    }
    cancel.disabled = true;
    notice.textContent = 'Cancelling…'; // before the request: the done event may come before its answer
    try {
      await cancelSystemRun(system.key, current.id);
    } catch (e) {
      error.textContent = e.message;
      error.hidden = false;
    }
  });
  if (detail.running) {
    follow(detail.running);
  }
}

/** A number for a counter or a table cell. */
export const num = (v) => (typeof v === 'number' ? formatNumber(v) : '—');

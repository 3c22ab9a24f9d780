// The jobs system's page (#/systems/jobs): the broker's queues, counters, tasks in flight and dead letters (what
// `./conclab jobs inspect` shows), the DAGs with their newest runs (what `jobs runs` lists), and the Gantt chart of
// the run picked, drawn by js/timeline.js from the Chrome Trace Events `jobs trace` writes. Read only: the page
// only GETs. It refreshes on the button and every few seconds while it is open (and the tab is visible); the
// page's signal stops the timer and any request in flight. Every datum goes in as text (h() never parses HTML).
//
// Stable selectors for tests: section[data-jobs=queues|dead-letters|dags|gantt], tr[data-queue=NAME],
// li.jobs-run[data-run-id=ID] > button, button[data-action=refresh], input[name=auto-refresh], .jobs-hint,
// .jobs-updated, .jobs-gantt .timeline, tr[data-task=ID].

import { getJobsDags, getJobsQueues, getJobsTrace } from '../api.js';
import { ago, formatInstant, formatNumber, h } from '../dom.js';
import { fillTimeline } from '../viz.js';

/** Runs listed per DAG before the older ones fold under a disclosure. */
const SHOWN_RUNS = 3;

/** How often the page refreshes itself while open. */
const REFRESH_MS = 5000;

/** Run and task-instance states as badges: a symbol and the word, never colour alone. */
const STATE_BADGES = {
  success: ['status-answered', '✓'],
  failed: ['run-failed', '✗'],
  upstream_failed: ['run-failed', '✗'],
  up_for_retry: ['run-cancelled', '↻'],
  skipped: ['run-cancelled', '–'],
  running: ['coming', '▶'],
  queued: ['coming', '…'],
  scheduled: ['coming', '…'],
  none: ['coming', '○'],
};

function stateBadge(state) {
  const [cls, symbol] = STATE_BADGES[state] ?? ['coming', '•'];
  return h('span', { class: `badge ${cls}`, dataset: { state } }, `${symbol} ${state.replaceAll('_', ' ')}`);
}

/** Links css/jobs.css once (the shell does not). */
function linkStylesheet() {
  const href = new URL('../../css/jobs.css', import.meta.url).href;
  if (![...document.querySelectorAll('link[rel=stylesheet]')].some((l) => l.href === href)) {
    document.head.append(h('link', { rel: 'stylesheet', href }));
  }
}

/** Replaces el's children with the given ones, arrays flattened and null/undefined/false skipped (as h() does). */
function fill(el, ...children) {
  el.replaceChildren(...h('div', {}, children).childNodes);
}

/** A scrollable table named for screen readers (the lab's .table-wrap); rows are tr elements. */
function table(label, headers, rows, numeric = []) {
  return h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-label': label },
    h('table', {},
      h('thead', {}, h('tr', {}, headers.map((name, i) => h('th', { class: numeric.includes(i) ? 'num' : null,
        scope: 'col' }, name)))),
      h('tbody', {}, rows)));
}

function row(cells, numeric = [], dataset = undefined) {
  return h('tr', { dataset }, cells.map((cell, i) => h('td', { class: numeric.includes(i) ? 'num' : null }, cell)));
}

/** "in 12 s" or "lapsed" for a reservation's visibleAgainMillis. */
function visibleAgain(millis) {
  const left = millis - Date.now();
  return left <= 0 ? 'lapsed: redelivered on the next fetch' : `visible again in ${Math.ceil(left / 1000)} s`;
}

function when(iso) {
  return iso ? `${formatInstant(iso)} (${ago(iso)})` : '—';
}

function hint(text) {
  return text ? h('p', { class: 'notice jobs-hint', role: 'status' }, text) : null;
}

function renderQueues(section, data) {
  const stats = data.stats ?? {};
  const queued = Object.entries(stats.queued ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const inFlight = stats.inFlight ?? [];
  const counters = [
    ['Queued (ready or delayed)', queued.reduce((sum, [, n]) => sum + n, 0)],
    ['In flight (reserved)', inFlight.length],
    ['Delivered', stats.delivered ?? 0],
    ['Redelivered', stats.redelivered ?? 0],
    ['Duplicates dropped', stats.duplicates ?? 0],
    ['Succeeded', stats.succeeded ?? 0],
    ['Failed', stats.failed ?? 0],
    ['Dead letters', stats.deadLetters ?? 0],
  ];
  fill(section,
    h('h2', { id: 'jobs-queues-title' }, 'Queues'),
    h('p', { class: 'hint' }, 'Broker ', h('code', {}, data.broker ?? '?'),
      ' — what ', h('code', {}, './conclab jobs inspect'), ' shows.'),
    hint(data.hint),
    queued.length === 0 ? h('p', { class: 'empty' }, 'No task is waiting in any queue.')
      : table('Tasks waiting per queue', ['Queue', 'Waiting'],
        queued.map(([name, n]) => row([name, formatNumber(n)], [1], { queue: name })), [1]),
    h('h3', { id: 'jobs-counters-title' }, 'By state, since the store was created'),
    table('Task counts by state', ['State', 'Tasks'],
      counters.map(([name, n]) => row([name, formatNumber(n)], [1], { counter: name })), [1]),
    h('h3', {}, 'In flight'),
    inFlight.length === 0 ? h('p', { class: 'empty' }, 'No task is reserved by a worker.')
      : table('Tasks reserved by workers', ['Task', 'Name', 'Held by', 'Reservation'],
        inFlight.map((f) => row([h('code', {}, f.taskId), f.name, f.consumer, visibleAgain(f.visibleAgainMillis)],
          [], { task: f.taskId }))));
}

function renderDeadLetters(section, data) {
  const dead = data.deadLetters ?? [];
  const total = data.stats?.deadLetters ?? dead.length;
  fill(section,
    h('h2', {}, 'Dead letters'),
    h('p', { class: 'hint' }, total > dead.length ? `The newest ${dead.length} of ${formatNumber(total)}.`
      : 'Tasks that failed every retry, newest first.'),
    dead.length === 0 ? h('p', { class: 'empty' }, 'None.')
      : table('Dead-lettered tasks', ['Task', 'Name', 'Arguments', 'Attempts', 'Last error',
        'Failed'], dead.map((r) => row([h('code', {}, r.id), r.name, h('code', {}, r.argsJson ?? ''),
        formatNumber((r.attempt ?? 0) + 1), r.error ?? '', when(r.finishedMillis ? new Date(r.finishedMillis)
          .toISOString() : null)], [3], { task: r.id })), [3]));
}

function taskSummary(taskStates) {
  return Object.entries(taskStates ?? {}).map(([state, n]) => `${n} ${state.replaceAll('_', ' ')}`).join(', ');
}

function renderDags(section, data, selected, onPick) {
  const dags = data.dags ?? [];
  fill(section,
    h('h2', {}, 'DAG runs'),
    h('p', { class: 'hint' }, 'Runs in ', h('code', {}, data.store ?? '?'), ' — what ',
      h('code', {}, './conclab jobs runs DAG'), ' lists, newest first. The newest run is drawn below (and followed) until you pick one.'),
    hint(data.hint),
    dags.length === 0 ? h('p', { class: 'empty' }, 'No DAG is defined.') : null,
    dags.map((dag) => h('div', { class: 'jobs-dag', dataset: { dag: dag.id } },
      h('h3', {}, h('code', {}, dag.id), ' ',
        h('span', { class: 'hint' }, dag.note ? dag.note : dag.schedule ? `schedule ${dag.schedule}` : 'trigger only', ' · ',
          `${dag.tasks.length} task${dag.tasks.length === 1 ? '' : 's'}`, ' · ',
          `${formatNumber(dag.totalRuns)} run${dag.totalRuns === 1 ? '' : 's'}`)),
      dag.runs.length === 0 ? h('p', { class: 'empty' }, `No runs yet: ./conclab jobs trigger ${dag.id}`)
        : runList(dag.runs, selected, onPick))));
}

/** The first SHOWN_RUNS runs as buttons, the rest (and the one picked, if among them) under a disclosure. */
function runList(runs, selected, onPick) {
  const item = (run) => h('li', { class: 'jobs-run', dataset: { runId: run.runId } },
    h('button', { type: 'button', 'aria-pressed': String(run.runId === selected), onclick: () => onPick(run.runId) },
      stateBadge(run.state), h('code', {}, run.runId), h('span', { class: 'hint' }, taskSummary(run.taskStates))));
  const first = runs.slice(0, SHOWN_RUNS);
  const rest = runs.slice(SHOWN_RUNS);
  return [
    h('ul', { class: 'jobs-runs' }, first.map(item)),
    rest.length === 0 ? null : h('details', { class: 'jobs-more', open: rest.some((r) => r.runId === selected) },
      h('summary', {}, `${rest.length} older run${rest.length === 1 ? '' : 's'}`),
      h('ul', { class: 'jobs-runs' }, rest.map(item))),
  ];
}

function findRun(dags, runId) {
  for (const dag of dags?.dags ?? []) {
    const run = dag.runs.find((r) => r.runId === runId);
    if (run) {
      return run;
    }
  }
  return null;
}

/** The run created last over every DAG, shown until the reader picks another. */
function newestRun(dags) {
  let newest = null;
  for (const dag of dags?.dags ?? []) {
    for (const run of dag.runs) {
      if (!newest || Date.parse(run.created) > Date.parse(newest.created)) {
        newest = run;
      }
    }
  }
  return newest;
}

function renderGanttHead(section, run) {
  fill(section,
    h('h2', { id: 'jobs-gantt-title' }, 'Gantt chart'),
    h('p', {}, stateBadge(run.state), ' ', h('code', {}, run.runId)),
    h('p', { class: 'hint' }, `${run.type} run · logical date ${formatInstant(run.logicalDate)} · started `,
      when(run.started), ' · ended ', when(run.ended)),
    table(`Task instances of ${run.runId}`, ['Task', 'State', 'Try', 'Worker', 'Error'],
      run.tasks.map((t) => row([h('code', {}, t.taskId), stateBadge(t.state), formatNumber(t.tryNumber),
        t.worker ?? '—', t.error ?? ''], [2], { task: t.taskId })), [2]));
}

/** The jobs page: fills el and keeps it fresh until signal fires. */
export function jobsPage(el, system, signal) {
  linkStylesheet();
  const toolbar = h('div', { class: 'actions jobs-toolbar' });
  const queues = h('section', { dataset: { jobs: 'queues' }, 'aria-live': 'off' }, h('p', { class: 'loading' },
    'Reading the broker…'));
  const dead = h('section', { dataset: { jobs: 'dead-letters' } });
  const dags = h('section', { dataset: { jobs: 'dags' } }, h('p', { class: 'loading' }, 'Reading the DAG runs…'));
  const gantt = h('section', { class: 'jobs-gantt', dataset: { jobs: 'gantt' }, hidden: true });
  const ganttBody = h('div', {});
  const timeline = h('div', { class: 'timeline' });
  const ganttNote = h('p', { class: 'hint', role: 'status' });
  gantt.append(ganttBody, ganttNote, timeline);
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const updated = h('span', { class: 'hint jobs-updated' });
  const auto = h('input', { type: 'checkbox', name: 'auto-refresh', id: 'jobs-auto', checked: true });
  const refreshButton = h('button', { type: 'button', dataset: { action: 'refresh' } }, 'Refresh');
  toolbar.append(refreshButton,
    h('label', { for: 'jobs-auto' }, auto,
      `Refresh every ${REFRESH_MS / 1000} s`),
    updated);
  el.append(toolbar, error, queues, dead, dags, gantt);

  let selected = null;
  let picked = false;
  const last = { queues: '', dags: '', trace: '' };
  let dagsData = null;
  let busy = null;

  const drawTrace = async (runId, force) => {
    const trace = await getJobsTrace(runId, signal);
    if (signal.aborted || runId !== selected) {
      return;
    }
    const text = JSON.stringify(trace);
    if (!force && text === last.trace) {
      return;
    }
    last.trace = text;
    const events = Array.isArray(trace?.traceEvents) ? trace.traceEvents : [];
    const bars = events.filter((e) => e.ph === 'X').length;
    ganttNote.textContent = bars === 0 ? 'No task of this run has started yet.'
      : `${bars} task tr${bars === 1 ? 'y' : 'ies'}, one lane per worker. Keys inside the chart: + − zoom, arrows`
        + ' pan, 0 fits, n / p step through the bars.';
    if (bars === 0) {
      timeline.replaceChildren();
      return;
    }
    await fillTimeline(timeline, events, `${runId.replaceAll(/[^A-Za-z0-9_.-]+/g, '_')}-gantt.json`, signal);
  };

  const showRun = (force) => {
    const run = findRun(dagsData, selected);
    gantt.hidden = !run;
    if (!run) {
      return Promise.resolve();
    }
    renderGanttHead(ganttBody, run);
    return drawTrace(run.runId, force);
  };

  const pick = (runId) => {
    picked = true;
    selected = runId;
    renderDags(dags, dagsData, selected, pick);
    dags.querySelector(`li.jobs-run[data-run-id="${CSS.escape(runId)}"] button`)?.focus();
    showRun(true).catch(fail);
    gantt.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
  };

  function fail(e) {
    if (e?.name === 'AbortError' || signal.aborted) {
      return;
    }
    error.hidden = false;
    error.textContent = e?.message ?? String(e);
  }

  const refresh = async () => {
    const [q, d] = await Promise.all([getJobsQueues(signal), getJobsDags(signal)]);
    if (signal.aborted) {
      return;
    }
    error.hidden = true;
    const qText = JSON.stringify(q);
    if (qText !== last.queues) {
      last.queues = qText;
      renderQueues(queues, q);
      renderDeadLetters(dead, q);
    }
    const dText = JSON.stringify(d);
    dagsData = d;
    if (!picked) {
      selected = newestRun(d)?.runId ?? null; // follow the newest run until the reader picks one
    }
    if (dText !== last.dags) {
      last.dags = dText;
      const focused = document.activeElement?.closest?.('li.jobs-run')?.dataset.runId;
      renderDags(dags, d, selected, pick);
      if (focused) {
        dags.querySelector(`li.jobs-run[data-run-id="${CSS.escape(focused)}"] button`)?.focus();
      }
      await showRun(false);
    } else if (['queued', 'running'].includes(findRun(d, selected)?.state)) {
      await drawTrace(selected, false); // a run still going: its bars grow
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}`;
  };

  const refreshOnce = () => {
    busy ??= refresh().catch(fail).finally(() => {
      busy = null;
    });
    return busy;
  };

  refreshButton.addEventListener('click', refreshOnce);
  const timer = setInterval(() => {
    if (auto.checked && !document.hidden) {
      refreshOnce();
    }
  }, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  refreshOnce();
}

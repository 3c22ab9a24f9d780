// DEV ONLY: a stand-in for the lab's JSON API, used when a page is opened with ?fixtures=1 (see js/api.js). It
// answers from dev/fixtures/*.json, which lab/src/dev/MakeFixtures.java writes from the real catalog and the
// real stored results, so the pages can be built and screenshot without the server:
//
//   python3 -m http.server 18082 -d lab/src/main/resources/web
//   chromium --headless --no-sandbox --screenshot=/tmp/card.png --window-size=1280,900 \
//       'http://127.0.0.1:18082/?fixtures=1#/card/basics-04'
//
// What it fakes, and how:
// - GET /api/catalog, /api/systems: catalog.json, systems.json.
// - GET /api/cards/{id}: card-{id}.json; only a few cards have a fixture (index.json lists them), the rest 404.
// - GET /api/search: a crude search over the catalog's questions only (the real one also reads the answers).
// - GET /api/experiments[/{id}], /api/results/{id}/latest: from the experiments of the card fixtures.
// - Runs: POST /api/runs checks the values against the declared bounds with the engine's words (400), allows one
//   run per experiment (409) and two at once (429); a run reports progress for 4 s (quick) or 15 s (full), then
//   ends with the experiment's stored record re-dated (so its numbers are the stored ones, not new measurements);
//   DELETE cancels it (status CANCELLED, claims SKIPPED). Events are delivered by watch(), not EventSource.
// The real server is the reference: when this file and the contract disagree, the contract wins.

import { ApiError } from '../js/errors.js';

const BASE = new URL('./fixtures/', import.meta.url);
const CAP = 2;
const files = new Map();
const experiments = new Map();
const runs = new Map();
let nextRun = 1;

async function file(name) {
  if (!files.has(name)) {
    files.set(name, fetch(new URL(name, BASE)).then((r) => (r.ok ? r.json() : null)));
  }
  return files.get(name);
}

async function card(id) {
  if (!/^[a-z]+-\d+$/.test(id)) {
    throw new ApiError(404, `unknown card '${id}'`);
  }
  const found = await file(`card-${id}.json`);
  if (!found) {
    const index = (await file('index.json')) ?? { cards: [] };
    throw new ApiError(404, `unknown card '${id}' (the fixtures hold ${index.cards.join(', ')})`);
  }
  for (const view of found.experiments) {
    experiments.set(view.id, view);
  }
  return found;
}

async function experiment(id) {
  if (!experiments.has(id)) {
    const index = (await file('index.json')) ?? { cards: [] };
    await Promise.all(index.cards.map(card));
  }
  const view = experiments.get(id);
  if (!view) {
    throw new ApiError(404, `unknown experiment '${id}'`);
  }
  return view;
}

async function search(query) {
  const catalog = await file('catalog.json');
  const words = (query.get('q') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const status = query.get('status');
  const python = query.get('python');
  const results = catalog.sections.flatMap((s) => s.cards.map((c) => ({ ...c, section: s.key })))
    .filter((c) => words.every((w) => c.question.toLowerCase().includes(w)))
    .filter((c) => !status || c.status === status)
    .filter((c) => python === null || String(c.python) === python)
    .map((c) => ({ id: c.id, question: c.question, section: c.section, status: c.status,
      snippet: `… ${c.question} …` }));
  return { query: query.get('q') ?? '', results };
}

function parseValues(view, given) {
  const known = view.params.map((p) => p.name);
  for (const name of Object.keys(given ?? {})) {
    if (!known.includes(name)) {
      throw new ApiError(400, `unknown parameter '${name}' (it takes ${known.join(', ')})`);
    }
  }
  const values = {};
  for (const p of view.params) {
    const raw = given?.[p.name];
    if (raw === undefined) {
      continue;
    }
    if (p.kind === 'choice') {
      if (!p.choices.includes(String(raw).trim())) {
        throw new ApiError(400, `parameter ${p.name}=${raw} is not allowed (allowed: ${p.choices.join('|')})`);
      }
      values[p.name] = String(raw).trim();
    } else {
      const text = String(raw).trim().replaceAll('_', '');
      if (!/^[-+]?\d+$/.test(text)) {
        throw new ApiError(400, `parameter ${p.name}=${raw} is not an integer (allowed: ${p.min}..${p.max})`);
      }
      const n = Number(text);
      if (n < p.min || n > p.max) {
        throw new ApiError(400, `parameter ${p.name}=${raw} is out of range (allowed: ${p.min}..${p.max})`);
      }
      values[p.name] = n;
    }
  }
  return values;
}

function emit(run, kind, data) {
  for (const listener of run.listeners) {
    listener[kind](data);
  }
}

function finish(run, status) {
  clearInterval(run.timer);
  const stored = run.view.latest;
  const seconds = (Date.now() - run.started) / 1000;
  const result = stored?.result ?? { tables: [], series: [], notes: [], trace: [], claims: [] };
  const claims = status === 'CANCELLED'
    ? run.view.claims.map((c) => ({ ...c, verdict: { verdict: 'SKIPPED', detail: 'the run was cancelled' } }))
    : result.claims;
  run.record = {
    ...(stored ?? {}),
    experiment: run.view.id,
    title: run.view.title,
    params: run.params,
    quick: run.quick,
    status,
    error: status === 'CANCELLED' ? 'cancelled by the user' : null,
    startedAt: new Date(run.started).toISOString(),
    seconds,
    result: status === 'CANCELLED' ? { tables: [], series: [], notes: [], trace: [], claims } : result,
  };
  run.state = 'done';
  emit(run, 'onDone', run.record);
  run.listeners.clear();
}

async function start(body) {
  if (!body || typeof body.experiment !== 'string') {
    throw new ApiError(400, 'the body must be {"experiment": ID, "params": {...}, "quick": true|false}');
  }
  const view = await experiment(body.experiment);
  const values = parseValues(view, body.params);
  const running = [...runs.values()].filter((r) => r.state === 'running');
  const same = running.find((r) => r.view.id === view.id);
  if (same) {
    throw new ApiError(409, `${view.id} is already running (run ${same.id}); wait for it or cancel it`);
  }
  if (running.length >= CAP) {
    throw new ApiError(429, `${running.length} runs are already running (the cap is ${CAP}); try again when one ends`);
  }
  const quick = body.quick === true;
  const params = Object.fromEntries(view.params.map((p) => [p.name, values[p.name] ?? (quick ? p.quick : p.default)]));
  const run = { id: `r-fixture-${nextRun++}`, view, params, quick, state: 'running', started: Date.now(),
    progress: { fraction: 0, message: 'starting' }, record: null, listeners: new Set() };
  const steps = quick ? 16 : 60;
  let step = 0;
  run.timer = setInterval(() => {
    step += 1;
    if (step >= steps) {
      finish(run, 'COMPLETED');
      return;
    }
    run.progress = { fraction: step / steps, message: `step ${step} of ${steps} (fixture run)` };
    emit(run, 'onProgress', run.progress);
  }, 250);
  runs.set(run.id, run);
  return { id: run.id, experiment: view.id, state: 'running', events: `/api/runs/${run.id}/events` };
}

function known(id) {
  const run = runs.get(id);
  if (!run) {
    throw new ApiError(404, `unknown run '${id}'`);
  }
  return run;
}

/** Answers one API call as the server would, or throws ApiError. */
export async function request(method, path, body) {
  const url = new URL(path, location.origin);
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const route = `${method} /${parts.slice(0, 2).join('/')}${parts.length > 2 ? '/*' : ''}${parts.length > 3 ? '/*' : ''}`;
  switch (route) {
    case 'GET /api/catalog':
      return file('catalog.json');
    case 'GET /api/systems':
      return file('systems.json');
    case 'GET /api/search':
      return search(url.searchParams);
    case 'GET /api/cards/*':
      return card(parts[2]);
    case 'GET /api/experiments':
      return [...experiments.values()];
    case 'GET /api/experiments/*':
      return experiment(parts[2]);
    case 'GET /api/results/*/*': {
      const view = await experiment(parts[2]);
      if (parts[3] !== 'latest' || !view.latest) {
        throw new ApiError(404, `no stored result for ${parts[2]}`);
      }
      return view.latest;
    }
    case 'POST /api/runs':
      return start(body);
    case 'GET /api/runs/*': {
      const run = known(parts[2]);
      return { id: run.id, experiment: run.view.id, state: run.state, progress: run.progress, record: run.record };
    }
    case 'DELETE /api/runs/*': {
      const run = known(parts[2]);
      if (run.state === 'running') {
        clearInterval(run.timer);
        run.progress = { fraction: run.progress.fraction, message: 'cancelling' };
        setTimeout(() => finish(run, 'CANCELLED'), 400);
      }
      return { id: run.id, state: 'cancelling' };
    }
    default:
      throw new ApiError(404, `no fixture answers ${method} ${url.pathname}`);
  }
}

/** Follows a fixture run like the events stream: the current state first, then progress, then done once. */
export function watch(id, { onProgress, onDone }) {
  const run = runs.get(id);
  if (!run) {
    throw new ApiError(404, `unknown run '${id}'`);
  }
  if (run.state === 'done') {
    queueMicrotask(() => onDone(run.record));
    return () => {};
  }
  const listener = { onProgress, onDone };
  run.listeners.add(listener);
  queueMicrotask(() => onProgress(run.progress));
  return () => run.listeners.delete(listener);
}
